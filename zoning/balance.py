"""占一补一 (WZ §5): check an adjustment of the level-1 block lines, record it, keep the ledger.

For an adjustment in county C (DOMAIN.md):

- occupied = area of (removal ∩ current level 1 of C): only what really leaves level 1 counts;
- replaced = area of ((addition − current level 1) ∩ C): land already in level 1, or outside C, counts for nothing;
- C's standing balance = Σ over its recorded adjustments (replaced − occupied) + transfers in − transfers out;
- balance after = standing + replaced − occupied; county-balanced when ≥ 0;
- city-balanced when the sum of every county's balance after the adjustment is ≥ 0 (the shortfall can be
  covered by transfers, and the city's level-1 total does not fall). The city's balance is its level-1 total
  less the total the lines were loaded with (transfers move balance between counties, not land), so "the
  city's level-1 total fell" and "not city-balanced" are one fact, decided by ``city_level1_fell`` for the
  check and for every entry of the ledger alike.

Recording is exactly-once. An approval document (批复文号) is recorded once: its normalised form
(``normalise_doc``) is unique in the database, and a second request with the same document is refused
naming the entry that holds it. Every request carries an idempotency key (``request_id``, by default
derived from its content by ``request_key``): a retry of a request that was recorded returns the first
result and records nothing. When the connection is lost after COMMIT was sent, the outcome is unknown and
the error says so (``OutcomeUnknown``), never "rolled back": the retry, or the ledger, tells which.

The geometry work runs in PostGIS, in one statement per question, so a check at city scale takes a
fraction of a second; recording runs in one SERIALIZABLE transaction, so two planners recording at once
can never both spend the same surplus (one of them is retried against the new balance, and refused if
it no longer fits).

Examples
--------
>>> round(balance_after(standing_mu=10.0, occupied_mu=90.0, replaced_mu=82.5), 2)
2.5
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection, Engine

from geo import errors
from geo.area import M2_PER_MU
from geo.audit import record
from geo.auth import authorize
from geo.clock import shown
from geo.errors import BlocklineError, DatabaseUnavailable, InputError
from geo.fixes import fix
from geo.landuse import industrial_land_uses, label
from geo.settings import get_settings
from geo.store import SERIALIZATION_FAILURES, first_line, storage_srid, transaction
from zoning.policy import Profile

__all__ = [
    "EPSILON_MU",
    "BalanceCheck",
    "OutcomeUnknown",
    "Transfer",
    "Unbalanced",
    "balance_after",
    "city_level1_fell",
    "normalise_doc",
    "request_key",
    "check_adjustment",
    "record_adjustment",
    "standing_balances",
    "ledger",
    "level1_history",
    "parse_transfers",
]

#: balances are compared at this precision (亩): a hundredth of a 亩 is what a planner reports
EPSILON_MU = 0.005


class Unbalanced(BlocklineError):
    """The adjustment is not covered by the county's balance and the named transfers (exit code 1)."""

    exit_code = 1


class OutcomeUnknown(errors.OutcomeUnknown):
    """The connection was lost after COMMIT was sent: the entry may or may not be recorded (exit code 3).

    The store's lost commit, told in the ledger's words: the retry with the same request, or the ledger, tells which.
    """


def city_level1_fell(city_balance_mu: float) -> bool:
    """Whether the city's level-1 total is below what the lines were loaded with, given the city's balance.

    The one test behind the check's ``city_balanced`` (its negation) and the ledger's ``fell``: the city's
    balance (the sum of every county's) is negative by more than ``EPSILON_MU``.

    Examples
    --------
    >>> city_level1_fell(-7.5), city_level1_fell(0.0), city_level1_fell(-0.004)
    (True, False, False)
    """
    return city_balance_mu < -EPSILON_MU


_BRACKETS = str.maketrans(
    {"[": "〔", "]": "〕", "(": "〔", ")": "〕", "【": "〔", "】": "〕", "〖": "〔", "〗": "〕"}
)


def normalise_doc(doc: str) -> str:
    """The approval document number as it is compared: NFKC, no whitespace, one form of bracket.

    Examples
    --------
    >>> normalise_doc(" 温政函 〔２０２６〕 99 号 ") == normalise_doc("温政函[2026]99号") == "温政函〔2026〕99号"
    True
    """
    return "".join(unicodedata.normalize("NFKC", doc).split()).translate(_BRACKETS)


def request_key(
    *,
    county: str,
    approval_doc: str,
    removal_hex: str | None,
    addition_hex: str | None,
    transfers: Sequence[Transfer],
) -> str:
    """The default idempotency key of a recording: a digest of what it asks for.

    The county, the normalised document, the removal's and the addition's geometry (as stored) and the
    transfers: the same command run again gives the same key.

    Examples
    --------
    >>> a = request_key(county="330302", approval_doc="温政函[2026]9号", removal_hex=None, addition_hex="01",
    ...                 transfers=[Transfer("330304", 7.5)])
    >>> a == request_key(county="330302", approval_doc="温政函〔2026〕9号", removal_hex=None, addition_hex="01",
    ...                  transfers=[Transfer("330304", 7.50)])
    True
    """
    body = json.dumps(
        {
            "county": county,
            "doc": normalise_doc(approval_doc),
            "removal": removal_hex,
            "addition": addition_hex,
            "transfers": sorted([t.from_county, round(t.mu, 6)] for t in transfers),
        },
        sort_keys=True,
    )
    return "auto-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Transfer:
    """Balance moved from one county's account to another's (指标跨区域置换)."""

    from_county: str
    mu: float


