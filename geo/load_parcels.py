"""Loading parcels: read, check, type, compute areas, then bulk-write in one transaction."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import M2_PER_MU, MU_PER_HECTARE, area_mu
from geo.auth import name_of
from geo.errors import InputError, Problem, ValidationError
from geo.fields import PARCEL_FIELDS, coerce_parcel_columns, map_columns, parse_field_map
from geo.fixes import fix
from geo.io import ReadReport, read_vector
from geo.load_common import (
    _COPY_CHUNK,
    LoadResult,
    Progress,
    _csv_chunk,
    _extra_json,
    _hex_arrow,
    _noop,
    finish_load,
    start_load,
)
from geo.load_counties import AdminRows, _across_counties, _counties_of, admin_rows
from geo.settings import get_settings
from geo.store import driver_connection, storage_srid, transaction
from geo.tiles_cells import cells_of, count_in, refresh_parcel_cells

_AREA_MISMATCH = 0.05  # a file's own area differing from the geometry's by more than this is reported


def _label_column(columns: Sequence[str], field_map: dict[str, str]) -> str | None:
    mapping = map_columns(columns, field_map=field_map)
    return next((src for src, dst in mapping.rename.items() if dst == "parcel_no"), None)


def _source_area_mu(values: pd.Series, header: str, computed_mu: np.ndarray) -> tuple[np.ndarray, str]:
    """A file's own area column in 亩, with the unit told from the header or, failing that, the values."""
    numbers = pd.to_numeric(values.astype(str).str.replace(",", ""), errors="coerce").to_numpy(dtype=float)
    h = header.lower()
    # "ha" as a unit only when it stands alone (面积_ha, area(ha)): not inside a word such as "shape"
    hectares = re.search(r"(?<![a-z])ha(?![a-z])", h) is not None
    factors = {"平方米": 1 / M2_PER_MU, "亩": 1.0, "公顷": MU_PER_HECTARE}
    ok = np.isfinite(numbers) & (numbers > 0)
    with np.errstate(
        over="ignore", divide="ignore", invalid="ignore"
    ):  # absurd values (1e308, 1e-320) are allowed
        if "亩" in h:
            unit = "亩"
        elif "公顷" in h or hectares:
            unit = "公顷"
        elif "平方米" in h or "m2" in h or "㎡" in h:
            unit = "平方米"
        elif not ok.any():
            unit = "?"
        else:
            unit = min(
                factors, key=lambda u: abs(np.log(np.median(numbers[ok] * factors[u] / computed_mu[ok])))
            )
        converted = numbers * factors.get(unit, 1.0)
    return np.where(
        np.isfinite(converted), converted, np.nan
    ), unit  # infinite (or overflowing) is no area: missing


def _note_geometry_fields(report: ReadReport, columns: list[str], field_map: dict[str, str]) -> None:
    """Say in the read report that Esri's geometry fields (Shape_Area, Shape_Leng …) were left out."""
    skipped = map_columns(columns, field_map=field_map).geometry_fields
    if skipped:
        report.notes.append(
            "Esri 几何字段 " + "、".join(skipped) + " 是图形在图层坐标系中的面积/长度（平方米/米），"
            "未作为宗地属性或用地面积 / Esri geometry fields "
            + ", ".join(skipped)
            + " (the shape's area/length in m²/m of the layer's CRS) are not parcel attributes and "
            "not compared as the parcel's area"
        )


