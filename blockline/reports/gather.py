"""From the store to a document: the same engine functions the commands' JSON comes from, then a builder.

Each ``*_document`` reads what it needs, calls the function the matching command calls (``check_adjustment``
and ``ledger``; ``assess_zone`` on a saved zone's outline; ``idle_findings``; ``lifecycle_findings``), draws
the map from PostGIS geometries, and returns a ``blockline.reports.document.Document``. The command
(``blockline report``) and the pages' buttons both call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from pydantic_settings import BaseSettings, SettingsConfigDict
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from blockline.reports import papers
from blockline.reports.document import DOC_NO_PLACEHOLDER, Cover, Document
from blockline.services.balance import check_adjustment, ledger
from blockline.services.judged import governing_profile
from blockline.services.zones_store import read_zones
from geo import clock
from geo.errors import InputError
from geo.paper_map import MapLayer, PaperMap, context_layers, render_map
from geo.queries import county_names, read_blocklines, read_parcels, read_ratings
from geo.store import storage_srid
from zoning.balance import normalise_doc
from zoning.consolidation import assess_zone
from zoning.findings import findings_json
from zoning.idle import idle_findings, low_efficiency
from zoning.lifecycle import lifecycle_findings
from zoning.policy import Profile

__all__ = [
    "ReportSettings",
    "balance_check_document",
    "balance_recorded_document",
    "contract_document",
    "cover_for",
    "idle_document",
    "zone_document",
]


class ReportSettings(BaseSettings):
    """Settings of the documents: the issuing authority (``BLOCKLINE_AUTHORITY``) printed on every cover."""

    model_config = SettingsConfigDict(env_prefix="BLOCKLINE_", env_file=".env", extra="ignore")
    authority: str = "XX市自然资源和规划局"


def cover_for(
    *, prepared_by: str, authority: str | None = None, date: dt.date | None = None, doc_no: str | None = None
) -> Cover:
    """The cover block: the authority of the settings unless given, today unless given, a 文号 placeholder."""
    return Cover(
        authority=authority or ReportSettings().authority,
        date=date or clock.today(),
        prepared_by=prepared_by,
        doc_no=doc_no or DOC_NO_PLACEHOLDER,
    )


# -- maps -----------------------------------------------------------------------------------------------------------
def _srid(engine: Engine) -> int:
    with engine.connect() as conn:
        return storage_srid(conn)


def _series(geoms: BaseGeometry | Sequence[BaseGeometry] | None, srid: int) -> gpd.GeoSeries:
    """One geometry, a sequence of them or None (as ``check_adjustment`` takes them) as a GeoSeries."""
    items = [] if geoms is None else [geoms] if isinstance(geoms, BaseGeometry) else list(geoms)
    return gpd.GeoSeries([g for g in items if g is not None and not g.is_empty], crs=f"EPSG:{srid}")


def _map(engine: Engine, layers: list[MapLayer], *, title: str, srid: int) -> PaperMap | None:
    drawn = [lay for lay in layers if len(lay.geometries)]
    if not drawn:
        return None
    x0, y0, x1, y1 = gpd.GeoSeries(
        pd.concat([lay.geometries for lay in drawn]), crs=f"EPSG:{srid}"
    ).total_bounds
    w, h = max(x1 - x0, 200.0), max(y1 - y0, 200.0)
    context = context_layers(engine, bounds=(x0 - w, y0 - h, x1 + w, y1 + h), srid=srid)
    return render_map(
        drawn,
        context=context,
        title=title,
        note=f"坐标系 EPSG:{srid}；县界与工业区块线取自 blockline 数据库（现状）",
    )


def _figure(drawn: PaperMap | None) -> dict[str, Any]:
    """A builder's map arguments: the PNG, and the keys that stand on it for parcel numbers that did not fit."""
    return {"map_png": drawn.png if drawn else None, "map_keys": drawn.keys if drawn else ()}