def parse_transfers(items: Sequence[str]) -> list[Transfer]:
    """Parse ``--transfer FROM_CODE:MU`` options.

    Examples
    --------
    >>> parse_transfers(["330303:7.5"])
    [Transfer(from_county='330303', mu=7.5)]
    """
    out = []
    for item in items:
        code, sep, mu = item.partition(":")
        try:
            value = float(mu)
        except ValueError:
            value = float("nan")
        if not sep or len(code) != 6 or not code.isdigit() or not np.isfinite(value) or value <= 0:
            raise InputError(
                f"指标调剂“{item}”格式不对",
                f"transfer '{item}' is not FROM_CODE:MU",
                **fix("transfer_format"),
            )
        out.append(Transfer(code, value))
    return out


def balance_after(*, standing_mu: float, occupied_mu: float, replaced_mu: float) -> float:
    """The county's balance once the adjustment is recorded."""
    return standing_mu + replaced_mu - occupied_mu


@dataclass
class BalanceCheck:
    """The answer to "does this adjustment balance?", with every figure it rests on."""

    county: str
    county_name: str
    policy: str
    article: str
    occupied_mu: float
    replaced_mu: float
    standing_balance_mu: float
    balance_after_mu: float
    county_balanced: bool
    city_balance_after_mu: float
    city_balanced: bool
    level1_before_mu: float
    level1_after_mu: float
    city_level1_before_mu: float
    city_level1_after_mu: float
    removal_outside_level1_mu: float
    addition_already_level1_mu: float
    addition_outside_county_mu: float
    warnings: list[dict[str, str]] = field(default_factory=list)
    occupied_wkb: bytes | None = field(default=None, repr=False)
    replaced_wkb: bytes | None = field(default=None, repr=False)
    #: set by ``record_adjustment``: the request's idempotency key, and whether it had been recorded before
    request_id: str | None = field(default=None, repr=False)
    replayed: bool = field(default=False, repr=False)

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> BalanceCheck:
        """The check an entry was recorded on, from its stored report (``as_dict``), without geometries."""
        names = {f.name for f in fields(cls)} - {"occupied_wkb", "replaced_wkb", "request_id", "replayed"}
        return cls(**{k: report[k] for k in names if k in report})

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``blockline balance check`` (CLI.md), areas in 亩 to two decimals."""
        d: dict[str, Any] = {
            "county": self.county,
            "county_name": self.county_name,
            "policy": self.policy,
            "article": self.article,
        }
        for key in ("occupied_mu", "replaced_mu", "standing_balance_mu", "balance_after_mu"):
            d[key] = round(getattr(self, key), 2)
        d["county_balanced"] = self.county_balanced
        d["city_balance_after_mu"] = round(self.city_balance_after_mu, 2)
        d["city_balanced"] = self.city_balanced
        for key in (
            "level1_before_mu",
            "level1_after_mu",
            "city_level1_before_mu",
            "city_level1_after_mu",
            "removal_outside_level1_mu",
            "addition_already_level1_mu",
            "addition_outside_county_mu",
        ):
            d[key] = round(getattr(self, key), 2)
        d["warnings"] = list(self.warnings)
        return d

    @property
    def occupied_geometry(self) -> BaseGeometry | None:
        """The land taken out of the block lines, or None when none was."""
        return shapely.from_wkb(self.occupied_wkb) if self.occupied_wkb else None

    @property
    def replaced_geometry(self) -> BaseGeometry | None:
        """The land put into the block lines in its place, or None when none was."""
        return shapely.from_wkb(self.replaced_wkb) if self.replaced_wkb else None


def _geometry_param(
    geoms: BaseGeometry | Sequence[BaseGeometry] | None, srid: int, *, what: str
) -> str | None:
    """One polygonal geometry (the union of what was drawn or loaded), as hex EWKB for PostGIS."""
    if geoms is None:
        return None
    items: list[Any]
    try:
        items = [geoms] if isinstance(geoms, BaseGeometry) else list(geoms)
    except TypeError:
        items = [geoms]
    for g in items:
        if g is not None and not isinstance(g, BaseGeometry):
            raise InputError(
                f"{what}不是几何图形（{type(g).__name__}）",
                f"the {what} is not a geometry ({type(g).__name__})",
                fix_zh="绘制或导入面要素",
                fix_en="draw or load polygons",
            )
    items = [g for g in items if g is not None and not g.is_empty]
    if not items:
        return None
    for g in items:
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                f"{what}须为面，而不是 {g.geom_type}",
                f"the {what} must be polygons, not {g.geom_type}",
                fix_zh="绘制或导入面要素",
                fix_en="draw or load polygons",
            )
        coords = shapely.get_coordinates(g)
        # a real rezoning lies within a few hundred km of the projection's origin: anything else is garbage
        if not np.isfinite(coords).all() or (np.abs(coords) > 1e8).any():
            raise InputError(
                f"{what}的坐标无效（非数值或超出范围）",
                f"the {what} has coordinates that are not finite or out of range",
                **fix("crs_coords"),
            )
    union = shapely.union_all(shapely.make_valid(np.array(items, dtype=object)))
    union = shapely.set_srid(union, srid)
    return shapely.to_wkb(union, hex=True, include_srid=True)


_CHECK_SQL = """
WITH
county AS (SELECT code, name, geom FROM admin_areas WHERE code = :county),
l1c AS (SELECT ST_Union(geom) AS geom FROM block_lines WHERE valid_to IS NULL AND level = 1 AND county_code = :county),
rem AS (SELECT ST_MakeValid(ST_GeomFromEWKB(decode(:removal, 'hex'))) AS geom),
add AS (SELECT ST_MakeValid(ST_GeomFromEWKB(decode(:addition, 'hex'))) AS geom),
l1 AS (SELECT ST_Union(b.geom) AS geom FROM block_lines b, add
       WHERE b.valid_to IS NULL AND b.level = 1 AND ST_Intersects(b.geom, add.geom)),
