"""Where loaded parcels lie: each parcel's county, and each county's share of a parcel across a line."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from geo.errors import InputError

#: a parcel's part in a county counts when it is at least this share of the parcel: a thinner part is the
#: drawing difference between two surveys (the county line and the parcel's), not a parcel across the line
_COUNTY_SHARE_MIN = 0.01


@dataclass(frozen=True)
class _Counties:
    """Where each parcel lies: one county each, and the share of each county for parcels across a line."""

    codes: np.ndarray
    shares: list[dict[str, float] | None]
    warnings: list[str]


def _county_shares(
    geoms: np.ndarray, counties: list[tuple[str, BaseGeometry]]
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """The county holding most of each parcel (None: in no county) and, per parcel, every county's share.

    Parcels inside one county are found by ``contains_properly`` over an STRtree (prepared county polygons
    against all parcels); only those that touch a county line are intersected.
    """
    n = len(geoms)
    best = np.full(n, None, dtype=object)
    shares: list[dict[str, float]] = [{} for _ in range(n)]
    if not counties or n == 0:
        return best, shares
    polygons = np.array([g for _, g in counties], dtype=object)
    names = np.array([c for c, _ in counties], dtype=object)
    shapely.prepare(polygons)
    tree = shapely.STRtree(geoms)
    inside_c, inside_p = tree.query(polygons, predicate="contains_properly")
    best[inside_p] = names[inside_c]
    for c, p in zip(inside_c, inside_p, strict=False):
        shares[p] = {str(names[c]): 1.0}
    near_c, near_p = tree.query(polygons, predicate="intersects")
    edge = ~np.isin(near_p, inside_p)
    near_c, near_p = near_c[edge], near_p[edge]
    if near_p.size:
        parts = shapely.area(shapely.intersection(geoms[near_p], polygons[near_c]))
        whole = shapely.area(geoms[near_p])
        for c, p, part, total in zip(near_c, near_p, parts, whole, strict=False):
            if part > 0:
                shares[p][str(names[c])] = float(part / total)
        for p in np.unique(near_p):
            if shares[p]:  # the largest share; on a tie the lower code, so the answer never depends on order
                best[p] = min(shares[p], key=lambda code: (-shares[p][code], code))
    return best, shares


#: the loaded boundaries as ``_counties_of`` reads them: (code, level, name, WKB) per admin area
AdminRows = list[tuple[str, str, str, bytes]]


def admin_rows(conn: Connection) -> AdminRows:
    """The loaded boundaries (every admin area's code, level, name and outline as WKB)."""
    return [
        (code, level, name, bytes(wkb))
        for code, level, name, wkb in conn.execute(
            sa.text("SELECT code, level, name, ST_AsBinary(geom) FROM admin_areas")
        ).all()
    ]


def _counties_of(rows: AdminRows, parcels: gpd.GeoDataFrame) -> _Counties:
    """Each parcel's county and, for parcels across a county line, each county's share.

    A parcel's county is its own code, checked against the loaded boundaries (``rows``, as ``admin_rows`` reads
    them), else the county holding the largest share of it.
    """
    warnings: list[str] = []
    known = {code for code, _, _, _ in rows}
    names = {code: name for code, _, name, _ in rows}
    given = (
        parcels["county_code"].astype(object).to_numpy()
        if "county_code" in parcels.columns
        else np.full(len(parcels), None, dtype=object)
    )
    present = pd.notna(given)
    unknown = sorted({str(c) for c in given[present] if c not in known})
    if unknown:
        raise InputError(
            "行政区代码在已导入的边界中不存在：" + "、".join(unknown),
            "county codes not among the loaded boundaries: " + ", ".join(unknown),
            fix_zh="先导入这些县的边界，或删去文件中的行政区代码列让系统按位置判断",
            fix_en="load those counties' boundaries first, or drop the county column to derive it from the location",
        )
    counties = [(code, shapely.from_wkb(wkb)) for code, level, _, wkb in rows if level == "county"]
    best, all_shares = _county_shares(np.asarray(parcels.geometry.array, dtype=object), counties)
    codes = np.where(present, given, best).astype(object)
    derived = int((~present & pd.notna(best)).sum())
    if derived:
        warnings.append(
            f"{derived} 宗地的行政区代码按边界推定 / county derived from the boundaries for {derived} parcels"
        )
    no_county = int(pd.isna(codes).sum())
    if no_county:
        warnings.append(f"{no_county} 宗地不在任何已导入的县内 / {no_county} parcels lie in no loaded county")
    shares: list[dict[str, float] | None] = []
    labels = parcels["parcel_no"].astype(str).to_numpy() if "parcel_no" in parcels.columns else None
    across = 0
    for pos, found in enumerate(all_shares):
        if len(found) < 2:  # inside one county (most parcels): nothing to count
            shares.append(None)
            continue
        counted = {c: round(v, 6) for c, v in sorted(found.items()) if v >= _COUNTY_SHARE_MIN}
        if len(counted) < 2:
            shares.append(None)
            continue
        shares.append(counted)
        across += 1
        if across > 50:
            continue
        label = labels[pos] if labels is not None else f"#{pos + 1}"
        listed_zh = "，".join(f"{c} {names.get(c, '')} {v:.2%}" for c, v in counted.items())
        listed_en = ", ".join(f"{c} {v:.2%}" for c, v in counted.items())
        warnings.append(
            f"宗地 {label} 跨县：{listed_zh}；归入 {codes[pos]} / parcel {label} lies across a county "
            f"line: {listed_en}; counted in {codes[pos]}"
        )
    if across > 50:
        warnings.append(f"… 另有 {across - 50} 宗跨县 / {across - 50} more parcels across a county line")
    return _Counties(codes, shares, warnings)


def _across_counties(conn: Connection, load_id: int) -> list[dict[str, object]]:
    """The parcels a load wrote that lie across a county line, with each county's share."""
    rows = conn.execute(
        sa.text("""
        SELECT parcel_no, county_code, county_shares FROM parcels
        WHERE load_id = :load AND county_shares IS NOT NULL ORDER BY parcel_no"""),
        {"load": load_id},
    ).all()
    return [{"parcel_no": no, "county_code": code, "county_shares": shares} for no, code, shares in rows]
