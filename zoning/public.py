"""The public list (YW §17): the parcels under full-lifecycle management, with only what may be published.

YW §17: 及时向社会公开已纳入全生命周期管理的工业用地清单及相应的《工业用地全生命周期管理履约协议》. YW §4 says
the constraining indicators of the 履约协议 are made public when the land is sold. So the list carries:

- which parcel: 宗地编号, 县（市、区） (the county's name), 面积（亩, two decimals, from the geometry）;
- who holds it and for what: 权利人 (the name only), 用途 (the name from ``geo.landuse``);
- the agreed indicators of the 履约协议 (约定投资强度, 约定亩均税收 in 万元/亩, 约定容积率);
- whether each is met as of the date asked: ``met`` / ``not_met`` / ``not_due`` / ``no_data``, or empty where
  the agreement carries no such indicator.

Nothing else: not the 统一社会信用代码 (a natural person's holder field may hold an ID number, and the name
already says who holds the land), not the enterprise's actual investment, output or tax (tax figures are the
taxpayer's secret, 税收征收管理法 §8: only the verdict is published), not the dates, prices, ratings, findings
or any internal note or extra column of the store.

Under management: the land use is in the industrial-land scope (``zoning.findings.industrial_scope``:
industrial, warehouse and 工矿 classes of any standard, and unrecognised uses) and the parcel carries a
lifecycle agreement, i.e. at least one agreed indicator (investment, tax or output per 亩, FAR) or an
agreed full-production date.

Whether an indicator is met is the verdict of the rules (``zoning.idle``: 投而未达 for investment and tax per
亩, 用而未尽 for the FAR), read from their findings as of the date:

- investment, tax: an ``operating_below_target`` finding whose figures show the indicator below the
  commitment → ``not_met`` (the other indicators of that finding: ``met``); an ``insufficient_data``
  finding of that rule lacking the indicator → ``no_data``; otherwise, in production at or after the agreed
  full-production date (the rule's own condition) → ``met``; the agreed full-production date passed without
  production → ``not_met`` (nothing is produced, so no per-亩 commitment is reached); the date still ahead →
  ``not_due``; no date → ``no_data``.
- FAR: an ``underused`` finding whose figures show the floor-area ratio below the contract → ``not_met``;
  built (completed or in production) with a floor area on record and no such finding → ``met``; built
  without a floor area → ``no_data``; not built and the agreed completion date passed → ``not_met``; else
  ``not_due``.

A rule switched off in the profile gives no verdict (empty).

Examples
--------
>>> [STATUS_TEXT[s][0] for s in STATUSES]
['已达到', '未达到', '未到期', '待核实']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.landuse import lookup
from zoning.findings import industrial_scope
from zoning.idle import idle_findings
from zoning.policy import Profile

__all__ = [
    "COMMITMENTS",
    "HEADERS",
    "PUBLIC_COLUMNS",
    "STATUSES",
    "STATUS_TEXT",
    "public_list",
    "public_table",
    "under_management",
]

#: the columns of the public list, in order (JSON keys)
PUBLIC_COLUMNS = [
    "parcel_no",
    "county_name",
    "area_mu",
    "holder",
    "land_use",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "min_far",
    "investment_met",
    "tax_met",
    "far_met",
]
#: their headers in the published files and on the page: (中文, English)
HEADERS: dict[str, tuple[str, str]] = {
    "parcel_no": ("宗地编号", "Parcel no."),
    "county_name": ("县（市、区）", "County"),
    "area_mu": ("面积（亩）", "Area (mu)"),
    "holder": ("权利人", "Right holder"),
    "land_use": ("用途", "Land use"),
    "committed_investment_per_mu": ("约定投资强度（万元/亩）", "Agreed investment (10k yuan/mu)"),
    "committed_tax_per_mu": ("约定亩均税收（万元/亩）", "Agreed tax (10k yuan/mu)"),
    "min_far": ("约定容积率", "Agreed floor-area ratio"),
    "investment_met": ("投资强度是否达到", "Investment met"),
    "tax_met": ("亩均税收是否达到", "Tax met"),
    "far_met": ("容积率是否达到", "Floor-area ratio met"),
}
STATUSES = ("met", "not_met", "not_due", "no_data")
STATUS_TEXT = {
    "met": ("已达到", "met"),
    "not_met": ("未达到", "not met"),
    "not_due": ("未到期", "not yet due"),
    "no_data": ("待核实", "no data"),
}
#: the agreed indicators that make a parcel "under management", besides an agreed full-production date
COMMITMENTS = ("committed_investment_per_mu", "committed_tax_per_mu", "committed_output_per_mu", "min_far")


def under_management(parcels: pd.DataFrame) -> pd.Series:
    """Which parcels are under full-lifecycle management: industrial scope and a lifecycle agreement on record.

    Examples
    --------
    >>> under_management(pd.DataFrame({"land_use": ["0601", "0601", "R2"], "committed_tax_per_mu": [30, None, 30],
    ...                                "agreed_full_production_on": [None, None, None]})).tolist()
    [True, False, False]
    """
    agreed = pd.Series(False, index=parcels.index)
    for c in (*COMMITMENTS, "agreed_full_production_on"):
        if c in parcels.columns:
            agreed |= parcels[c].notna().to_numpy()
    return pd.Series(
        industrial_scope(parcels).to_numpy() & agreed.to_numpy(), index=parcels.index, name="under_management"
    )


def _on_or_before(value: object, day: dt.date) -> bool:
    return isinstance(value, dt.date) and value <= day


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _below(figures: Mapping[str, object], actual: str, committed: str) -> str:
    a, c = figures.get(actual), figures.get(committed)
    if _missing(a) or _missing(c):
        return "no_data"
    return "not_met" if float(a) < float(c) else "met"  # type: ignore[arg-type]


def _production_status(
    row: pd.Series, k: str, found: dict[str, dict], lacking: dict[str, list[str]], day: dt.date
) -> str | None:
    """Investment (k = "investment") or tax ("tax") per 亩 against the agreement, from 投而未达's findings."""
    if _missing(row.get(f"committed_{k}_per_mu")):
        return None
    no = row["parcel_no"]
    if no in found:
        return _below(found[no], f"{k}_per_mu_wan", f"committed_{k}_per_mu_wan")
    if no in lacking:
        return (
            "no_data"
            if {k, f"committed_{k}_per_mu", "area_mu", "agreed_full_production_on"} & set(lacking[no])
            else "met"
        )
    full = row.get("agreed_full_production_on")
    if not isinstance(full, dt.date):
        return "no_data"
    if full > day:
        return "not_due"
    return "met" if _on_or_before(row.get("operating_since"), day) else "not_met"