l2 AS (SELECT ST_Union(b.geom) AS geom FROM block_lines b, county c
       WHERE b.valid_to IS NULL AND b.level = 2 AND ST_Intersects(b.geom, c.geom)),
occ AS (SELECT CASE WHEN rem.geom IS NULL OR l1c.geom IS NULL THEN NULL
                    ELSE ST_CollectionExtract(ST_Intersection(rem.geom, l1c.geom), 3) END AS geom FROM rem, l1c),
new_land AS (SELECT CASE WHEN add.geom IS NULL THEN NULL
                         WHEN l1.geom IS NULL THEN add.geom
                         ELSE ST_CollectionExtract(ST_Difference(add.geom, l1.geom), 3) END AS geom FROM add, l1),
rep AS (SELECT ST_CollectionExtract(ST_Intersection(n.geom, c.geom), 3) AS geom FROM new_land n, county c),
industrial AS (
    SELECT ST_Union(p.geom) AS geom FROM parcels p, add
    WHERE p.valid_to IS NULL AND ST_Intersects(p.geom, add.geom)
      AND p.land_use = ANY(:industrial)),
non_industrial AS (
    SELECT p.parcel_no, p.land_use, ST_Area(ST_Intersection(p.geom, rep.geom)) AS m2
    FROM parcels p, rep
    WHERE p.valid_to IS NULL AND rep.geom IS NOT NULL AND ST_Intersects(p.geom, rep.geom)
      AND p.land_use IS NOT NULL
      AND NOT p.land_use = ANY(:industrial))
SELECT
    (SELECT name FROM county) AS county_name,
    coalesce(ST_Area(occ.geom), 0) AS occupied_m2,
    coalesce(ST_Area(rep.geom), 0) AS replaced_m2,
    coalesce((SELECT ST_Area(geom) FROM l1c), 0) AS level1_m2,
    coalesce(ST_Area(rem.geom), 0) AS removal_m2,
    coalesce(ST_Area(add.geom), 0) AS addition_m2,
    coalesce(ST_Area(new_land.geom), 0) AS new_land_m2,
    CASE WHEN rep.geom IS NULL OR ST_IsEmpty(rep.geom) THEN 0
         ELSE ST_Area(ST_Difference(rep.geom, ST_Union(
             coalesce((SELECT geom FROM l2), ST_SetSRID('POLYGON EMPTY'::geometry, ST_SRID(rep.geom))),
             coalesce((SELECT geom FROM industrial), ST_SetSRID('POLYGON EMPTY'::geometry, ST_SRID(rep.geom))))))
         END AS outside_industrial_m2,
    (SELECT json_agg(json_build_object('parcel_no', parcel_no, 'land_use', land_use, 'm2', m2))
     FROM non_industrial WHERE m2 > 1) AS non_industrial,
    (SELECT json_agg(ST_Area(d.geom)) FROM ST_Dump(rep.geom) d) AS piece_m2,
    ST_AsEWKB(occ.geom) AS occ_wkb,
    ST_AsEWKB(rep.geom) AS rep_wkb
FROM occ, rep, rem, add, new_land
"""

_BALANCES_SQL = """
SELECT a.code,
       coalesce((SELECT sum(replaced_mu - occupied_mu) FROM adjustments j WHERE j.county_code = a.code), 0)
     + coalesce((SELECT sum(mu) FROM quota_transfers t WHERE t.to_county = a.code), 0)
     - coalesce((SELECT sum(mu) FROM quota_transfers t WHERE t.from_county = a.code), 0) AS balance
FROM admin_areas a WHERE a.level = 'county' ORDER BY a.code
"""


def standing_balances(conn: Connection) -> dict[str, float]:
    """Every county's standing 占补 balance (亩): recorded adjustments and transfers so far."""
    return {code: float(b) for code, b in conn.execute(sa.text(_BALANCES_SQL)).all()}


def _level1_totals(conn: Connection) -> dict[str, float]:
    rows = conn.execute(
        sa.text("""
        SELECT county_code, sum(ST_Area(geom)) FROM block_lines WHERE valid_to IS NULL AND level = 1
        GROUP BY county_code""")
    ).all()
    return {c: float(m2) / M2_PER_MU for c, m2 in rows}


