"""Reading planners' vector files into the storage CRS, with every trap of Chinese offices' data handled.

Formats: everything GDAL reads through pyogrio (Shapefile, zipped Shapefile, GeoPackage, GeoJSON,
FileGDB, KML/KMZ, FlatGeobuf) and CSV with a WKT column. Encodings are told from the file (see
``geo.encoding``); a file without a CRS is refused unless ``crs`` is given; geometries are repaired or
refused (``geo.validate``); coordinates that do not fall in China are refused as mislabelled (``geo.crs``).

Examples
--------
>>> import tempfile, geopandas as gpd
>>> from shapely import box
>>> folder = Path(tempfile.mkdtemp())
>>> gpd.GeoDataFrame({"宗地编号": ["A-1"]}, geometry=[box(500000, 3100000, 500100, 3100100)],
...                  crs="EPSG:4549").to_file(folder / "p.gpkg")
>>> gdf, report = read_vector(folder / "p.gpkg", storage_epsg=4549)
>>> float(round(gdf.geometry.area.iloc[0], 6)), report.source_crs
(10000.0, 'EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E')
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj.exceptions import CRSError, ProjError

from geo.crs import SourceCRS, parse_crs_option, resolve_source_crs, to_storage
from geo.encoding import (
    detect_dbf_encoding,
    detect_text_file_encoding,
    normalise_encoding_name,
    repair_truncated_utf8_names,
)
from geo.errors import InputError, Problem, ValidationError
from geo.fixes import fix
from geo.io_files import broken_workbook, opened, refuse_nul, unreadable
from geo.validate import RepairReport, repair_polygons, to_multipolygons

__all__ = ["ReadReport", "read_vector", "read_table", "list_layers", "opened"]

_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "图形")


@dataclass
class ReadReport:
    """What reading a file found and did."""

    file: str
    dataset: str = ""
    layer: str | None = None
    driver: str = ""
    encoding: str | None = None
    encoding_how: str | None = None
    source_crs: str = ""
    crs_how: str = ""
    features: int = 0
    repairs: RepairReport = field(default_factory=RepairReport)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The report as plain data, its repairs included (what a load prints as JSON)."""
        d = {k: v for k, v in self.__dict__.items() if k != "repairs"}
        d["repairs"] = self.repairs.as_dict()
        return d


def _choose_layer(dataset: Path, layer: str | None, *, file: str) -> str | None:
    try:
        layers = pyogrio.list_layers(dataset)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise unreadable(file, exc) from exc
    if layer is not None:
        if layer not in layers[:, 0]:
            raise InputError(
                f"没有名为“{layer}”的图层",
                f"no layer named '{layer}'",
                file=file,
                fix_zh="可用图层：" + "、".join(map(str, layers[:, 0])),
                fix_en="layers: " + ", ".join(map(str, layers[:, 0])),
            )
        return layer
    if len(layers) <= 1:
        return None
    polygonal = [
        name
        for name, kind in layers
        if kind is not None and ("Polygon" in str(kind) or "Unknown" in str(kind))
    ]
    if len(polygonal) == 1:
        return str(polygonal[0])
    raise InputError(
        "文件中有多个图层，不知道导入哪一个",
        "the file has several layers; which one to load is unclear",
        file=file,
        **fix("layer", layers=list(map(str, layers[:, 0]))),
    )


