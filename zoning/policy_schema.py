"""What a policy profile may hold: every key with its type and check, the boundary words, the thresholds.

``zoning.policy`` reads a profile file against these tables (and re-exports them): a key not in
:data:`SCHEMA` is refused, a value of the wrong type or failing its check is refused, a key of
:data:`OPTIONAL` may be left out by a city whose text lacks the rule, and each key of :data:`THRESHOLDS`
carries a boundary word of :data:`BOUNDARY_WORDS` that reads in the sense its rule compares in.

Examples
--------
>>> BOUNDARY_WORDS["不足"], THRESHOLDS["consolidation.min_mu"]
(('below', False), 'above')
>>> "consolidation.min_mu" in OPTIONAL, "idle.unstarted_years" in OPTIONAL
(True, False)
"""

from __future__ import annotations

from typing import Any

__all__ = ["BOUNDARY_WORDS", "NATIONAL_SOURCES", "OPTIONAL", "SCHEMA", "THRESHOLDS"]

# key → (type, check, what the check means)
_share = (lambda v: 0 <= v <= 1, "a share between 0 and 1")
_pos = (lambda v: v > 0, "greater than 0")
_nonneg = (lambda v: v >= 0, "0 or more")
_grades = (lambda v: all(g in ("A", "B", "C", "D") for g in v), "grades among A, B, C, D")
_any = (lambda v: True, "")


#: word → (sense, whether the number itself is included), 民法典 第一千二百五十九条 and the words of the texts.
#: "above": the condition holds from the number up (满一年 is reached on the anniversary); "below": up to it.
BOUNDARY_WORDS: dict[str, tuple[str, bool]] = {
    "以上": ("above", True),
    "达到": ("above", True),
    "不低于": ("above", True),
    "满": ("above", True),
    "届满": ("above", True),
    "超过": ("above", False),
    "以外": ("above", False),
    "以下": ("below", True),
    "以内": ("below", True),
    "不超过": ("below", True),
    "不得超过": ("below", True),
    "不足": ("below", False),
    "不满": ("below", False),
    "低于": ("below", False),
    "未达到": ("below", False),
}


def _tier_ok(t: Any) -> bool:
    if not isinstance(t, list) or len(t) not in (2, 3):
        return False
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in t[:2]) or not (
        t[0] > 0 and t[1] > 0
    ):
        return False
    return len(t) == 2 or BOUNDARY_WORDS.get(t[2], ("", False))[0] == "below"


def _tiers(v: list) -> bool:
    return len(v) > 0 and all(_tier_ok(t) for t in v) and [t[0] for t in v] == sorted(t[0] for t in v)