def _check(conn: Connection, *, county: str, removal: Any, addition: Any, profile: Profile) -> BalanceCheck:
    srid = storage_srid(conn)
    if (
        conn.execute(
            sa.text("SELECT 1 FROM admin_areas WHERE code = :c AND level = 'county'"), {"c": county}
        ).first()
        is None
    ):
        raise InputError(
            f"没有县级行政区 {county}", f"no county {county} among the loaded boundaries", **fix("county")
        )
    rem = _geometry_param(removal, srid, what="调出范围/removal")
    add = _geometry_param(addition, srid, what="补入范围/addition")
    if rem is None and add is None:
        raise InputError(
            "调整方案既无调出也无补入范围",
            "the adjustment has neither removal nor addition",
            **fix("remove_add"),
        )
    row = (
        conn.execute(
            sa.text(_CHECK_SQL),
            {
                "county": county,
                "removal": rem,
                "addition": add,
                "industrial": industrial_land_uses(conn),
            },
        )
        .mappings()
        .one()
    )
    occupied = row["occupied_m2"] / M2_PER_MU
    replaced = row["replaced_m2"] / M2_PER_MU
    balances = standing_balances(conn)
    standing = balances.get(county, 0.0)
    after = balance_after(standing_mu=standing, occupied_mu=occupied, replaced_mu=replaced)
    city_after = sum(balances.values()) + replaced - occupied
    level1 = _level1_totals(conn)
    level1_before = row["level1_m2"] / M2_PER_MU
    cite = profile.cite("balance.occupy_replace")
    fit = cite  # fit for industry (WZ §4) is judged with geo.landuse: 工业用地 of any standard, not 仓储
    warnings: list[dict[str, str]] = []

    def warn(code: str, zh: str, en: str, article: str = cite) -> None:
        warnings.append({"code": code, "message": f"{zh} / {en}", "article": article})

    outside_county = (row["new_land_m2"] - row["replaced_m2"]) / M2_PER_MU
    already = (row["addition_m2"] - row["new_land_m2"]) / M2_PER_MU
    removal_outside = (row["removal_m2"] - row["occupied_m2"]) / M2_PER_MU
    if outside_county > EPSILON_MU:
        warn(
            "outside_county",
            f"补入范围有 {outside_county:.2f} 亩位于 {county} 之外，不计入该县",
            f"{outside_county:.2f} mu of the addition lie outside county {county} and do not count",
        )
    if already > EPSILON_MU:
        warn(
            "already_level1",
            f"补入范围有 {already:.2f} 亩已在一级线内，不计入补充面积",
            f"{already:.2f} mu of the addition are already level 1 and count for nothing",
        )
    if removal_outside > EPSILON_MU:
        warn(
            "removal_outside_level1",
            f"调出范围有 {removal_outside:.2f} 亩不在该县一级线内，不计入占用面积",
            f"{removal_outside:.2f} mu of the removal are not level 1 of the county and do not count",
        )
    outside_ind = row["outside_industrial_m2"] / M2_PER_MU
    if outside_ind > EPSILON_MU:
        warn(
            "outside_industrial_land",
            f"补入范围有 {outside_ind:.2f} 亩既不在二级线内也不在工业用地上，是否适宜工业需核实",
            f"{outside_ind:.2f} mu of the addition lie neither in a level-2 line nor on industrial land: check they suit industry",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
            fit,
        )
    for item in row["non_industrial"] or []:
        warn(
            "non_industrial_use",
            f"补入范围与非工业用途宗地 {item['parcel_no']}（{label(item['land_use'])}）重叠 {item['m2'] / M2_PER_MU:.2f} 亩",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
            f"the addition overlaps parcel {item['parcel_no']} of non-industrial use {label(item['land_use'], 'en')} "
            f"by {item['m2'] / M2_PER_MU:.2f} mu",
            fit,
        )
    sliver = profile.value("balance.sliver_min_mu")
    small = [
        m2 / M2_PER_MU
        for m2 in (row["piece_m2"] or [])  # 不足: below the threshold as planners report it
        if 0 < m2 / M2_PER_MU < sliver - EPSILON_MU
    ]
    if small:
        warn(
            "sliver",
            f"补入范围中有 {len(small)} 块小于 {sliver:g} 亩的碎片（合计 {sum(small):.2f} 亩）",
            f"{len(small)} piece(s) of the addition are smaller than {sliver:g} mu ({sum(small):.2f} mu in all)",
            profile.cite("balance.sliver_min_mu"),
        )
    if occupied < EPSILON_MU and replaced < EPSILON_MU:
        warn(
            "no_change",
            "该方案既不占用也不补充本县一级线（0 亩），记录它不会改变任何东西",
            f"the adjustment neither takes land out of nor adds land to county {county}'s level 1 (0 mu): "
            "recording it would change nothing",
        )
    return BalanceCheck(
        county=county,
        county_name=row["county_name"],
        policy=profile.name,
        article=cite,
        occupied_mu=occupied,
        replaced_mu=replaced,
        standing_balance_mu=standing,
        balance_after_mu=after,
        county_balanced=after >= -EPSILON_MU,
        city_balance_after_mu=city_after,
        city_balanced=not city_level1_fell(city_after),
        level1_before_mu=level1_before,
        level1_after_mu=level1_before - occupied + replaced,
        city_level1_before_mu=sum(level1.values()),
        city_level1_after_mu=sum(level1.values()) - occupied + replaced,
        removal_outside_level1_mu=max(removal_outside, 0.0),
        addition_already_level1_mu=max(already, 0.0),
        addition_outside_county_mu=max(outside_county, 0.0),
        warnings=warnings,
        occupied_wkb=bytes(row["occ_wkb"]) if row["occ_wkb"] is not None else None,
        replaced_wkb=bytes(row["rep_wkb"]) if row["rep_wkb"] is not None else None,
    )