def _read_csv_wkt(dataset: Path, *, encoding: str | None, file: str, report: ReadReport) -> gpd.GeoDataFrame:
    if encoding is None:
        encoding, how = detect_text_file_encoding(dataset)
        report.encoding_how = how
    else:
        report.encoding_how = "--encoding"
    report.encoding = encoding
    try:
        df = pd.read_csv(dataset, encoding=encoding.lower(), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise unreadable(file, exc) from exc
    refuse_nul(df, file=file, first_row=1)
    lower = {str(c).strip().lower(): c for c in df.columns}
    column = next((lower[c] for c in _WKT_COLUMNS if c in lower), None)
    if column is None:
        raise InputError(
            "CSV 中没有 WKT 几何列",
            "the CSV has no WKT geometry column",
            file=file,
            fix_zh="几何列命名为 WKT 或 geometry",
            fix_en="name the geometry column WKT or geometry",
        )
    # A short row has no value at all (NaN) in the WKT column: missing, like a blank, and refused as such.
    texts = np.array([t if isinstance(t, str) and t != "" else None for t in df[column]], dtype=object)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN or huge coordinates: refused by the checks after
        geoms = shapely.from_wkt(texts, on_invalid="ignore")
    bad = [i for i, (t, g) in enumerate(zip(texts, geoms, strict=False)) if t is not None and g is None]
    if bad:
        raise ValidationError(
            [Problem(i + 1, None, "WKT 无法解析", "the WKT does not parse") for i in bad], file=file
        )
    report.driver = "CSV (WKT)"
    return gpd.GeoDataFrame(df.drop(columns=[column]), geometry=geoms, crs=None)


def _refuse_invalid_utf8(values: pd.Series, *, column: str, file: str) -> None:
    """Refuse text GDAL passed on that is not UTF-8 (a damaged file, or one in another encoding), naming the rows."""
    chunked = values.array.__arrow_array__()
    if not pa.types.is_string(chunked.type) and not pa.types.is_large_string(chunked.type):
        return
    try:
        chunked.validate(full=True)
        return
    except pa.ArrowInvalid:
        pass
    bad = []
    for pos, scalar in enumerate(chunked):
        try:
            scalar.as_py()
        except UnicodeDecodeError:
            bad.append(pos)
    raise ValidationError(
        [
            Problem(
                pos + 1,
                None,
                f"字段“{column}”的值不是有效的 UTF-8 文本（文件已损坏或为其他编码）",
                f"the value of '{column}' is not valid UTF-8 text (the file is damaged or in "
                "another encoding: give it with --encoding)",
            )
            for pos in bad
        ],
        file=file,
    )


def _read_gdal(
    dataset: Path, *, encoding: str | None, layer: str | None, file: str, report: ReadReport
) -> gpd.GeoDataFrame:
    is_shp = dataset.suffix.lower() == ".shp"
    if is_shp and encoding is None:
        encoding, report.encoding_how = detect_dbf_encoding(dataset)
    elif encoding is not None:
        report.encoding_how = "--encoding"
    report.encoding = encoding if encoding is not None else "UTF-8 (format default)"
    chosen = None if is_shp else _choose_layer(dataset, layer, file=file)
    report.layer = chosen
    with tempfile.TemporaryDirectory(prefix="blockline-dbf-") as tmp:
        if is_shp and encoding is not None and encoding.startswith("UTF-8"):
            mended = repair_truncated_utf8_names(dataset, Path(tmp))
            if mended is not None:
                report.notes.append("UTF-8 field names cut mid-character by the 10-byte limit were shortened")
                dataset = mended
        try:
            info = pyogrio.read_info(dataset, layer=chosen, encoding=encoding)
            report.driver = str(info.get("driver", ""))
            with np.errstate(invalid="ignore", over="ignore"):  # NaN coordinates: refused by the checks after
                gdf = _read_dataframe(dataset, layer=chosen, encoding=encoding, file=file)
        except InputError:
            raise  # already names the rows (text that is not UTF-8)
        except (
            DataSourceError,
            DataLayerError,
            OSError,
            ValueError,
            UnicodeDecodeError,
            shapely.errors.GEOSException,
            UnboundLocalError,
        ) as exc:
            # GEOSException: a corrupted geometry GDAL passed on (e.g. a ring that does not close);
            # UnboundLocalError: pyogrio 0.13's read_info on a .prj that is not UTF-8
            raise unreadable(file, exc) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(
            "文件中没有几何（只有属性表）",
            "the file has no geometry (attributes only)",
            file=file,
            fix_zh="导出带几何的图层",
            fix_en="export a layer with geometry",
        )
    return gdf


def _read_dataframe(dataset: Path, *, layer: str | None, encoding: str | None, file: str) -> gpd.GeoDataFrame:
    """Pyogrio through Arrow (several times faster at city scale), plain pyogrio where Arrow cannot serve."""
    try:
        gdf = pyogrio.read_dataframe(dataset, layer=layer, encoding=encoding, use_arrow=True)
    except (ImportError, NotImplementedError, ValueError, TypeError):
        return pyogrio.read_dataframe(dataset, layer=layer, encoding=encoding)
    if not isinstance(gdf, gpd.GeoDataFrame):
        return gdf  # a table without geometry: refused by the caller
    # Arrow gives pyarrow-backed columns; the checks downstream expect plain pandas/numpy ones.
    for column in gdf.columns:
        if column != gdf.geometry.name and hasattr(gdf[column].array, "__arrow_array__"):
            _refuse_invalid_utf8(gdf[column], column=str(column), file=file)
        if column != gdf.geometry.name and isinstance(gdf[column].dtype, pd.ArrowDtype):
            gdf[column] = gdf[column].astype(object).where(gdf[column].notna(), None)
    return gdf


#: what reading a damaged or mis-encoded table raises besides a damaged workbook's errors: refused as unreadable
_TABLE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    UnicodeDecodeError,
    pd.errors.ParserError,
    OSError,
)


