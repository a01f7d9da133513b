"""The 连片开发 page's tables and texts, in the user's language: candidates, a zone's assessment, requirements.

Examples
--------
>>> share_text(0.871134)
'87.1%'
>>> levels_text([1, 2], "en")
'level 1, level 2'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, SupportsFloat

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from blockline.ui.i18n import fmt_int, fmt_mu, translate
from blockline.ui.zones_view.shapes import dissolved

__all__ = [
    "GRADES",
    "assessment_frame",
    "assessment_layer",
    "assessment_rows",
    "candidates_frame",
    "candidates_layer",
    "levels_text",
    "main_county",
    "rating_mix_text",
    "requirements_of",
    "share_text",
    "shortfall_mu",
]

#: the grades of a rating, best first
GRADES = ("A", "B", "C", "D")


def levels_text(levels: Iterable[int] | None, lang: str) -> str:
    """Block-line levels as words: ``一级线、二级线``, or a dash for none."""
    words = [translate(f"zones.level{int(lv)}", lang) for lv in levels or []]
    return ("、" if lang != "en" else ", ").join(words) if words else translate("none", lang)


def rating_mix_text(mix: Mapping[str, int] | None, lang: str) -> str:
    """A rating mix ``{"A": n, …, "unrated": n}`` as ``A 1 · C 2 · 未评价 1`` (grades with none left out).

    >>> rating_mix_text({"A": 0, "B": 1, "C": 2, "D": 0, "unrated": 1}, "zh")
    'B 1 · C 2 · 未评价 1'
    """
    mix = dict(mix or {})
    parts = [f"{g} {fmt_int(mix[g])}" for g in GRADES if mix.get(g)]
    if mix.get("unrated"):
        parts.append(f"{translate('zones.unrated', lang)} {fmt_int(mix['unrated'])}")
    return " · ".join(parts) if parts else translate("none", lang)


def candidates_frame(zones: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The candidates as a table (headers in ``lang``): id, county, 亩, parcels, holders, lines, ratings."""
    n = len(zones)

    def column(name: str, default: object) -> list[Any]:  # a column's values, whatever the frame holds
        return list(zones[name]) if name in zones.columns else [default] * n

    frame = pd.DataFrame(
        {
            "zone_id": [str(z) for z in column("zone_id", "")],
            "county_code": ["" if c is None or pd.isna(c) else str(c) for c in column("county_code", None)],
            "area_mu": np.round(
                pd.to_numeric(pd.Series(column("area_mu", np.nan), dtype=object), errors="coerce")
                .astype(float)
                .to_numpy(),
                2,
            ),
            "n_parcels": np.array([int(v) for v in column("n_parcels", 0)], dtype=np.int64),
            "holders": np.array([int(v) for v in column("holders", 0)], dtype=np.int64),
            "block_line_levels": [levels_text(v, lang) for v in column("block_line_levels", [])],
            "rating_mix": [rating_mix_text(v, lang) for v in column("rating_mix", {})],
            "parcels": ["、".join(str(p) for p in v) for v in column("parcels", [])],
        }
    )
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def candidates_layer(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidates as a layer for a GeoPackage: plain columns, each zone one (Multi)Polygon, own CRS."""
    frame = pd.DataFrame(
        {
            "zone_id": [str(z) for z in zones["zone_id"]],
            "county_code": [None if c is None or pd.isna(c) else str(c) for c in zones["county_code"]],
            "area_mu": pd.to_numeric(zones["area_mu"]).astype(float).round(2).to_numpy(),
            "n_parcels": zones["n_parcels"].astype(np.int64).to_numpy(),
            "holders": zones["holders"].astype(np.int64).to_numpy(),
            "parcels": [",".join(str(p) for p in v) for v in zones["parcels"]],
        }
    )
    for column in ("block_line_levels", "rating_mix"):
        if column in zones.columns:
            frame[column] = [json.dumps(v, ensure_ascii=False, default=str) for v in zones[column]]
    return gpd.GeoDataFrame(frame, geometry=dissolved(zones.geometry), crs=zones.crs)


def share_text(share: object) -> str:
    """A share (0–1) as a percentage with one decimal."""
    if not isinstance(share, SupportsFloat | str):
        return "—"
    try:
        value = float(share)
    except ValueError:
        return "—"
    return f"{value:.1%}" if np.isfinite(value) else "—"


def shortfall_mu(result: Mapping[str, Any], min_mu: float) -> float:
    """How many 亩 the zone lacks to reach ``min_mu`` (0 when it reaches it)."""
    return max(float(min_mu) - float(result["area_mu"]), 0.0) if not result["meets_threshold"] else 0.0


def assessment_rows(result: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, value) of the figures shown beside the map, in ``lang``, values formatted."""
    mix: dict[str, int] = {g: 0 for g in (*GRADES, "unrated")}
    for p in result["parcels"]:
        mix[p.get("rating") or "unrated"] = mix.get(p.get("rating") or "unrated", 0) + 1
    rows = [
        ("zones.area", fmt_mu(result["area_mu"])),
        ("zones.meets", translate("yes" if result["meets_threshold"] else "no", lang)),
        ("zones.n_parcels", fmt_int(len(result["parcels"]))),
        ("zones.parcels_area", fmt_mu(result["parcels_area_mu"])),
        ("zones.holders", fmt_int(result["holders"])),
        ("zones.low_share", share_text(result["low_efficiency_share"])),
        ("zones.levels", levels_text(result["block_line_levels"], lang)),
        ("zones.ratings", rating_mix_text(mix, lang)),
    ]
    return [(translate(k, lang), v) for k, v in rows]


def assessment_frame(
    result: Mapping[str, Any], lang: str, *, county_of: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """The parcels the zone takes, one row each, headers in ``lang``.

    The columns: number, holder, county, share, 亩 inside, low-efficiency, rating. Names are data: shown as
    written, never as markup.
    """
    counties = dict(county_of or {})
    rows = list(result["parcels"])
    frame = pd.DataFrame(
        {
            "parcel_no": [str(p["parcel_no"]) for p in rows],
            "holder": ["" if p.get("holder") is None else str(p["holder"]) for p in rows],
            "county_code": [
                "" if counties.get(p["parcel_no"]) is None else str(counties[p["parcel_no"]]) for p in rows
            ],
            "share_pct": np.array([round(float(p["share"]) * 100, 1) for p in rows], dtype=float),
            "area_in_zone_mu": np.array([round(float(p["area_in_zone_mu"]), 2) for p in rows], dtype=float),
            "low_efficiency": [translate("yes" if p["low_efficiency"] else "no", lang) for p in rows],
            "rating": [p.get("rating") or translate("zones.unrated", lang) for p in rows],
        }
    )
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def assessment_layer(
    result: Mapping[str, Any], taken: gpd.GeoDataFrame, zone: BaseGeometry
) -> gpd.GeoDataFrame:
    """The drawn zone and the parcels it takes as one layer (own CRS): ``kind`` is ``zone`` or ``parcel``."""
    rows = [
        {
            "kind": "zone",
            "parcel_no": None,
            "holder": None,
            "share": None,
            "area_in_zone_mu": round(float(result["area_mu"]), 2),
            "low_efficiency": None,
            "rating": None,
            "geometry": zone,
        }
    ]
    by_no = (
        {str(n): g for n, g in zip(taken["parcel_no"], taken.geometry, strict=False)} if len(taken) else {}
    )
    for p in result["parcels"]:
        rows.append(
            {
                "kind": "parcel",
                "parcel_no": str(p["parcel_no"]),
                "holder": p.get("holder"),
                "share": round(float(p["share"]), 4),
                "area_in_zone_mu": round(float(p["area_in_zone_mu"]), 2),
                "low_efficiency": bool(p["low_efficiency"]),
                "rating": p.get("rating"),
                "geometry": by_no.get(str(p["parcel_no"])),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=taken.crs)


def main_county(result: Mapping[str, Any], county_of: Mapping[str, object]) -> str | None:
    """The county holding most of the parcel land the zone takes (the smaller code on a tie), or None.

    >>> main_county({"parcels": [{"parcel_no": "A", "area_in_zone_mu": 5.0},
    ...                          {"parcel_no": "B", "area_in_zone_mu": 7.5}]}, {"A": "330302", "B": "330304"})
    '330304'
    """
    mu: dict[str, float] = {}
    for p in result["parcels"]:
        code = county_of.get(p["parcel_no"])
        if code is not None and not (isinstance(code, float) and np.isnan(code)):
            mu[str(code)] = mu.get(str(code), 0.0) + float(p["area_in_zone_mu"])
    return min(mu, key=lambda c: (-mu[c], c)) if mu else None


def requirements_of(values: Mapping[str, object]) -> dict[str, object]:
    """The requirements a planner filled in (blank text and empty numbers left out), text stripped.

    >>> requirements_of({"industry": " 智能装备 ", "entry_conditions": "", "tax_per_mu_wan": None,
    ...                  "investment_per_mu_wan": 300.0})
    {'industry': '智能装备', 'investment_per_mu_wan': 300.0}
    """
    out: dict[str, object] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            if value.strip():
                out[key] = value.strip()
        elif isinstance(value, SupportsFloat):
            out[key] = float(value)
        else:
            raise TypeError(f"requirement {key!r} is neither text nor a number: {value!r}")
    return out