def check_adjustment(
    engine: Engine,
    *,
    county: str,
    removal: Any = None,
    addition: Any = None,
    profile: Profile,
) -> BalanceCheck:
    """Check an adjustment of county ``county`` against the current block lines and ledger; writes nothing.

    ``removal`` and ``addition`` are polygons (or sequences of polygons) in the storage CRS.
    """
    with engine.connect() as conn:
        return _check(conn, county=county, removal=removal, addition=addition, profile=profile)


def record_adjustment(
    engine: Engine,
    *,
    county: str,
    removal: Any = None,
    addition: Any = None,
    approval_doc: str,
    reason: str | None = None,
    transfers: Sequence[Transfer] = (),
    user: str,
    profile: Profile,
    request_id: str | None = None,
    retries: int = 5,
    on_checked: Callable[[], None] | None = None,
) -> tuple[int, BalanceCheck]:
    """Record an approved adjustment: ledger entry, transfers and the new block lines, all or nothing, once.

    Refused (``Unbalanced``, nothing written) when the county's balance after the adjustment plus the named
    transfers is below zero, or when a transfer would take the giving county below zero; refused
    (``InputError``) when it changes nothing, or when its approval document is already recorded by
    another request.

    ``request_id`` is the idempotency key (default: ``request_key`` of the request's content). When an
    entry with this key exists, nothing is written and the first result is returned, with
    ``check.replayed`` true.

    ``on_checked`` is called inside the transaction once the balance has been read and before anything is
    written (tests use it to make two recordings overlap).

    Returns
    -------
    (adjustment id, the check it was recorded on)

    Raises
    ------
    OutcomeUnknown
        When the connection was lost after COMMIT was sent: run the same request again (it records
        nothing if the first one was recorded), or look in the ledger.
    """
    if not approval_doc or not normalise_doc(approval_doc):
        raise InputError("须填写批复文号", "the approval document number is required", **fix("doc"))
    for t in transfers:
        if t.from_county == county:
            raise InputError(
                "指标不能从本县调给本县",
                "a transfer cannot come from the county itself",
                **fix("transfer_check"),
            )
    digest = request_key(
        county=county,
        approval_doc=approval_doc,
        transfers=transfers,
        removal_hex=_geometry_param(removal, 0, what="调出范围/removal"),
        addition_hex=_geometry_param(addition, 0, what="补入范围/addition"),
    )
    if request_id is not None and not (0 < len(request_id.strip()) <= 200):
        raise InputError(
            "请求标识须为 1–200 个字符", "the request id must be 1 to 200 characters", **fix("request_id")
        )
    key = request_id.strip() if request_id is not None else digest
    for attempt in range(retries):
        try:
            return _commit_once(
                engine,
                lambda conn: _record(
                    conn,
                    county=county,
                    removal=removal,
                    addition=addition,
                    approval_doc=approval_doc,
                    reason=reason,
                    transfers=transfers,
                    user=user,
                    profile=profile,
                    request_id=key,
                    digest=digest,
                    on_checked=on_checked,
                ),
                approval_doc=approval_doc,
                request_id=key,
            )
        except sa.exc.DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state not in SERIALIZATION_FAILURES and state != _UNIQUE_VIOLATION:
                raise
            if attempt == retries - 1:
                raise DatabaseUnavailable(
                    "其他用户正在同时记录调整，多次重试仍冲突；未写入任何数据",
                    "other users are recording adjustments at the same moment; retries kept conflicting; nothing was written",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
                    fix_zh="稍后重新记录",
                    fix_en="record it again in a moment",
                ) from exc
            # another recording won (or the same request, or the same document, was recorded meanwhile):
            # check again against what it wrote
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


_UNIQUE_VIOLATION = "23505"


def _commit_once(
    engine: Engine,
    work: Callable[[Connection], tuple[int, BalanceCheck]],
    *,
    approval_doc: str,
    request_id: str,
) -> tuple[int, BalanceCheck]:
    """Run ``work`` in one SERIALIZABLE transaction of the store, naming the ledger when its commit is lost.

    A failure before COMMIT is sent rolls everything back (``DatabaseUnavailable``); a conflict the server
    reports is raised as it is (the caller retries); a connection lost once COMMIT was sent leaves the
    outcome unknown (``OutcomeUnknown``, with the ledger query and the request id that tell which).
    """
    try:
        with transaction(engine, serializable=True) as conn:
            return work(conn)
    except errors.OutcomeUnknown as exc:
        raise _outcome_unknown(
            exc.__cause__ or exc, approval_doc=approval_doc, request_id=request_id
        ) from exc


def _outcome_unknown(exc: BaseException, *, approval_doc: str, request_id: str) -> OutcomeUnknown:
    doc = approval_doc.strip()
    return OutcomeUnknown(
        f"提交（COMMIT）已发出后数据库连接中断，结果未知——台账会显示是否已记录：blockline balance ledger --doc '{doc}'"
        f"（请求标识 {request_id}）：{first_line(exc)}",
        f"the database connection was lost after COMMIT was sent; the outcome is unknown — the ledger shows "
        f"whether it was recorded: blockline balance ledger --doc '{doc}' (request id {request_id}): {first_line(exc)}",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
        **fix("outcome_unknown"),
    )