# -- 占补平衡 -------------------------------------------------------------------------------------------------------
def _balance_map(
    engine: Engine,
    removal: BaseGeometry | Sequence[BaseGeometry] | None,
    addition: BaseGeometry | Sequence[BaseGeometry] | None,
    *,
    title: str,
    srid: int,
) -> PaperMap | None:
    return _map(
        engine,
        [
            MapLayer("调出（占用）范围", _series(removal, srid), face="#3182bd", edge="#08519c", hatch="//"),
            MapLayer("补入范围", _series(addition, srid), face="#31a354", edge="#006d2c", hatch="\\\\"),
        ],
        title=title,
        srid=srid,
    )


def balance_check_document(
    engine: Engine,
    *,
    county: str,
    removal: BaseGeometry | Sequence[BaseGeometry] | None,
    addition: BaseGeometry | Sequence[BaseGeometry] | None,
    profile: Profile,
    cover: Cover,
) -> Document:
    """占补平衡调整论证材料 for an adjustment checked now (``blockline balance check``'s figures)."""
    check = check_adjustment(engine, county=county, profile=profile, removal=removal, addition=addition)
    d = check.as_dict()
    city_before = ledger(engine)["city_balance_mu"]
    png = _balance_map(
        engine,
        removal,
        addition,
        title=f"{county} {d.get('county_name') or ''} 占补平衡调整示意图",
        srid=_srid(engine),
    )
    return papers.balance_paper(d, cover=cover, city_before_mu=city_before, **_figure(png))


def balance_recorded_document(engine: Engine, *, approval_doc: str, cover: Cover) -> Document:
    """占补平衡调整论证材料 for the recorded adjustment of ``approval_doc``: its stored check and ledger entry."""
    book = ledger(engine)
    entries = book["entries"]
    at = [i for i, e in enumerate(entries) if normalise_doc(e["approval_doc"]) == normalise_doc(approval_doc)]
    if not at:
        raise InputError(
            f"台账中没有批复文号“{approval_doc}”的记录",
            f"the ledger has no entry for '{approval_doc}'",
            fix_zh="用 blockline balance ledger 查看已记录的文号",
            fix_en="list the recorded documents with blockline balance ledger",
        )
    entry = entries[at[0]]
    city_before = entries[at[0] - 1]["city_balance_after_mu"] if at[0] > 0 else 0.0
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT report, removal_geom, addition_geom FROM adjustments WHERE id = :i"),
            {"i": entry["id"]},
        ).one()

    def geom(v: Any) -> list[BaseGeometry]:
        return (
            [] if v is None else [shapely.from_wkb(bytes.fromhex(v) if isinstance(v, str) else bytes(v.data))]
        )

    srid = _srid(engine)
    png = _balance_map(
        engine,
        geom(row.removal_geom),
        geom(row.addition_geom),
        title=f"{entry['county_code']} {entry['county_name']} 占补平衡调整示意图（{entry['approval_doc']}）",
        srid=srid,
    )
    return papers.balance_paper(
        row.report, cover=cover, city_before_mu=city_before, **_figure(png), recorded=entry
    )


# -- 连片开发 ---------------------------------------------------------------------------------------------------------
def _saved_zone(engine: Engine, zone: str) -> Any:
    zones = read_zones(engine)
    hit = zones[zones["id"].astype(str) == zone.strip()] if zone.strip().isdigit() else zones.iloc[0:0]
    if not len(hit):
        hit = zones[zones["name"] == zone.strip()]
    if len(hit) > 1:
        raise InputError(
            f"有 {len(hit)} 个片区名为“{zone}”",
            f"{len(hit)} zones are named '{zone}'",
            fix_zh="改用片区编号：" + "、".join(map(str, hit["id"])),
            fix_en="give the zone's id: " + ", ".join(map(str, hit["id"])),
        )
    if not len(hit):
        raise InputError(
            f"没有名称或编号为“{zone}”的已保存片区",
            f"no saved zone has the name or id '{zone}'",
            fix_zh="先用 blockline zones assess FILE --save 名称 保存片区",
            fix_en="save it first with blockline zones assess FILE --save NAME",
        )
    return hit.iloc[0]