def prepare_parcels(
    gdf: gpd.GeoDataFrame,
    *,
    field_map: dict[str, str] | None = None,
    file: str = "",
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """From a file's frame (original headers, storage CRS) to canonical parcels; (parcels, warnings).

    Recognised headers are renamed, values typed, unknown columns kept in ``extra``, ``area_mu`` computed
    from the geometry and the file's own area column (if any) kept as ``source_area_mu`` and compared.
    Raises ``ValidationError`` listing every value and row that cannot be used.
    """
    mapping = map_columns([c for c in gdf.columns if c != gdf.geometry.name], field_map=field_map or {})
    problems = list(mapping.problems)
    if "parcel_no" not in mapping.rename.values():
        raise InputError(
            "找不到宗地编号字段（宗地编号/宗地代码/不动产单元号）",
            "no parcel number field (宗地编号/宗地代码/不动产单元号)",
            file=file,
            **fix("field_map_parcel_no", columns=list(map(str, gdf.columns))),
        )
    renamed = gdf.rename(columns=mapping.rename)
    labels = [f"宗地编号={v}" for v in renamed["parcel_no"].astype(str)]
    typed, value_problems = coerce_parcel_columns(renamed, labels=labels)
    problems += value_problems
    nos = typed["parcel_no"]
    for pos in np.flatnonzero(nos.isna().to_numpy()):
        problems.append(Problem(int(pos) + 1, None, "宗地编号为空", "the parcel number is empty"))
    dup = nos.duplicated(keep=False) & nos.notna()
    for pos in np.flatnonzero(dup.to_numpy()):
        problems.append(
            Problem(
                int(pos) + 1, labels[pos], "宗地编号在文件中重复", "the parcel number appears more than once"
            )
        )
    if "lease_years" in typed.columns:  # the store holds a lease of more than 0 years (0 is not a lease)
        for pos in np.flatnonzero((typed["lease_years"] <= 0).to_numpy()):
            years = typed["lease_years"].iloc[pos]
            problems.append(
                Problem(
                    int(pos) + 1,
                    labels[pos],
                    f"出让年限 {years:g} 年须大于 0",
                    f"field lease_years: {years:g} years is not a lease (it must be more than 0)",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationError(problems, file=file)

    out = gpd.GeoDataFrame(typed, geometry=gdf.geometry.values, crs=gdf.crs)
    out["area_mu"] = area_mu(out).to_numpy()
    warnings: list[str] = []
    if mapping.area_column is not None:
        src_mu, unit = _source_area_mu(
            gdf[mapping.area_column], str(mapping.area_column), out["area_mu"].to_numpy()
        )
        out["source_area_mu"] = src_mu
        diff = np.abs(src_mu - out["area_mu"].to_numpy()) / out["area_mu"].to_numpy()
        big = np.flatnonzero(np.isfinite(diff) & (diff > _AREA_MISMATCH))
        for pos in big[:50]:
            warnings.append(
                f"{labels[pos]}：文件面积 {src_mu[pos]:.2f} 亩（字段 {mapping.area_column}，按{unit}）与图形面积 "
                f"{out['area_mu'].iloc[pos]:.2f} 亩相差 {diff[pos]:.0%} / file area {src_mu[pos]:.2f} mu vs "
                f"geometry {out['area_mu'].iloc[pos]:.2f} mu ({diff[pos]:.0%})"
            )
        if len(big) > 50:
            warnings.append(f"… 另有 {len(big) - 50} 宗面积差异 / {len(big) - 50} more area differences")
    extra_cols = [c for c in mapping.unknown if c in gdf.columns]
    out["extra"] = _extra_json(gdf[extra_cols]) if extra_cols else "{}"
    return out, warnings


_PARCEL_COLUMNS = [*PARCEL_FIELDS, "area_mu", "source_area_mu", "extra"]


@dataclass
class ParcelRows:
    """Canonical parcels made ready to write (``parcel_rows``): the rows ``COPY`` reads, and what goes with them.

    Attributes
    ----------
    table : pyarrow.Table
        The rows, in the staging table's columns (``cell_i``, ``cell_j`` with the cells).
    warnings : list of str
        From placing the parcels in their counties.
    cells : bool
        Whether each row carries the map's cell it counts in (``cell_i``, ``cell_j``: ``cells="add"``).
    rendered : list of bytes, optional
        The rows as CSV already, ``_COPY_CHUNK`` rows a chunk (``parcel_rows(render=True)``); else each chunk is
        written as ``COPY`` asks for it (the memory of one chunk, not of the whole CSV).
    """

    table: pa.Table
    warnings: list[str]
    cells: bool
    rendered: list[bytes] | None = None

    @property
    def total(self) -> int:
        """The rows."""
        return int(self.table.num_rows)

    def chunks(self) -> Iterator[bytes]:
        """The rows as CSV for ``COPY``, ``_COPY_CHUNK`` rows at a time."""
        if self.rendered is not None:
            yield from self.rendered
            return
        for lo in range(0, self.total, _COPY_CHUNK):
            yield _csv_chunk(self.table.slice(lo, _COPY_CHUNK))


def parcel_rows(
    parcels: gpd.GeoDataFrame,
    *,
    areas: AdminRows,
    srid: int,
    load_id: int | None,
    user: str,
    cells: bool = False,
    render: bool = False,
) -> ParcelRows:
    """Canonical parcels (storage CRS ``srid``) as the rows ``write_parcel_rows`` copies; no write.

    Counties are derived from the boundaries (``areas``, as ``geo.load_counties.admin_rows`` reads them) for
    parcels without ``county_code``; a code that names no loaded area is refused. ``cells``: each row's cell of
    the map's squares too (``geo.tiles_cells.cells_of``). ``render``: the CSV written now too. All of it
    Python's work, which a caller may do in a thread of its own while the database writes other rows (the demo).
    """
    if parcels.crs is None or parcels.crs.to_epsg() != srid:
        raise ValueError(f"parcels must be in EPSG:{srid}")
    where = _counties_of(areas, parcels)
    cols = [c for c in _PARCEL_COLUMNS if c in parcels.columns and c != "county_code"]
    frame = pd.DataFrame({c: parcels[c].to_numpy() for c in cols})
    for c in cols:
        if PARCEL_FIELDS.get(c) == "date":
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.strftime("%Y-%m-%d")  # NaT → missing
    if "is_low_efficiency" in frame.columns:
        flags = frame["is_low_efficiency"]
        frame["is_low_efficiency"] = flags.map({True: "t", False: "f"}).where(flags.notna(), None)
    frame["county_code"] = where.codes
    frame["county_shares"] = [None if v is None else json.dumps(v) for v in where.shares]
    frame["load_id"] = load_id
    frame["created_by"] = user
    if cells:
        frame["cell_i"], frame["cell_j"] = cells_of(parcels.geometry.array, srid)
    table = pa.Table.from_pandas(frame, preserve_index=False).append_column(
        "geom", _hex_arrow(parcels.geometry.array, srid)
    )
    del frame
    rows = ParcelRows(table, where.warnings, cells)
    if render:
        rows.rendered = list(rows.chunks())
    return rows


def write_parcels(
    conn: Connection,
    parcels: gpd.GeoDataFrame,
    *,
    load_id: int | None,
    user: str,
    progress: Progress = _noop,
    cells: Literal["recount", "add", "later"] = "recount",
    replace: bool = True,
) -> tuple[int, int, list[str]]:
    """Bulk-write canonical parcels (storage CRS); (inserted, updated, warnings).

    ``parcel_rows`` then ``write_parcel_rows``: see those for the counties, the map's squares (``cells``) and
    ``replace``.
    """
    rows = parcel_rows(
        parcels,
        areas=admin_rows(conn),
        srid=storage_srid(conn),
        load_id=load_id,
        user=user,
        cells=cells == "add",
    )
    return write_parcel_rows(conn, rows, progress=progress, cells=cells, replace=replace)


def write_parcel_rows(
    conn: Connection,
    rows: ParcelRows,
    *,
    progress: Progress = _noop,
    cells: Literal["recount", "add", "later"] = "recount",
    replace: bool = True,
) -> tuple[int, int, list[str]]:
    """Write parcels made ready by ``parcel_rows``; (inserted, updated, warnings).

    The current versions of the same parcel numbers are closed and the new rows added; the database checks
    every constraint, geometry validity included. The map's squares (``parcel_cells``) are recounted after the
    write (``cells="recount"``); ``"later"`` leaves them to a caller who writes several frames in one
    transaction and recounts them once at the end (``geo.tiles.refresh_parcel_cells``); ``"add"`` counts the
    new rows in from the cells they carry (``geo.tiles_cells.count_in``: the rows made with ``cells=True``, the
    cells holding every other current parcel, ``replace`` False). ``replace=False`` skips looking for current
    parcels of the same numbers: for a caller that knows there are none (the demo in a store with no current
    parcel; a clash would still fail on the unique index).
    """
    if cells == "add" and (replace or not rows.cells):
        raise ValueError(
            'cells="add" counts new parcels that carry their cells: parcel_rows(cells=True), replace=False'
        )
    raw = driver_connection(conn)
    stored = [c for c in rows.table.column_names if c not in ("cell_i", "cell_j")]
    column_list = ", ".join(stored)
    # Bulk path: COPY into an unindexed temporary table, then one INSERT ... SELECT (measured faster than
    # COPY straight into the indexed, constrained table). The CSV is written by Arrow: a missing value is an
    # unquoted empty field, which COPY reads as NULL (no text value is ever empty).
    # with the cells, the facts that count_in sums are staged even when the rows do not give them (NULL)
    staged = stored + [
        c for c in ("land_use", "is_low_efficiency", "area_mu") if rows.cells and c not in stored
    ]
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _stage_parcels ON COMMIT DROP AS SELECT {", ".join(staged)} FROM parcels WITH NO DATA""")
    )
    if rows.cells:  # each row's id taken as parcels takes it, so that its cell can be written beside it
        conn.execute(
            sa.text("""ALTER TABLE _stage_parcels ADD COLUMN cell_i integer, ADD COLUMN cell_j integer,
                       ADD COLUMN id bigint DEFAULT nextval('parcels_id_seq')""")
        )
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY _stage_parcels ({', '.join(rows.table.column_names)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        for n, chunk in enumerate(rows.chunks()):
            copy.write(chunk)
            progress("写入/writing", min((n + 1) * _COPY_CHUNK, rows.total), rows.total)
    updated = (
        0
        if not replace
        else conn.execute(
            sa.text("""
        UPDATE parcels p SET valid_to = now()
        FROM _stage_parcels s WHERE p.valid_to IS NULL AND p.parcel_no = s.parcel_no""")
        ).rowcount
    )
    ids = "id, " if rows.cells else ""
    conn.execute(
        sa.text(f"INSERT INTO parcels ({ids}{column_list}) SELECT {ids}{column_list} FROM _stage_parcels")
    )
    if cells == "add":
        count_in(conn, "_stage_parcels")
    conn.execute(sa.text("DROP TABLE _stage_parcels"))
    if cells == "recount":
        progress("地图汇总/map squares", 0, 1)
        refresh_parcel_cells(conn)  # the map's far-out squares, in the same transaction as the parcels
        progress("地图汇总/map squares", 1, 1)
    return rows.total - updated, updated, rows.warnings


def _vertex_limit(parcels: gpd.GeoDataFrame, *, file: str) -> list[str]:
    """Parcels of more than ``Settings.max_vertices`` vertices: one warning each, with the count named.

    With ``Settings.refuse_large_geometries``, an :class:`InputError` naming them instead, before anything is
    written.

    A vertex is a distinct point of an outline (a ring's closing point is not counted again). Such a parcel is
    loaded whole (its area and every rule use the exact polygon); the map's tiles clip and simplify it
    (``geo.tiles``), so it never stops them.
    """
    settings = get_settings()
    counts = _vertices(np.asarray(parcels.geometry.array, dtype=object))
    over = np.flatnonzero(counts > settings.max_vertices)
    if over.size == 0:
        return []
    nos = parcels["parcel_no"].astype(str).to_numpy() if "parcel_no" in parcels.columns else None
    named = [(str(nos[i]) if nos is not None else f"#{i + 1}", int(counts[i])) for i in over]
    listed_zh = "、".join(f"{no}（{n:,} 个顶点）" for no, n in named[:10])
    listed_en = ", ".join(f"{no} ({n:,} vertices)" for no, n in named[:10])
    if settings.refuse_large_geometries:
        raise InputError(
            f"{len(named)} 宗地的顶点超过上限 {settings.max_vertices:,}：{listed_zh}",
            f"{len(named)} parcels have more than {settings.max_vertices:,} vertices: {listed_en}",
            file=file,
            fix_zh="简化这些宗地的边界后重新导入，或调高 BLOCKLINE_MAX_VERTICES",
            fix_en="simplify their outlines and load again, or raise BLOCKLINE_MAX_VERTICES",
        )
    return [
        f"宗地 {no} 有 {n:,} 个顶点，超过上限 {settings.max_vertices:,}；已导入，地图按瓦片裁剪简化绘制 / parcel "
        f"{no} has {n:,} vertices, over the limit of {settings.max_vertices:,}: loaded, drawn clipped and "
        "simplified per tile"
        for no, n in named
    ]


def _vertices(geoms: np.ndarray) -> np.ndarray:
    """Distinct vertices of each polygon: its coordinates less the closing point of each ring."""
    rings = shapely.get_num_interior_rings(geoms) + np.where(shapely.get_type_id(geoms) == 3, 1, 0)
    multi = shapely.get_type_id(geoms) == 6
    if multi.any():
        parts, owner = shapely.get_parts(geoms[multi], return_index=True)
        rings[np.flatnonzero(multi)] = np.bincount(
            owner, weights=shapely.get_num_interior_rings(parts) + 1, minlength=int(multi.sum())
        ).astype(np.int64)
    return shapely.get_num_coordinates(geoms) - rings


def load_parcels(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    crs: str | None = None,
    encoding: str | None = None,
    field_map: Sequence[str] | dict[str, str] = (),
    display_name: str | None = None,
    progress: Progress = _noop,
    layer: str | None = None,
) -> LoadResult:
    """Load parcels from a file: read, check, type, compute areas, then write in one transaction.

    ``layer`` picks one layer of a multi-layer file (GeoPackage, FileGDB).
    """
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    fmap = dict(field_map) if isinstance(field_map, dict) else parse_field_map(field_map)
    progress("读取/reading", 0, 1)
    gdf, report = read_vector(
        path,
        storage_epsg=srid,
        crs=crs,
        encoding=encoding,
        display_name=name,
        label_column=lambda cols: _label_column(cols, fmap),
        layer=layer,
    )
    progress("读取/reading", 1, 1)
    parcels, warnings = prepare_parcels(gdf, field_map=fmap, file=name)
    _note_geometry_fields(report, [c for c in gdf.columns if c != gdf.geometry.name], fmap)
    warnings = [*warnings, *_vertex_limit(parcels, file=name)]
    result = LoadResult("parcels", name, 0, read=report, warnings=list(warnings))
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="parcels", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted, result.updated, more = write_parcels(
            conn, parcels, load_id=result.load_id, user=user, progress=progress
        )
        result.warnings += more
        result.across_counties = _across_counties(conn, result.load_id)
        finish_load(conn, result.load_id, result)
    return result