_EXISTING_SQL = """
SELECT j.id, j.county_code, a.name AS county_name, j.approval_doc, j.recorded_by, j.request_id, j.report,
       to_char(j.recorded_at AT TIME ZONE :zone, 'YYYY-MM-DD HH24:MI') AS recorded_at
FROM adjustments j JOIN admin_areas a ON a.code = j.county_code
WHERE j.{column} = :value
"""


def _existing(conn: Connection, column: str, value: str) -> sa.RowMapping | None:
    zone = get_settings().timezone  # the office's clock, as geo.clock shows every other timestamp
    return (
        conn.execute(sa.text(_EXISTING_SQL.format(column=column)), {"value": value, "zone": zone})
        .mappings()
        .first()
    )


def _replay(entry: sa.RowMapping, *, request_id: str, digest: str) -> tuple[int, BalanceCheck]:
    """The first result of a request recorded before; refused when the key was used for another request."""
    report = dict(entry["report"])
    if report.get("request_digest") not in (None, digest):
        raise InputError(
            f"请求标识 {request_id} 已用于调整 #{entry['id']}（{entry['approval_doc']}），而本次请求的内容不同；未写入任何数据",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
            f"request id {request_id} was used for adjustment #{entry['id']} ({entry['approval_doc']}) with "
            "different content; nothing was written",
            **fix("request_id_reused"),
        )
    check = BalanceCheck.from_report(report)
    check.request_id, check.replayed = request_id, True
    return int(entry["id"]), check


def _refuse_recorded_doc(entry: sa.RowMapping, approval_doc: str) -> InputError:
    """The refusal of a document already recorded, naming the entry that holds it."""
    held = entry["approval_doc"]
    return InputError(
        f"批复文号“{approval_doc.strip()}”已记录为调整 #{entry['id']}（“{held}”，{entry['county_code']} "
        f"{entry['county_name']}，{entry['recorded_at']}，{entry['recorded_by']}），同一批复文号只能记录一次；未写入任何数据",
        f"approval document '{approval_doc.strip()}' is already recorded as adjustment #{entry['id']} ('{held}', "
        f"{entry['county_code']}, {entry['recorded_at']}, by {entry['recorded_by']}); a document is recorded "
        "once; nothing was written",
        **fix("recorded_doc", held=held),
    )


def _refuse_no_change(check: BalanceCheck) -> InputError:
    why = [
        w["message"]
        for w in check.warnings
        if w["code"] in ("outside_county", "already_level1", "removal_outside_level1")
    ]
    return InputError(
        f"该调整既不占用也不补充 {check.county} 的一级线（占用 {check.occupied_mu:.2f} 亩、补充 "
        f"{check.replaced_mu:.2f} 亩），记录它不会改变任何东西；未写入任何数据",
        f"the adjustment takes nothing out of and adds nothing to county {check.county}'s level 1 "
        f"({check.occupied_mu:.2f} mu occupied, {check.replaced_mu:.2f} mu replaced): recording it would change "
        "nothing; nothing was written" + ("".join(f"\n  {m}" for m in why)),
        **fix("county_files"),
    )