def _far_status(
    row: pd.Series, found: dict[str, dict], lacking: dict[str, list[str]], day: dt.date
) -> str | None:
    """The floor-area ratio against the agreement, from 用而未尽's findings."""
    if _missing(row.get("min_far")):
        return None
    no = row["parcel_no"]
    if no in found:
        return _below(found[no], "floor_area_ratio", "min_far")
    if no in lacking and "floor_area" in lacking[no]:
        return "no_data"
    built = _on_or_before(row.get("completed_on"), day) or _on_or_before(row.get("operating_since"), day)
    if built:
        return "no_data" if _missing(row.get("floor_area")) else "met"
    return (
        "not_met" if _on_or_before(row.get("agreed_completion_on"), day - dt.timedelta(days=1)) else "not_due"
    )


def _by_parcel(findings: pd.DataFrame, category: str, rule: str | None = None) -> dict[str, dict]:
    rows = findings[findings["category"] == category]
    out: dict[str, dict] = {}
    for no, figs in zip(rows["parcel_no"], rows["figures"], strict=False):
        figs = figs if isinstance(figs, dict) else {}
        if rule is None or figs.get("rule") == rule:
            out.setdefault(no, figs)
    return out


def public_list(
    parcels: pd.DataFrame, *, county_names: Mapping[str, str], as_of: dt.date, profile: Profile
) -> pd.DataFrame:
    """The public list: one row per parcel under management, with exactly ``PUBLIC_COLUMNS``.

    Parameters
    ----------
    parcels
        The store's parcels with their canonical fields (``geo.queries.read_parcels``).
    county_names
        County code → name (``geo.queries.county_names``).
    as_of
        The date the verdicts are given at.
    profile
        The policy profile whose rules give the verdicts.
    """
    managed = parcels.loc[under_management(parcels).to_numpy()].reset_index(drop=True)
    findings = idle_findings(managed, as_of=as_of, profile=profile)
    below = _by_parcel(findings, "operating_below_target")
    under = _by_parcel(findings, "underused")
    lacking_target = {
        k: list(v.get("missing", []))
        for k, v in _by_parcel(findings, "insufficient_data", "operating_below_target").items()
    }
    lacking_use = {
        k: list(v.get("missing", []))
        for k, v in _by_parcel(findings, "insufficient_data", "underused").items()
    }
    judge_production = bool(profile.value("production.operating_below_target"))
    judge_far = bool(profile.value("use.below_contract_far"))
    rows = []
    for _, row in managed.iterrows():
        entry = lookup(row.get("land_use"))
        rows.append(
            {
                "parcel_no": row["parcel_no"],
                "county_name": county_names.get(str(row.get("county_code")), row.get("county_code")),
                "area_mu": None if _missing(row.get("area_mu")) else round(float(row["area_mu"]), 2),
                "holder": row.get("holder"),
                "land_use": entry.name_zh if entry is not None else row.get("land_use"),
                "committed_investment_per_mu": row.get("committed_investment_per_mu"),
                "committed_tax_per_mu": row.get("committed_tax_per_mu"),
                "min_far": row.get("min_far"),
                "investment_met": _production_status(row, "investment", below, lacking_target, as_of)
                if judge_production
                else None,
                "tax_met": _production_status(row, "tax", below, lacking_target, as_of)
                if judge_production
                else None,
                "far_met": _far_status(row, under, lacking_use, as_of) if judge_far else None,
            }
        )
    out = pd.DataFrame(rows, columns=PUBLIC_COLUMNS)
    for c in ("committed_investment_per_mu", "committed_tax_per_mu", "min_far"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def public_table(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The public list as published in a file or on the page: headers and verdicts in words."""
    i = 1 if lang == "en" else 0
    out = frame[PUBLIC_COLUMNS].copy()
    for c in ("investment_met", "tax_met", "far_met"):
        out[c] = out[c].map(lambda s: STATUS_TEXT[s][i] if s in STATUS_TEXT else None).astype(object)
    return out.rename(columns={c: HEADERS[c][i] for c in PUBLIC_COLUMNS})