def zone_document(
    engine: Engine, *, zone: str, profile: Profile, as_of: dt.date, cover: Cover, min_mu: float | None = None
) -> Document:
    """连片开发片区方案 for a saved zone (by id or name): ``zones assess`` on its outline, as of ``as_of``."""
    z = _saved_zone(engine, zone)
    parcels: gpd.GeoDataFrame = read_parcels(engine)  # with geometry: a GeoDataFrame
    near = parcels[parcels.intersects(z.geometry)].copy()
    near["low_efficiency"] = low_efficiency(
        near, read_ratings(engine), as_of=as_of, profile=profile
    ).to_numpy()
    result = assess_zone(
        z.geometry,
        near,
        level1=read_blocklines(engine, level=1),
        level2=read_blocklines(engine, level=2),
        profile=profile,
        min_mu=min_mu,
    )
    srid = _srid(engine)
    taken = near[near["parcel_no"].isin([p["parcel_no"] for p in result["parcels"]])]
    low, other = taken[taken["low_efficiency"]], taken[~taken["low_efficiency"]]
    label = len(taken) <= 40
    layers = [
        MapLayer(
            "低效用地宗地",
            low.geometry,
            face="#fdae6b",
            edge="#a63603",
            hatch="xx",
            labels=list(low["parcel_no"]) if label else None,
        ),
        MapLayer(
            "其他宗地",
            other.geometry,
            face="#deebf7",
            edge="#6baed6",
            labels=list(other["parcel_no"]) if label else None,
        ),
        MapLayer("片区范围", _series([z.geometry.boundary], srid), edge="#54278f", linewidth=2.0),
    ]
    png = _map(engine, layers, title=f"连片开发片区“{z['name']}”", srid=srid)
    threshold = profile.value("consolidation.min_mu") if min_mu is None else min_mu
    county = z["county_code"] if isinstance(z["county_code"], str) else None  # a drawn zone may have none
    info = {"id": int(z["id"]), "name": z["name"], "county_code": county, "requirements": z["requirements"]}
    return papers.zone_paper(
        info,
        result,
        cover=cover,
        min_mu=float(threshold),
        as_of=as_of,
        **_figure(png),
        policy_terms=_zone_terms(profile),
    )


def _zone_terms(profile: Profile) -> list[tuple[str, str]]:
    """The development period and the plot ratio every parcel's contract carries, as the profile words them."""
    terms = []
    for label, keys in (
        ("开发期限", ("construction.start_months", "construction.build_months_by_investment")),
        ("容积率", ("use.below_contract_far",)),
    ):
        known = [k for k in keys if k in profile.parameters]
        if known:
            terms.append(
                (label, "；".join(f"{profile.parameters[k].note}（{profile.cite(k)}）" for k in known))
            )
    return terms


# -- a parcel's findings --------------------------------------------------------------------------------------------
def _parcel(engine: Engine, parcel_no: str) -> gpd.GeoDataFrame:
    found = read_parcels(engine, parcel_nos=[parcel_no])
    if not len(found):
        raise InputError(
            f"没有宗地编号为“{parcel_no}”的现状宗地",
            f"no current parcel numbered '{parcel_no}'",
            fix_zh="核对宗地编号（blockline parcels 列出全部宗地）",
            fix_en="check the number (blockline parcels lists them)",
        )
    return found


def _facts(engine: Engine, parcel: gpd.GeoDataFrame) -> dict[str, Any]:
    row = parcel.drop(columns="geometry").iloc[0].to_dict()
    facts = {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in row.items()}
    for k, v in facts.items():
        if isinstance(v, (dt.date, pd.Timestamp)):
            facts[k] = v.isoformat()[:10]
    code = facts.get("county_code")
    facts["county"] = f"{code} {county_names(engine).get(code, '')}".strip() if code else None
    return facts


