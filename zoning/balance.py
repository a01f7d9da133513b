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

This module holds the rules, without the store: :func:`balance_after` and :func:`city_level1_fell` (the
two sums above), :func:`normalise_doc` and :func:`request_key` (what makes a recording exactly-once),
:class:`Transfer` and :func:`parse_transfers`, :class:`BalanceCheck` (the answer of a check, as the ledger
keeps it) and :func:`geometry_param` (a drawing as PostGIS takes it). The store's side is in
``blockline.services``: ``balance`` (the check, in PostGIS, one statement per question, and the ledger)
and ``ledger_record`` (recording, in one SERIALIZABLE transaction, so two planners recording at once can
never both spend the same surplus: one of them is retried against the new balance, and refused if it no
longer fits).

Examples
--------
>>> round(balance_after(standing_mu=10.0, occupied_mu=90.0, replaced_mu=82.5), 2)
2.5
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo import errors
from geo.errors import BlocklineError, InputError
from geo.fixes import fix

__all__ = [
    "EPSILON_MU",
    "BalanceCheck",
    "OutcomeUnknown",
    "Transfer",
    "Unbalanced",
    "balance_after",
    "city_level1_fell",
    "geometry_param",
    "normalise_doc",
    "parse_transfers",
    "request_key",
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


def geometry_param(
    geoms: BaseGeometry | Sequence[BaseGeometry] | None, srid: int, *, what: str
) -> str | None:
    """One polygonal geometry (the union of what was drawn or loaded), as hex EWKB for PostGIS.

    None when nothing (or only empty geometries) was given; ``InputError`` for anything but finite polygons.

    Examples
    --------
    >>> from shapely import box
    >>> geometry_param(box(0, 0, 10, 10), 4549, what="addition")[:10]
    '0103000020'
    >>> geometry_param(None, 4549, what="addition") is None
    True
    """
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