# complexity 14: one transaction's checks (rights, a repeated request, the lines, each transfer), each refusing
# on its own, in the order an approver reads them
def _record(  # noqa: C901
    conn: Connection,
    *,
    county: str,
    removal: Any,
    addition: Any,
    approval_doc: str,
    reason: str | None,
    transfers: Sequence[Transfer],
    user: str,
    profile: Profile,
    request_id: str,
    digest: str,
    on_checked: Callable[[], None] | None,
) -> tuple[int, BalanceCheck]:
    # Only an approver of the county, and of every county a transfer draws on, may record (WZ: 审批).
    user = authorize(conn, user, "approver", counties=[county, *(t.from_county for t in transfers)]).name
    done = _existing(conn, "request_id", request_id)
    if done is not None:
        return _replay(done, request_id=request_id, digest=digest)
    doc_key = normalise_doc(approval_doc)
    holder = _existing(conn, "approval_doc_key", doc_key)
    if holder is not None:
        raise _refuse_recorded_doc(holder, approval_doc)
    check = _check(conn, county=county, removal=removal, addition=addition, profile=profile)
    if check.occupied_mu < EPSILON_MU and check.replaced_mu < EPSILON_MU:
        raise _refuse_no_change(check)
    check.request_id = request_id
    balances = standing_balances(conn)
    incoming = sum(t.mu for t in transfers)
    for t in transfers:
        if t.from_county not in balances:
            raise InputError(
                f"没有县级行政区 {t.from_county}", f"no county {t.from_county}", **fix("transfer_check")
            )
    given: dict[str, float] = {}
    for t in transfers:
        given[t.from_county] = given.get(t.from_county, 0.0) + t.mu
    for code, mu in given.items():
        if balances[code] - mu < -EPSILON_MU:
            raise Unbalanced(
                f"{code} 的余额只有 {balances[code]:.2f} 亩，不能调出 {mu:.2f} 亩；未写入任何数据",
                f"county {code} has a balance of {balances[code]:.2f} mu and cannot give {mu:.2f} mu; nothing was written",  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
                fix_zh="减少调出数量或改由其他有结余的县调剂",
                fix_en="transfer less, or from a county with a surplus",
            )
    if check.balance_after_mu + incoming < -EPSILON_MU:
        short = -(check.balance_after_mu + incoming)
        raise Unbalanced(
            f"{county} 调整后余额 {check.balance_after_mu:.2f} 亩，加上调入 {incoming:.2f} 亩仍差 {short:.2f} 亩，"
            f"不满足占一补一（{profile.cite('balance.occupy_replace')}）；未写入任何数据",
            f"county {county}: balance after {check.balance_after_mu:.2f} mu plus transfers {incoming:.2f} mu is still "
            f"{short:.2f} mu short of occupy-one-replace-one; nothing was written",
            **fix("transfer"),
        )
    if on_checked is not None:
        on_checked()
    srid = storage_srid(conn)
    rem = _geometry_param(removal, srid, what="removal")
    add = _geometry_param(addition, srid, what="addition")
    level1_total_after = check.city_level1_after_mu
    adjustment_id = int(
        conn.execute(
            sa.text("""
        INSERT INTO adjustments (county_code, policy, approval_doc, reason, recorded_by, occupied_mu, replaced_mu,
            balance_before_mu, balance_after_mu, level1_total_after_mu, report, removal_geom, addition_geom,
            approval_doc_key, request_id)
        VALUES (:county, :policy, :doc, :reason, :user, :occ, :rep, :before, :after, :total, CAST(:report AS jsonb),
            ST_Multi(ST_GeomFromEWKB(decode(:rem, 'hex'))), ST_Multi(ST_GeomFromEWKB(decode(:add, 'hex'))),
            :doc_key, :request_id)
        RETURNING id"""),
            {
                "county": county,
                "policy": profile.name,
                "doc": approval_doc.strip(),
                "reason": reason,
                "user": user,
                "occ": check.occupied_mu,
                "rep": check.replaced_mu,
                "before": check.standing_balance_mu,
                "after": check.balance_after_mu + incoming,
                "total": level1_total_after,
                "report": json.dumps(
                    {**check.as_dict(), "request_id": request_id, "request_digest": digest},
                    ensure_ascii=False,
                ),
                "rem": rem,
                "add": add,
                "doc_key": normalise_doc(approval_doc),
                "request_id": request_id,
            },
        ).scalar_one()
    )
    for t in transfers:
        conn.execute(
            sa.text("""
            INSERT INTO quota_transfers (adjustment_id, from_county, to_county, mu, approval_doc, recorded_by)
            VALUES (:adj, :src, :dst, :mu, :doc, :user)"""),
            {
                "adj": adjustment_id,
                "src": t.from_county,
                "dst": county,
                "mu": t.mu,
                "doc": approval_doc.strip(),
                "user": user,
            },
        )
    record(
        conn,
        actor=user,
        action="adjustment.record",
        target=f"adjustment {adjustment_id} ({county})",
        approval_doc=approval_doc.strip(),
        before={"balance_mu": check.standing_balance_mu, "city_level1_mu": check.city_level1_before_mu},
        after={
            "occupied_mu": check.occupied_mu,
            "replaced_mu": check.replaced_mu,
            "balance_mu": check.balance_after_mu + incoming,
            "city_level1_mu": level1_total_after,
            "transfers": [{"from": t.from_county, "mu": t.mu} for t in transfers],
            "policy": profile.name,
            "request_id": request_id,
        },
    )
    params = {
        "county": county,
        "adj": adjustment_id,
        "user": user,
        "doc": approval_doc.strip(),
        "rem": rem,
        "rep": check.replaced_wkb.hex() if check.replaced_wkb else None,
    }
    if rem is not None and check.occupied_mu > 0:
        # The removed part leaves level 1: the lines it touches are closed and re-issued without it.
        conn.execute(
            sa.text("""
            WITH touched AS (
                UPDATE block_lines b SET valid_to = now()
                WHERE b.valid_to IS NULL AND b.level = 1 AND b.county_code = :county
                  AND ST_Intersects(b.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))
                  AND ST_Area(ST_Intersection(b.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))) > 0
                RETURNING b.*)
            INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                                     valid_from, geom)
            SELECT level, county_code, name, :doc, 'adjustment', :adj, :user, now(), g
            FROM (SELECT t.*, ST_Multi(ST_CollectionExtract(ST_MakeValid(
                      ST_Difference(t.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))), 3)) AS g FROM touched t) x
            WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0.01"""),
            params,
        )
    if params["rep"] is not None and check.replaced_mu > 0:
        # The new land joins level 1, and leaves level 2 where it was level 2 (the lines never overlap).
        conn.execute(
            sa.text("""
            WITH touched AS (
                UPDATE block_lines b SET valid_to = now()
                WHERE b.valid_to IS NULL AND b.level = 2
                  AND ST_Area(ST_Intersection(b.geom, ST_GeomFromEWKB(decode(:rep, 'hex')))) > 0
                RETURNING b.*)
            INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                                     valid_from, geom)
            SELECT level, county_code, name, approval_doc, 'adjustment', :adj, :user, now(), g
            FROM (SELECT t.*, ST_Multi(ST_CollectionExtract(ST_MakeValid(
                      ST_Difference(t.geom, ST_GeomFromEWKB(decode(:rep, 'hex')))), 3)) AS g FROM touched t) x
            WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0.01"""),
            params,
        )
        conn.execute(
            sa.text("""
            INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                                     valid_from, geom)
            VALUES (1, :county, '补划 ' || :doc, :doc, 'adjustment', :adj, :user, now(),
                    ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(decode(:rep, 'hex'))), 3)))"""),
            params,
        )
    return adjustment_id, check


