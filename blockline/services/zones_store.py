"""Keeping consolidation zones: detected candidates and drawn zones, with their parameters and requirements.

The store's side of ``zoning.consolidation`` (moved here from ``zoning.zones_store``: ``zoning`` keeps no SQL):
each save is one transaction of the store, authorised and audited.

Examples
--------
>>> sorted(REQUIREMENT_KEYS)[:2]
['entry_conditions', 'industry']
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from geo.actors import Actor
from geo.audit import record
from geo.auth import authorize
from geo.errors import InputError
from geo.store import storage_srid, transaction
from geo.validate import to_multipolygons
from zoning.policy import Profile

__all__ = ["REQUIREMENT_KEYS", "save_candidates", "save_zone", "read_zones"]

#: what WZ §12 asks a consolidation zone to set: 亩均投资强度, 产业导向, 亩均税收, 准入条件
REQUIREMENT_KEYS = ("investment_per_mu_wan", "industry", "tax_per_mu_wan", "entry_conditions")


def _hex(geom: BaseGeometry, srid: int) -> str:
    # A zone may come as the collection of its parcels (touching edges, so not a valid MultiPolygon): dissolve.
    dissolved = shapely.union_all(shapely.make_valid(shapely.get_parts(geom)))
    multi = to_multipolygons(np.array([dissolved], dtype=object))[0]
    if multi is None:
        raise InputError(
            "片区范围不是面", "the zone is not a polygon", fix_zh="绘制面", fix_en="draw a polygon"
        )
    return shapely.to_wkb(shapely.set_srid(multi, srid), hex=True, include_srid=True)


def save_candidates(
    engine: Engine,
    zones: gpd.GeoDataFrame,
    *,
    min_mu: float,
    gap_m: float,
    profile: Profile,
    user: str | Actor,
) -> int:
    """Save detected zones as candidates (named by zone id; the same id again replaces it). Returns the count."""
    with transaction(engine) as conn:
        user = authorize(
            conn, user, "planner", counties=list(zones["county_code"]) if len(zones) else []
        ).name
        srid = storage_srid(conn)
        for z in zones.itertuples():
            params = {
                "min_mu": min_mu,
                "gap_m": gap_m,
                "policy": profile.name,
                "parcels": list(z.parcels),
                "holders": int(z.holders),
            }
            conn.execute(
                sa.text("DELETE FROM zones WHERE kind = 'candidate' AND name = :n"), {"n": z.zone_id}
            )
            conn.execute(
                sa.text("""
                INSERT INTO zones (name, kind, county_code, area_mu, params, created_by, geom)
                VALUES (:n, 'candidate', :c, :a, CAST(:p AS jsonb), :u, ST_GeomFromEWKB(decode(:g, 'hex')))"""),
                {
                    "n": z.zone_id,
                    "c": z.county_code,
                    "a": float(z.area_mu),
                    "p": json.dumps(params, ensure_ascii=False),
                    "u": user,
                    "g": _hex(z.geometry, srid),
                },
            )
        record(
            conn,
            actor=user,
            action="zone.candidates",
            target=f"{len(zones)} zones",
            after={
                "min_mu": min_mu,
                "gap_m": gap_m,
                "policy": profile.name,
                "zones": list(zones["zone_id"]) if len(zones) else [],
            },
        )
    return len(zones)


def save_zone(
    engine: Engine,
    *,
    name: str,
    geometry: BaseGeometry,
    assessment: dict[str, Any],
    requirements: dict[str, Any],
    user: str | Actor,
    county_code: str | None = None,
) -> int:
    """Save a drawn zone with its assessment and the requirements set for it (WZ §12); returns its id."""
    if not name or not name.strip():
        raise InputError(
            "片区须有名称", "a zone needs a name", fix_zh="填写片区名称", fix_en="give the zone a name"
        )
    unknown = set(requirements) - set(REQUIREMENT_KEYS)
    if unknown:
        raise InputError(
            f"未知的片区要求：{', '.join(sorted(unknown))}",
            f"unknown requirements: {', '.join(sorted(unknown))}",
            fix_zh="可用：" + "、".join(REQUIREMENT_KEYS),
            fix_en="known: " + ", ".join(REQUIREMENT_KEYS),
        )
    with transaction(engine) as conn:
        user = authorize(conn, user, "planner", counties=[county_code]).name
        srid = storage_srid(conn)
        zone_id = int(
            conn.execute(
                sa.text("""
            INSERT INTO zones (name, kind, county_code, area_mu, requirements, assessment, created_by, geom)
            VALUES (:n, 'drawn', :c, :a, CAST(:r AS jsonb), CAST(:s AS jsonb), :u, ST_GeomFromEWKB(decode(:g, 'hex')))
            RETURNING id"""),
                {
                    "n": name.strip(),
                    "c": county_code,
                    "a": float(assessment.get("area_mu", 0.0)),
                    "r": json.dumps(requirements, ensure_ascii=False),
                    "s": json.dumps(assessment, ensure_ascii=False, default=str),
                    "u": user,
                    "g": _hex(geometry, srid),
                },
            ).scalar_one()
        )
        record(
            conn,
            actor=user,
            action="zone.save",
            target=f"zone {zone_id}: {name.strip()}",
            after={"area_mu": assessment.get("area_mu"), "county": county_code, "requirements": requirements},
        )
        return zone_id


def read_zones(engine: Engine, *, kind: str | None = None) -> gpd.GeoDataFrame:
    """Saved zones (id, name, kind, county_code, area_mu, params, requirements, assessment, created_by, created_at)."""
    where = "WHERE kind = :kind" if kind else ""
    with engine.connect() as conn:
        return gpd.read_postgis(
            sa.text(f"""
            SELECT id, name, kind, county_code, area_mu, params, requirements, assessment, created_by, created_at, geom
            FROM zones {where} ORDER BY kind, area_mu DESC, id"""),
            conn,
            geom_col="geom",
            params={"kind": kind} if kind else {},
        ).rename_geometry("geometry")
