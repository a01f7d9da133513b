"""Writing tables and layers out: CSV (UTF-8 with BOM, so Excel opens Chinese right), XLSX, GeoJSON, GeoPackage.

Examples
--------
>>> import pandas as pd, datetime as dt
>>> records(pd.DataFrame({"a": [1.0, float("nan")], "d": [dt.date(2026, 1, 2), None]}))
[{'a': 1.0, 'd': '2026-01-02'}, {'a': None, 'd': None}]
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["FORMATS", "records", "write_table", "write_layer", "json_safe"]

FORMATS = ("table", "json", "csv", "xlsx", "geojson", "gpkg")


def json_safe(value: object) -> object:
    """A value as JSON can hold it: dates as YYYY-MM-DD, NaN as null, numpy scalars as Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
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
    cols = [c for c in frame.columns if not (isinstance(frame, gpd.GeoDataFrame) and c == frame.geometry.name)]
    return [{c: json_safe(v) for c, v in zip(cols, row)} for row in frame[cols].itertuples(index=False, name=None)]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(records(frame), columns=[c for c in frame.columns
                                                if not (isinstance(frame, gpd.GeoDataFrame) and c == frame.geometry.name)])
    return out


def write_table(frame: pd.DataFrame, path: Path, *, fmt: str, sheet: str = "blockline") -> Path:
    """Write the attributes of ``frame`` as CSV or XLSX."""
    path = Path(path)
    plain = _plain(frame)
    for c in plain.columns:
        if plain[c].map(lambda v: isinstance(v, (dict, list))).any():
            plain[c] = plain[c].map(lambda v: None if v is None else str(v))
    if fmt == "csv":
        plain.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            plain.to_excel(xw, index=False, sheet_name=sheet[:31])
            ws = xw.sheets[sheet[:31]]
            ws.freeze_panes = "A2"
            for row in ws.iter_rows(min_row=1):
                for cell in row:
                    if cell.data_type == "f":  # a value such as "=HYPERLINK(...)" is text here, never a formula
                        cell.data_type = "s"
            for i, c in enumerate(plain.columns, start=1):
                width = max([len(str(c))] + [len(str(v)) for v in plain[c].head(200)]) + 2
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(width * 1.3, 60)
    else:
        raise ValueError(f"not a table format: {fmt}")
    return path


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