def level1_history(engine: Engine) -> pd.DataFrame:
    """The city's level-1 total (亩) through time: one row per change, the adjustment that made it if any.

    ``fell`` is the ledger's fact for that adjustment (``city_level1_fell`` of the city's balance after it):
    an adjustment covered by a transfer lowers the total of the moment without making the city's total fall
    below what the lines were loaded with. A load of lines (no adjustment) sets what they were loaded with.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT at, sum(delta) AS delta, max(adjustment_id) AS adjustment_id FROM (
                SELECT valid_from AS at, ST_Area(geom) AS delta, adjustment_id FROM block_lines WHERE level = 1
                UNION ALL
                SELECT valid_to, -ST_Area(geom), NULL FROM block_lines WHERE level = 1 AND valid_to IS NOT NULL) e
            GROUP BY at ORDER BY at""")
        ).all()
        city_after = _city_balances_after(conn)
    frame = pd.DataFrame(rows, columns=["at", "delta_m2", "adjustment_id"])
    frame["level1_mu"] = frame["delta_m2"].cumsum() / M2_PER_MU
    frame["change_mu"] = frame["delta_m2"] / M2_PER_MU
    frame["adjustment_id"] = pd.Series(
        [None if pd.isna(a) else int(a) for a in frame["adjustment_id"]], index=frame.index, dtype=object
    )
    frame["fell"] = [
        a is not None and city_level1_fell(city_after.get(a, 0.0)) for a in frame["adjustment_id"]
    ]
    return frame[["at", "level1_mu", "change_mu", "adjustment_id", "fell"]]


def _city_balances_after(conn: Connection) -> dict[int, float]:
    """The city's balance (亩) after each recorded adjustment, in the order they were recorded.

    Transfers move balance between counties and leave the city's sum unchanged, so the city's balance after
    an entry is the running sum of (replaced − occupied) over the entries up to it.
    """
    return {
        int(i): float(b)
        for i, b in conn.execute(
            sa.text("""
        SELECT id, sum(replaced_mu - occupied_mu) OVER (ORDER BY recorded_at, id) FROM adjustments""")
        ).all()
    }


def _fall_of(entries: list[dict[str, Any]]) -> int | None:
    """The entry that made the city's level-1 total fall, if it is fallen now: the last one that took it under."""
    culprit: int | None = None
    was_fallen = False
    for e in entries:
        if e["fell"] and not was_fallen:
            culprit = e["id"]
        was_fallen = e["fell"]
    return culprit if was_fallen else None


def ledger(engine: Engine) -> dict[str, Any]:
    """The 台账: every county's balance and level-1 area, the city total, every entry, the total through time.

    Every entry carries the city's balance after it and ``fell`` (the city's level-1 total below what the
    lines were loaded with after it: the negation of the check's ``city_balanced``, by ``city_level1_fell``);
    ``city_fell_by`` names the entry that made the city's total fall, or is None while it has not fallen.
    """
    with engine.connect() as conn:
        balances = standing_balances(conn)
        level1 = _level1_totals(conn)
        city_after = _city_balances_after(conn)
        names: dict[str, str] = dict(
            conn.execute(sa.text("SELECT code, name FROM admin_areas WHERE level = 'county'")).all()
        )
        entries = (
            conn.execute(
                sa.text("""
            SELECT j.id, j.county_code, a.name AS county_name, j.policy, j.approval_doc, j.reason, j.recorded_by,
                   j.recorded_at, j.occupied_mu, j.replaced_mu, j.balance_before_mu, j.balance_after_mu,
                   j.level1_total_after_mu, j.request_id,
                   coalesce((SELECT json_agg(json_build_object('from', t.from_county, 'to', t.to_county, 'mu', t.mu))
                             FROM quota_transfers t WHERE t.adjustment_id = j.id), '[]'::json) AS transfers
            FROM adjustments j JOIN admin_areas a ON a.code = j.county_code ORDER BY j.recorded_at, j.id""")
            )
            .mappings()
            .all()
        )
    counties = [
        {
            "county": c,
            "name": names.get(c, ""),
            "balance_mu": round(b, 2),
            "level1_mu": round(level1.get(c, 0.0), 2),
        }
        for c, b in balances.items()
    ]
    history = level1_history(engine)
    city_balance = sum(balances.values())
    rows = [
        {
            **{k: v for k, v in e.items() if k != "recorded_at"},
            "recorded_at": shown(e["recorded_at"]),
            "occupied_mu": round(e["occupied_mu"], 2),
            "replaced_mu": round(e["replaced_mu"], 2),
            "balance_before_mu": round(e["balance_before_mu"], 2),
            "balance_after_mu": round(e["balance_after_mu"], 2),
            "city_balance_after_mu": round(city_after[e["id"]], 2),
            "fell": city_level1_fell(city_after[e["id"]]),
        }
        for e in entries
    ]
    return {
        "counties": counties,
        "city_balance_mu": round(city_balance, 2),
        "city_level1_mu": round(sum(level1.values()), 2),
        "city_balanced": not city_level1_fell(city_balance),
        "city_fell_by": _fall_of(rows),
        "entries": rows,
        "level1_history": [
            {
                "at": shown(r.at, seconds=True),
                # numpy floats (cast for the type checker only: np.float64's own rounding stays)
                "level1_mu": round(cast(float, r.level1_mu), 2),
                "change_mu": round(cast(float, r.change_mu), 2),
                "adjustment_id": r.adjustment_id,
                "fell": bool(r.fell),
            }
            for r in history.itertuples()
        ],
    }
