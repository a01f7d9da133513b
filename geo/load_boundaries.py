"""Loading administrative boundaries (counties, cities, provinces) keyed by their 6-digit code."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.auth import name_of
from geo.errors import Problem, ValidationError
from geo.io import read_vector
from geo.load_common import (
    LoadResult,
    _hex,
    _normalise_code,
    _pick,
    as_multi,
    finish_load,
    level_of_code,
    parent_of_code,
    start_load,
)
from geo.store import storage_srid, transaction


def write_boundaries(conn: Connection, areas: gpd.GeoDataFrame, *, load_id: int) -> tuple[int, int]:
    """Upsert administrative areas (columns code, name, level, parent_code; storage CRS). (inserted, updated)."""
    srid = storage_srid(conn)
    if areas.crs is None or areas.crs.to_epsg() != srid:
        raise ValueError(f"areas must be in EPSG:{srid}")
    rows = [
        {"code": c, "name": n, "level": lv, "parent": p or None, "geom": g, "load": load_id}
        for c, n, lv, p, g in zip(
            areas["code"],
            areas["name"],
            areas["level"],
            areas["parent_code"],
            _hex(areas.geometry.array, srid),
            strict=False,
        )
    ]
    existing = set(conn.execute(sa.text("SELECT code FROM admin_areas")).scalars())
    conn.execute(
        sa.text("""
        INSERT INTO admin_areas (code, name, level, parent_code, geom, load_id)
        VALUES (:code, :name, :level, :parent, ST_GeomFromEWKB(decode(:geom, 'hex')), :load)
        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
            parent_code = EXCLUDED.parent_code, geom = EXCLUDED.geom, load_id = EXCLUDED.load_id
    """),
        rows,
    )
    updated = sum(1 for r in rows if r["code"] in existing)
    return len(rows) - updated, updated


def load_boundaries(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    code_field: str | None = None,
    name_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load administrative boundaries (counties, cities) keyed by their 6-digit code (``layer``: which layer)."""
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    gdf, report = read_vector(
        path, storage_epsg=srid, crs=crs, encoding=encoding, display_name=name, layer=layer
    )
    code_col = _pick(
        list(gdf.columns),
        code_field,
        ["code", "adcode", "行政区代码", "行政区划代码", "xzqdm", "pac", "区划代码", "县代码"],
        what="行政区代码/code",
        file=name,
    )
    name_col = _pick(
        list(gdf.columns),
        name_field,
        ["name", "行政区名称", "xzqmc", "名称", "县名称", "区划名称"],
        what="名称/name",
        file=name,
    )
    codes = [_normalise_code(v) for v in gdf[code_col]]
    problems = [
        Problem(
            i + 1, f"{code_col}={gdf[code_col].iloc[i]}", "不是 6 位行政区划代码", "not a 6-digit area code"
        )
        for i, c in enumerate(codes)
        if c is None
    ]
    if problems:
        raise ValidationError(problems, file=name)
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": gdf[name_col].astype(str).str.strip()},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    # A county exported as several features (islands) is one area: union them per code.
    merged = frame.dissolve(by="code", aggfunc="first", as_index=False)
    merged["geometry"] = as_multi(merged.geometry)
    merged["level"] = [level_of_code(c) for c in merged["code"]]
    merged["parent_code"] = [parent_of_code(c) for c in merged["code"]]
    result = LoadResult("boundaries", name, 0, read=report)
    if len(merged) < len(frame):
        result.warnings.append(f"{len(frame) - len(merged)} features merged into areas of the same code")
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="boundaries", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted, result.updated = write_boundaries(conn, merged, load_id=result.load_id)
        finish_load(conn, result.load_id, result)
    return result
