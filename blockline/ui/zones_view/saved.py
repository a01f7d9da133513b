"""Saved zones (``blockline.services.zones_store``): their table, and each as a GeoPackage layer or an Excel workbook.

Examples
--------
>>> import pandas as pd
>>> from shapely import box
>>> zones = pd.DataFrame([{"id": 1, "name": "东片", "kind": "drawn", "county_code": None, "area_mu": 120.0,
...     "assessment": "{}", "params": {}, "requirements": {"industry": "装备"}, "created_by": "li",
...     "created_at": pd.Timestamp("2026-01-02 03:04", tz="UTC")}])
>>> saved_frame(zones, "en").iloc[0][["Name", "Requirements"]].tolist()
['东片', 'Industry: 装备']
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from blockline.services.zones_store import REQUIREMENT_KEYS
from blockline.ui.i18n import LANGS, translate
from blockline.ui.zones_view.tables import assessment_frame, levels_text, share_text
from geo.clock import shown, shown_iso
from geo.export import write_layer, write_workbook

__all__ = ["layer_bytes", "saved_frame", "saved_layer", "saved_zone_xlsx"]


def _mapping(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return {}


def _requirements_text(requirements: Mapping[str, Any], lang: str) -> str:
    parts = []
    for key, value in requirements.items():
        label = translate(f"zones.req.{key}", lang) if f"zones.req.{key}" in LANGS["zh"] else str(key)
        shown = (
            f"{float(value):,.2f}"
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else str(value)
        )
        parts.append(f"{label}：{shown}" if lang != "en" else f"{label}: {shown}")
    return "；".join(parts) if lang != "en" else "; ".join(parts)


def saved_frame(zones: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Saved zones (``blockline.services.zones_store.read_zones``) as a table, headers in ``lang``."""
    rows = []
    for z in zones.to_dict(orient="records"):  # a row's values as the frame holds them
        assessment = _mapping(z["assessment"])
        params = _mapping(z["params"])
        met = assessment.get("meets_threshold")
        area_mu = z["area_mu"]
        rows.append(
            {
                "id": int(z["id"]),
                "name": str(z["name"]),
                "kind": translate(f"zones.kind.{z['kind']}", lang),
                "county_code": ""
                if z["county_code"] is None or pd.isna(z["county_code"])
                else str(z["county_code"]),
                "area_mu": round(float(area_mu), 2)
                if area_mu is not None and not pd.isna(area_mu)
                else np.nan,
                "meets": "" if met is None else translate("yes" if met else "no", lang),
                "holders": str(assessment.get("holders", params.get("holders", ""))),
                "policy": str(assessment.get("article") or params.get("policy") or ""),
                "requirements": _requirements_text(_mapping(z["requirements"]), lang),
                "created_by": str(z["created_by"]),
                "created_at": shown(z["created_at"]),
            }
        )
    columns = [
        "id",
        "name",
        "kind",
        "county_code",
        "area_mu",
        "meets",
        "holders",
        "policy",
        "requirements",
        "created_by",
        "created_at",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["area_mu"] = frame["area_mu"].astype(float)
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def saved_layer(zone: pd.Series, crs: object) -> gpd.GeoDataFrame:
    """One saved zone as a layer for a GeoPackage: its fields, requirements and assessment as columns."""
    assessment = _mapping(zone["assessment"])
    requirements = _mapping(zone["requirements"])
    row: dict[str, Any] = {
        "id": int(zone["id"]),
        "name": str(zone["name"]),
        "kind": str(zone["kind"]),
        "county_code": None
        if zone["county_code"] is None or pd.isna(zone["county_code"])
        else str(zone["county_code"]),
        "area_mu": round(float(zone["area_mu"]), 2),
        "meets_threshold": assessment.get("meets_threshold"),
        "holders": assessment.get("holders"),
        "low_efficiency_share": assessment.get("low_efficiency_share"),
        "article": assessment.get("article"),
        "policy": assessment.get("policy"),
        "parcels": ",".join(str(p["parcel_no"]) for p in assessment.get("parcels", [])) or None,
    }
    for key in REQUIREMENT_KEYS:
        row[key] = requirements.get(key)
    row["created_by"] = str(zone["created_by"])
    row["created_at"] = shown_iso(zone["created_at"])
    return gpd.GeoDataFrame([row], geometry=[zone["geometry"]], crs=crs)


def saved_zone_xlsx(zone: pd.Series, lang: str) -> bytes:
    """One saved zone as an Excel workbook: a sheet of its facts and requirements, and one of its parcels."""
    assessment = _mapping(zone["assessment"])
    requirements = _mapping(zone["requirements"])
    facts: list[tuple[str, object]] = [
        (translate("zones.col.id", lang), int(zone["id"])),
        (translate("zones.col.name", lang), str(zone["name"])),
        (translate("zones.col.kind", lang), translate(f"zones.kind.{zone['kind']}", lang)),
        (
            translate("zones.col.county_code", lang),
            "" if zone["county_code"] is None or pd.isna(zone["county_code"]) else str(zone["county_code"]),
        ),
        (translate("zones.col.area_mu", lang), round(float(zone["area_mu"]), 2)),
    ]
    if assessment:
        facts += [
            (
                translate("zones.meets", lang),
                translate("yes" if assessment.get("meets_threshold") else "no", lang),
            ),
            (translate("zones.holders", lang), assessment.get("holders")),
            (translate("zones.low_share", lang), share_text(assessment.get("low_efficiency_share"))),
            (translate("zones.levels", lang), levels_text(assessment.get("block_line_levels"), lang)),
            (translate("zones.col.policy", lang), assessment.get("article")),
        ]
    facts += [(translate(f"zones.req.{k}", lang), requirements.get(k)) for k in REQUIREMENT_KEYS]
    facts += [
        (translate("zones.col.created_by", lang), str(zone["created_by"])),
        (translate("zones.col.created_at", lang), shown(zone["created_at"])),
    ]
    sheet = pd.DataFrame(
        facts, columns=[translate("zones.col.item", lang), translate("zones.col.value", lang)]
    )
    sheet[sheet.columns[1]] = sheet[sheet.columns[1]].map(lambda v: "" if v is None else v)
    parcels = assessment_frame({"parcels": assessment.get("parcels", [])}, lang)
    buffer = io.BytesIO()
    # the one guarded table writer: a zone name or a holder that starts like a formula stays text
    write_workbook(
        {translate("zones.sheet.zone", lang): sheet, translate("zones.sheet.parcels", lang): parcels},
        buffer,
        width_factor=1.5,
    )
    return buffer.getvalue()


def layer_bytes(layer: gpd.GeoDataFrame, *, name: str) -> bytes:
    """``layer`` as the bytes of a GeoPackage (one layer called ``name``, in the layer's own CRS)."""
    with tempfile.TemporaryDirectory(prefix="blockline-zones-") as tmp:
        path = write_layer(layer, Path(tmp) / "zones.gpkg", fmt="gpkg", layer=name)
        return path.read_bytes()
