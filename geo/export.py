"""Writing tables and layers out: CSV (UTF-8 with BOM, so Excel opens Chinese right), XLSX, GeoJSON, GeoPackage.

Every table export of blockline (CSV and XLSX, from the command and from the app) is written by
``write_table`` or ``write_workbook`` here, and both keep text inert: a value such as ``=HYPERLINK(…)``,
``+1``, ``-2+3``, ``@SUM(…)`` or one that starts with a tab or a carriage return is never a formula. In a
workbook it is a text cell (with Excel's quote prefix, so editing it keeps it text); in CSV, which has no
types, it gets a leading apostrophe (the OWASP advice for CSV injection). Numbers stay numbers: only text
is guarded, so a negative balance is still a number.

Examples
--------
>>> import pandas as pd, datetime as dt
>>> records(pd.DataFrame({"a": [1.0, float("nan")], "d": [dt.date(2026, 1, 2), None]}))
[{'a': 1.0, 'd': '2026-01-02'}, {'a': None, 'd': None}]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.clock import office_zone

__all__ = [
    "FORMATS",
    "FORMULA_LEADS",
    "inert_text",
    "records",
    "write_table",
    "write_workbook",
    "write_layer",
    "json_safe",
]

FORMATS = ("table", "json", "csv", "xlsx", "geojson", "gpkg")

#: text starting with one of these is taken for a formula by spreadsheet programs
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: object) -> object:
    """A CSV field as a spreadsheet must not evaluate it: formula-like text gets a leading apostrophe.

    Examples
    --------
    >>> inert_text("=1+2"), inert_text("-7.5"), inert_text(-7.5), inert_text("温政函〔2026〕9号")
    ("'=1+2", "'-7.5", -7.5, '温政函〔2026〕9号')
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def json_safe(value: object) -> object:
    """A value as JSON can hold it: dates as YYYY-MM-DD, NaN as null, numpy scalars as Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if value.tzinfo is not None:  # a stored instant: its day in the office's zone (geo.clock)
            value = value.astimezone(office_zone())
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts (the geometry column, if any, left out)."""
    cols = [
        c for c in frame.columns if not (isinstance(frame, gpd.GeoDataFrame) and c == frame.geometry.name)
    ]
    return [
        {c: json_safe(v) for c, v in zip(cols, row, strict=False)}
        for row in frame[cols].itertuples(index=False, name=None)
    ]


def write_table(frame: pd.DataFrame, path: Path, *, fmt: str, sheet: str = "blockline") -> Path:
    """Write the attributes of ``frame`` as CSV or XLSX, text inert (see the module)."""
    path = Path(path)
    if fmt == "csv":
        plain = _plain(frame)
        for c in plain.columns:
            plain[c] = plain[c].map(inert_text)
        # CRLF line ends (RFC 4180), so a field holding a lone carriage return is quoted, not split
        plain.to_csv(
            path,
            index=False,
            encoding="utf-8-sig",
            header=[str(inert_text(str(c))) for c in plain.columns],
            lineterminator="\r\n",
        )
    elif fmt == "xlsx":
        write_workbook({sheet: frame}, path)
    else:
        raise ValueError(f"not a table format: {fmt}")
    return path


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: Path | BinaryIO,
    *,
    number_formats: Mapping[str, str] | None = None,
    width_factor: float = 1.3,
) -> Path | BinaryIO:
    """Write frames as the sheets of one XLSX workbook, every text cell text (never a formula).

    Parameters
    ----------
    sheets
        Sheet name (cut to Excel's 31 characters) → frame; the geometry column, if any, is left out.
    path
        A file path, or a binary buffer (``io.BytesIO``) for a download.
    number_formats
        Column header → Excel number format (e.g. ``"#,##0.00"`` for 亩), wherever the header appears.
    width_factor
        Column width per character of the longest value (Chinese characters are wide).
    """
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            plain = _plain(frame)
            plain.to_excel(xw, index=False, sheet_name=name[:31])
            ws = xw.sheets[name[:31]]
            _guard_cells(ws)
            ws.freeze_panes = "A2"
            for i, c in enumerate(plain.columns, start=1):
                width = max([len(str(c))] + [len(str(v)) for v in plain[c].head(200)]) + 2
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(width * width_factor, 60)
                fmt = (number_formats or {}).get(str(c))
                if fmt:
                    for row in range(2, len(plain) + 2):
                        ws.cell(row, i).number_format = fmt
    return path


def _guard_cells(ws: object) -> None:
    """Make every formula-like text cell of a worksheet a text cell with Excel's quote prefix."""
    for row in ws.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            if cell.data_type == "f" or (
                isinstance(cell.value, str) and cell.value.startswith(FORMULA_LEADS)
            ):
                cell.data_type = "s"
                cell.quotePrefix = True


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The attributes as JSON-like values (dates as text, NaN as empty), dicts and lists as their text."""
    out = pd.DataFrame(
        records(frame),
        columns=[
            c for c in frame.columns if not (isinstance(frame, gpd.GeoDataFrame) and c == frame.geometry.name)
        ],
    )
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, (dict, list))).any():
            out[c] = out[c].map(lambda v: None if v is None else str(v))
    return out


def write_layer(gdf: gpd.GeoDataFrame, path: Path, *, fmt: str, layer: str = "blockline") -> Path:
    """Write a layer as GeoJSON (EPSG:4326, as RFC 7946 requires) or GeoPackage (in its own CRS)."""
    path = Path(path)
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        if out[c].map(lambda v: isinstance(v, (dict, list))).any():
            out[c] = out[c].map(lambda v: None if v is None else str(v))
        elif out[c].map(lambda v: isinstance(v, dt.date)).any():
            out[c] = out[c].map(lambda v: v.isoformat() if isinstance(v, dt.date) else None)
    if fmt == "geojson":
        out.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")
    elif fmt == "gpkg":
        out.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
    else:
        raise ValueError(f"not a layer format: {fmt}")
    return path