def _parcel_map(engine: Engine, parcel: gpd.GeoDataFrame, *, title: str) -> PaperMap | None:
    return _map(
        engine,
        [MapLayer("宗地", parcel.geometry, face="#e31a1c", edge="#67000d", labels=list(parcel["parcel_no"]))],
        title=title,
        srid=_srid(engine),
    )


def _findings_of(
    findings: pd.DataFrame, *, as_of: dt.date, profile: Profile, parcel_no: str
) -> list[dict[str, Any]]:
    body = findings_json(findings, as_of=as_of, profile=profile)
    return next((p["findings"] for p in body["parcels"] if p["parcel_no"] == parcel_no), [])


def _refuse(
    parcel_no: str, found: list[dict[str, Any]], *, what_zh: str, what_en: str, command: str
) -> InputError:
    cats = "、".join(dict.fromkeys(f["category"] for f in found)) or "无"
    return InputError(
        f"宗地 {parcel_no} 没有{what_zh}的认定结果（现有：{cats}）",
        f"parcel {parcel_no} has no {what_en} finding (it has: {cats or 'none'})",
        fix_zh=f"用 blockline {command} 查看该宗地的认定，或换一个日期（--as-of）/政策（--policy）",
        fix_en=f"see its findings with blockline {command}, or another --as-of / --policy",
    )


def idle_document(
    engine: Engine,
    *,
    parcel_no: str,
    kind: str,
    profile: Profile,
    as_of: dt.date,
    cover: Cover,
    price_wan: float | None = None,
) -> Document:
    """闲置土地调查通知书 (``kind="notice"``) or 认定书 (``"decision"``) for a parcel with an idle finding.

    The parcel is judged by the text in force in its county (``blockline.services.judged.governing_profile``).
    """
    parcel = _parcel(engine, parcel_no)
    profile = governing_profile(profile, parcel["county_code"].iloc[0])
    found = _findings_of(
        idle_findings(parcel.drop(columns="geometry"), as_of=as_of, profile=profile),
        as_of=as_of,
        profile=profile,
        parcel_no=parcel_no,
    )
    idle = [f for f in found if f["category"] in papers.IDLE_CATEGORIES]
    if not idle:
        raise _refuse(parcel_no, found, what_zh="闲置土地", what_en="idle-land", command="idle")
    if price_wan is not None and not price_wan >= 0:
        raise InputError(
            "土地价款须为非负数（万元）",
            "the land price must be a non-negative number (万元)",
            fix_zh="填写出让价款，如 --price-wan 1200",
            fix_en="give the price, e.g. --price-wan 1200",
        )
    png = _parcel_map(engine, parcel, title=f"宗地 {parcel_no} 位置示意图")
    return papers.idle_paper(
        kind, _facts(engine, parcel), idle, cover=cover, as_of=as_of, price_wan=price_wan, **_figure(png)
    )


def contract_document(
    engine: Engine,
    *,
    parcel_no: str,
    profile: Profile,
    as_of: dt.date,
    cover: Cover,
    city_standard_tax_per_mu_wan: float | None = None,
) -> Document:
    """履约核查函 for a parcel with a tax shortfall or a termination-possible finding (``blockline lifecycle``).

    The parcel is judged by the text in force in its county (``blockline.services.judged.governing_profile``).
    """
    parcel = _parcel(engine, parcel_no)
    profile = governing_profile(profile, parcel["county_code"].iloc[0])
    found = _findings_of(
        lifecycle_findings(
            parcel.drop(columns="geometry"),
            read_ratings(engine),
            as_of=as_of,
            profile=profile,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        ),
        as_of=as_of,
        profile=profile,
        parcel_no=parcel_no,
    )
    due = [f for f in found if f["category"] in papers.CONTRACT_CATEGORIES]
    if not due:
        raise _refuse(
            parcel_no,
            found,
            what_zh="税收不足或可解除合同",
            what_en="tax-shortfall or termination",
            command="lifecycle",
        )
    png = _parcel_map(engine, parcel, title=f"宗地 {parcel_no} 位置示意图")
    return papers.contract_paper(_facts(engine, parcel), due, cover=cover, as_of=as_of, **_figure(png))