def read_table(
    path: Path | str,
    *,
    encoding: str | None = None,
    display_name: str | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a plain table (CSV or XLSX), telling a CSV's encoding from its bytes.

    A workbook's sheet is ``sheet`` when given; otherwise its only sheet, or the only one of several that is
    not empty. A workbook with several sheets of data is refused, naming them and ``--layer``.
    """
    name = display_name or Path(path).name
    with opened(path, display_name=name) as dataset:
        suffix = dataset.suffix.lower()
        try:
            if suffix in (".xlsx", ".xlsm", ".xls"):
                return _read_sheet(dataset, sheet, file=name)
            if suffix in (".csv", ".txt"):
                enc = normalise_encoding_name(encoding) if encoding else detect_text_file_encoding(dataset)[0]
                table = pd.read_csv(dataset, encoding=enc.lower(), dtype=object, keep_default_na=False)
        except InputError:
            raise  # already says what is wrong (e.g. the encoding cannot be told)
        except _TABLE_ERRORS + broken_workbook() as exc:
            raise unreadable(name, exc) from exc
        if suffix in (".csv", ".txt"):
            refuse_nul(table, file=name, first_row=2)  # rows counted as lines of the file, header first
            return table
    raise InputError(
        "表格须为 CSV 或 XLSX",
        "a table must be CSV or XLSX",
        file=name,
        fix_zh="另存为 CSV（UTF-8）或 XLSX",
        fix_en="save it as CSV (UTF-8) or XLSX",
    )


def _finite_bounds(geoms: gpd.GeoSeries) -> tuple[float, float, float, float] | None:
    """The box of every finite coordinate (NaN and missing geometries left out), or None when there is none."""
    with np.errstate(invalid="ignore", over="ignore"):
        boxes = shapely.bounds(np.asarray(geoms.array, dtype=object))
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if len(boxes) == 0:
        return None
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


def _read_sheet(dataset: Path, sheet: str | None, *, file: str) -> pd.DataFrame:
    """The sheet of a workbook to read (see ``read_table``)."""
    sheets = pd.read_excel(dataset, dtype=object, sheet_name=None)
    if sheet is not None:
        if sheet not in sheets:
            raise InputError(
                f"没有名为“{sheet}”的工作表",
                f"no sheet named '{sheet}'",
                file=file,
                fix_zh="可用工作表：" + "、".join(sheets),
                fix_en="sheets: " + ", ".join(sheets),
            )
        return sheets[sheet]
    filled = [k for k, v in sheets.items() if not v.dropna(how="all").empty]
    if len(sheets) == 1 or len(filled) <= 1:
        return sheets[filled[0] if filled else next(iter(sheets))]
    raise InputError(
        "工作簿中有多个工作表，不知道导入哪一个",
        "the workbook has several sheets; which one to load is unclear",
        file=file,
        **fix("layer", layers=filled),
    )


def list_layers(path: Path | str, *, display_name: str | None = None) -> list[str]:
    """The layers of a file (a GeoPackage's or FileGDB's layers, a workbook's sheets); [] for one-layer formats."""
    name = display_name or Path(path).name
    with opened(path, display_name=name) as dataset:
        suffix = dataset.suffix.lower()
        if suffix in (".shp", ".csv", ".txt"):
            return []
        try:
            if suffix in (".xlsx", ".xlsm"):
                # lazy: openpyxl's import is 0.1–0.3 s of every command that reads a file (see io_files)
                from openpyxl import load_workbook

                return list(load_workbook(dataset, read_only=True).sheetnames)
            return [str(layer) for layer in pyogrio.list_layers(dataset)[:, 0]]
        except (DataSourceError, DataLayerError, OSError, *broken_workbook()) as exc:
            raise unreadable(name, exc) from exc


def read_vector(
    path: Path | str,
    *,
    storage_epsg: int,
    crs: str | int | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    label_column: str | Callable[[list[str]], str | None] | None = None,
    display_name: str | None = None,
) -> tuple[gpd.GeoDataFrame, ReadReport]:
    """Read a polygon layer and bring it into ``EPSG:storage_epsg`` as clean MultiPolygons.

    Parameters
    ----------
    path
        The file (or a zip holding one dataset).
    storage_epsg
        The projected CRS to return.
    crs
        ``--crs``: an EPSG code, a CRS string, or ``gcj02``; overrides the file's own.
    encoding
        ``--encoding``: needed only when it cannot be told from the file.
    label_column
        A column whose values name the features in problem reports (e.g. the parcel number), or a
        function that picks it from the file's column names.

    Returns
    -------
    (GeoDataFrame, ReadReport)
        Attributes as read (original headers), geometry in the storage CRS, index 0..n-1.

    Raises
    ------
    InputError
        The file cannot be read, has no CRS, or any feature has a problem (``ValidationError`` lists all).
    """
    name = display_name or Path(path).name
    report = ReadReport(file=name)
    option = parse_crs_option(crs)
    gdf = _read_features(path, encoding=encoding, layer=layer, file=name, report=report)
    source = resolve_source_crs(gdf.crs, option, file=name, bounds=_finite_bounds(gdf.geometry))
    report.source_crs, report.crs_how = source.describe(), source.how
    labels = _labels(gdf, label_column)
    stored = _repaired_in_storage(
        gdf, source, storage_epsg=storage_epsg, labels=labels, file=name, report=report
    )
    # Reprojection moves vertices; a polygon that was valid can (rarely) come out invalid. Mend it again.
    geoms = np.asarray(stored.geometry.array)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = to_multipolygons(
            shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        )
        report.notes.append(f"{int(invalid.sum())} feature(s) re-validated after reprojection")
        stored = stored.set_geometry(geoms, crs=stored.crs)
    return stored, report


def _read_features(
    path: Path | str, *, encoding: str | None, layer: str | None, file: str, report: ReadReport
) -> gpd.GeoDataFrame:
    """The features of the file as read (index 0..n-1, the file's CRS); a file without any is refused."""
    enc = normalise_encoding_name(encoding) if encoding else None
    with opened(path, display_name=file) as dataset:
        report.dataset = dataset.name
        if dataset.suffix.lower() == ".csv":
            gdf = _read_csv_wkt(dataset, encoding=enc, file=file, report=report)
        else:
            gdf = _read_gdal(dataset, encoding=enc, layer=layer, file=file, report=report)
    gdf = gdf.reset_index(drop=True)
    report.features = len(gdf)
    if len(gdf) == 0:
        raise InputError(
            "文件中没有要素",
            "the file has no features",
            file=file,
            fix_zh="检查导出的图层是否为空",
            fix_en="check that the exported layer is not empty",
        )
    return gdf


def _labels(
    gdf: gpd.GeoDataFrame, label_column: str | Callable[[list[str]], str | None] | None
) -> list[str] | None:
    """Each feature's name in problem reports (``column=value``), when ``label_column`` names a column."""
    if callable(label_column):
        label_column = label_column([str(c) for c in gdf.columns if c != gdf.geometry.name])
    if label_column is not None and label_column in gdf.columns:
        return [f"{label_column}={v}" for v in gdf[label_column].astype(str)]
    return None


def _repaired_in_storage(
    gdf: gpd.GeoDataFrame,
    source: SourceCRS,
    *,
    storage_epsg: int,
    labels: list[str] | None,
    file: str,
    report: ReadReport,
) -> gpd.GeoDataFrame:
    """The features repaired and brought into the storage CRS; every problem of either refuses the file."""
    fixed, repairs = repair_polygons(gdf.geometry, labels=labels)
    report.repairs = repairs
    problems = list(repairs.problems)
    ok = ~fixed.isna().to_numpy()
    attrs = gdf.drop(columns=[gdf.geometry.name])
    clean = gpd.GeoDataFrame(attrs, geometry=np.asarray(fixed.array), crs=source.crs or "EPSG:4326")
    try:
        stored = to_storage(
            clean[ok],
            source=source,
            storage_epsg=storage_epsg,
            file=file,
            labels=[labels[i] for i in np.flatnonzero(ok)] if labels else None,
        )
    except (ProjError, CRSError) as exc:  # a CRS that parses but cannot be transformed (a damaged .prj)
        why = str(exc).rstrip(".")
        raise InputError(
            f"无法使用文件的坐标系 {report.source_crs}：{why}",
            f"the file's CRS {report.source_crs} cannot be used: {why}",
            file=file,
            **fix("crs"),
        ) from exc
    except ValidationError as exc:
        rows = np.flatnonzero(ok)
        problems += [
            Problem(int(rows[p.row - 1]) + 1 if p.row else None, p.feature, p.zh, p.en) for p in exc.problems
        ]
        stored = None
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationError(problems, file=file)
    assert stored is not None
    return stored