SCHEMA: dict[str, tuple[type | tuple[type, ...], tuple[Any, str]]] = {
    "balance.occupy_replace": (bool, _any),
    "balance.sliver_min_mu": ((int, float), _nonneg),
    "balance.total_horizon_years": (int, _pos),
    "consolidation.min_mu": ((int, float), _pos),
    "consolidation.gap_m": ((int, float), _nonneg),
    "consolidation.low_efficiency_grades": (list, _grades),
    "consolidation.rating_years": (int, _pos),
    "consolidation.min_share_inside": ((int, float), _share),
    "idle.unstarted_years": ((int, float), _pos),
    "idle.reclaimable_years": ((int, float), _pos),
    "idle.stalled_developed_share": ((int, float), _share),
    "idle.stalled_investment_share": ((int, float), _share),
    "idle.stalled_years": ((int, float), _pos),
    "construction.start_months": (int, _pos),
    "construction.start_months_max": (int, _pos),
    "construction.build_months_by_investment": (
        list,
        (_tiers, "ascending [investment 万元, months, 以下|不满] tiers"),
    ),
    "construction.completion_months_from_delivery": (int, _pos),
    "production.built_not_operating": (bool, _any),
    "production.operating_below_target": (bool, _any),
    "use.below_contract_far": (bool, _any),
    "transfer.make_up_tax_before_transfer": (bool, _any),
    "use.min_building_coverage": ((int, float), _share),
    "use.unbuilt_share": ((int, float), _share),
    "lease.ordinary_max_years": (int, _pos),
    "lease.major_max_years": (int, _pos),
    "lease.legal_max_years": (int, _pos),
    "bidding.price_cap_ratio": ((int, float), (lambda v: v >= 1, "1 or more")),
    "bidding.tax_commitment_years": (int, _pos),
    "acceptance.min_output_share": ((int, float), _share),
    "acceptance.min_tax_share": ((int, float), _share),
    "review.cycle_years": (int, _nonneg),
    "review.pay_difference_from_share": ((int, float), _share),
    "review.difference_basis": (
        str,
        (lambda v: v in ("cycle_year", "whole_cycle"), "cycle_year or whole_cycle"),
    ),
    "ratings.d_years_running": (int, _nonneg),
    "ratings.c_or_below_years_running": (int, _nonneg),
    "existing.min_tax_per_mu_wan": ((int, float), _nonneg),
    "transfer.min_tax_per_mu_wan": ((int, float), _nonneg),
    "transfer.city_standard_multiplier": ((int, float), _nonneg),
    "transfer.preempt_below_contract": (bool, _any),
    "transfer.preempt_before_full_production": (bool, _any),
    "transfer.preempt_seller_grades": (list, _grades),
    "mortgage.before_acceptance": (str, _any),
    "mortgage.after_acceptance": (str, _any),
    "evaluation.at_full_production": (bool, _any),
    "evaluation.every_years": (int, _nonneg),
    "evaluation.before_expiry_years": ((int, float), _nonneg),
    "evaluation.warn_days": (int, _nonneg),
}


#: the thresholds, each with the sense its rule compares in (the boundary word must read that way)
THRESHOLDS: dict[str, str] = {
    "balance.sliver_min_mu": "below",
    "consolidation.min_mu": "above",
    "consolidation.gap_m": "below",
    "consolidation.min_share_inside": "below",
    "idle.unstarted_years": "above",
    "idle.reclaimable_years": "above",
    "idle.stalled_developed_share": "below",
    "idle.stalled_investment_share": "below",
    "idle.stalled_years": "above",
    "construction.start_months": "below",
    "construction.start_months_max": "below",
    "construction.build_months_by_investment": "below",
    "construction.completion_months_from_delivery": "below",
    "use.min_building_coverage": "above",
    "use.unbuilt_share": "above",
    "lease.ordinary_max_years": "below",
    "lease.major_max_years": "below",
    "lease.legal_max_years": "below",
    "bidding.price_cap_ratio": "below",
    "acceptance.min_output_share": "below",
    "acceptance.min_tax_share": "below",
    "review.pay_difference_from_share": "above",
    "ratings.d_years_running": "above",
    "ratings.c_or_below_years_running": "above",
    "existing.min_tax_per_mu_wan": "above",
    "transfer.min_tax_per_mu_wan": "above",
    "transfer.city_standard_multiplier": "above",
    "evaluation.warn_days": "below",
}

#: rules a city's text may not have: left out of its profile, asked for with ``Profile.has``
OPTIONAL = frozenset(
    [
        k
        for k in SCHEMA
        if k.split(".")[0] in ("balance", "consolidation", "bidding", "acceptance", "mortgage")
    ]
    + [
        "construction.build_months_by_investment",
        "construction.completion_months_from_delivery",
        "evaluation.at_full_production",
        "evaluation.before_expiry_years",
        "review.cycle_years",
        "review.pay_difference_from_share",
        "review.difference_basis",
        "ratings.d_years_running",
        "ratings.c_or_below_years_running",
        "existing.min_tax_per_mu_wan",
        "transfer.min_tax_per_mu_wan",
        "transfer.city_standard_multiplier",
        "transfer.preempt_below_contract",
        "transfer.preempt_before_full_production",
        "transfer.preempt_seller_grades",
    ]
)

#: documents every city applies: an article naming one of them is nobody's borrowing
NATIONAL_SOURCES = (
    "闲置土地处置办法",
    "城镇国有土地使用权出让和转让暂行条例",
    "工业项目建设用地控制指标",
    "民法典",
    "平台默认",
)
