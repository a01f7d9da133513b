"""Loading level-1 and level-2 industrial block lines, cut along county boundaries."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import M2_PER_MU
from geo.auth import name_of
from geo.errors import InputError
from geo.fixes import fix
from geo.io import read_vector
from geo.load_common import (
    LoadResult,
    _hex,
    _opt_text,
    finish_load,
    start_load,
)
from geo.store import storage_srid, transaction


def write_blocklines(
    conn: Connection,
    lines: gpd.GeoDataFrame,
    *,
    level: int,
    load_id: int | None,
    user: str,
    county: str | None = None,
    source: str | None = None,
) -> tuple[int, int, list[str]]:
    """Replace the current level-``level`` lines of the counties ``lines`` covers; (inserted, closed, warnings).

    Each feature is cut along county boundaries; the parts outside every county (or outside ``county``)
    are dropped and reported. The lines they replace are closed (``valid_to``), never deleted.
    """
    _check_target(conn, level=level, county=county)
    _cut_by_county(conn, lines, county=county)
    warnings = _outside_warnings(conn, county=county)
    touched = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT county_code FROM _pieces"))]
    if not touched:
        raise InputError(
            "区块线与已导入的县级行政区没有重叠",
            "the block lines overlap no loaded county",
            file=source,
            **fix("load_crs_county"),
        )
    closed = conn.execute(
        sa.text("""
        UPDATE block_lines SET valid_to = now()
        WHERE valid_to IS NULL AND level = :level AND county_code = ANY(:counties)"""),
        {"level": level, "counties": touched},
    ).rowcount
    inserted = conn.execute(
        sa.text("""
        INSERT INTO block_lines (level, county_code, name, approval_doc, source, load_id, created_by, valid_from, geom)
        SELECT :level, county_code, name, approval_doc, :source, :load, :user, now(), geom FROM _pieces"""),
        {"level": level, "source": source, "load": load_id, "user": user},
    ).rowcount
    conn.execute(sa.text("DROP TABLE _pieces; DROP TABLE _stage_lines"))
    return inserted, closed, warnings


def _check_target(conn: Connection, *, level: int, county: str | None) -> None:
    """Refuse a level other than 1 or 2, a store without counties, and a ``county`` that is not loaded."""
    if level not in (1, 2):
        raise InputError(
            f"级别须为 1 或 2，而不是 {level}", f"level must be 1 or 2, not {level}", **fix("level")
        )
    n_counties = conn.execute(sa.text("SELECT count(*) FROM admin_areas WHERE level = 'county'")).scalar_one()
    if n_counties == 0:
        raise InputError(
            "数据库中还没有县级行政区边界，无法按县划分区块线",
            "no county boundaries are loaded yet",
            fix_zh="先运行 blockline load boundaries 导入行政区边界",
            fix_en="load boundaries first",
        )
    if (
        county is not None
        and not conn.execute(sa.text("SELECT 1 FROM admin_areas WHERE code = :c"), {"c": county}).first()
    ):
        raise InputError(f"没有行政区代码 {county}", f"no administrative area {county}", **fix("load_county"))


def _cut_by_county(conn: Connection, lines: gpd.GeoDataFrame, *, county: str | None) -> None:
    """Stage ``lines`` (temporary ``_stage_lines``) and their parts in each county (``_pieces``)."""
    srid = storage_srid(conn)
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _stage_lines (n int, name text, approval_doc text, geom geometry(MultiPolygon, {srid}))
        ON COMMIT DROP""")
    )
    names = lines["name"] if "name" in lines.columns else pd.Series([None] * len(lines))
    docs = lines["approval_doc"] if "approval_doc" in lines.columns else pd.Series([None] * len(lines))
    conn.execute(
        sa.text("INSERT INTO _stage_lines VALUES (:n, :name, :doc, ST_GeomFromEWKB(decode(:g, 'hex')))"),
        [
            {"n": i, "name": _opt_text(a), "doc": _opt_text(b), "g": g}
            for i, (a, b, g) in enumerate(zip(names, docs, _hex(lines.geometry.array, srid), strict=False))
        ],
    )
    county_filter = "AND a.code = :county" if county else ""
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _pieces ON COMMIT DROP AS
        SELECT s.n, s.name, s.approval_doc, a.code AS county_code,
               ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Intersection(s.geom, a.geom)), 3)) AS geom
        FROM _stage_lines s JOIN admin_areas a ON a.level = 'county' AND s.geom && a.geom
        {county_filter}"""),
        {"county": county},
    )
    # Boxes only (&&), never ST_Intersects: GEOS's predicate can throw a TopologyException on valid but nearly
    # degenerate shapes, its overlay (ST_Intersection) does not; the empty pieces of disjoint pairs go next.
    conn.execute(sa.text("DELETE FROM _pieces WHERE ST_IsEmpty(geom) OR ST_Area(geom) < 0.01"))


def _outside_warnings(conn: Connection, *, county: str | None) -> list[str]:
    """One warning for each staged line with more than 1 m² outside every county (or outside ``county``)."""
    warnings: list[str] = []
    outside = conn.execute(
        sa.text("""
        SELECT s.n, ST_Area(s.geom) - coalesce((SELECT sum(ST_Area(p.geom)) FROM _pieces p WHERE p.n = s.n), 0)
        FROM _stage_lines s"""),
        {},
    ).all()
    for n, m2 in outside:
        if m2 > 1.0:
            where = (
                f"县 {county} 之外 / outside county {county}"
                if county
                else "任何县之外 / outside every county"
            )
            warnings.append(
                f"要素 {n + 1} 有 {m2 / M2_PER_MU:.2f} 亩位于{where}，未导入 / "
                f"feature {n + 1}: {m2 / M2_PER_MU:.2f} mu not loaded"
            )
    return warnings


def load_blocklines(
    engine: Engine,
    path: Path | str,
    *,
    level: int,
    user: str,
    county: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load level-1 or level-2 industrial block lines, replacing the current ones of the counties covered.

    ``layer`` picks one layer of a multi-layer file (GeoPackage, FileGDB).
    """
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    gdf, report = read_vector(
        path, storage_epsg=srid, crs=crs, encoding=encoding, display_name=name, layer=layer
    )
    lower = {str(c).lower(): c for c in gdf.columns}
    rename = {}
    for canonical, headers in (
        ("name", ("name", "名称", "区块名称", "地块名称")),
        ("approval_doc", ("approval_doc", "批复文号", "文号")),
    ):
        found = next((lower[h] for h in headers if h in lower), None)
        if found is not None:
            rename[found] = canonical
    lines = gdf.rename(columns=rename)
    result = LoadResult("blocklines", name, 0, read=report)
    try:
        with transaction(engine) as conn:
            result.load_id = start_load(conn, kind="blocklines", source=name, user=user)
            user = name_of(user)  # the writes below record the name
            result.inserted, result.closed, result.warnings = write_blocklines(
                conn, lines, level=level, load_id=result.load_id, user=user, county=county, source=name
            )
            finish_load(conn, result.load_id, result)
    except sa.exc.InternalError as exc:
        if "TopologyException" not in str(exc.orig):
            raise
        raise _geometry_engine_failure(exc, file=name) from exc
    return result


def _geometry_engine_failure(exc: sa.exc.InternalError, *, file: str) -> InputError:
    """PostGIS gave up on a shape (GEOS TopologyException): the user's to fix, the transaction rolled back."""
    message = str(exc.orig).strip().splitlines()[0]
    return InputError(
        f"几何运算无法处理文件中的图形（{message}），未写入任何数据",
        f"the geometry engine cannot process the shapes of the file ({message}); nothing was written",
        file=file,
        fix_zh="在桌面 GIS 中检查并清理该位置附近的图形（去除极窄的尖角和重复点）后重新导入",
        fix_en="check and clean the shapes near that location in a desktop GIS (remove slivers and "
        "repeated points), then load the file again",
    )
