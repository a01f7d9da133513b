"""Yearly performance (亩均): investment, tax and output against the contract, and the buildings on the land.

Healthy parcels meet their commitments; the situations fall short each in its own way (idle land has
invested nothing, below-target land produces too little, under-used land is built too thin), and a few
parcels are flagged low-efficiency (低效用地) in the register.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from blockline.demo._arrays import BoolArray, FloatArray, IntArray
from blockline.demo.contracts import Contracts
from blockline.demo.situations import (
    BELOW_TARGET,
    HEALTHY,
    IDLE,
    NOT_OPERATING,
    STALLED,
    UNDERUSED,
    Events,
    Situations,
)

__all__ = ["Performance", "perform"]


@dataclass(frozen=True)
class Performance:
    """Each parcel's investment, tax and output (万元), floor and footprint area (m²), and its flags."""

    investment: FloatArray
    tax: FloatArray
    output: FloatArray
    floor_area: FloatArray
    footprint_area: FloatArray
    is_low_efficiency: BoolArray
    severe: BoolArray  # a severe shortfall, where the parcel is below target


def _ratios(
    rng: np.random.Generator, s: Situations, *, events: Events, full_due: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Investment, tax and output as shares of the contract's, and which shortfalls are severe."""
    situation, cluster = s.situation, s.cluster
    n = situation.size
    has_started, has_completed = ~np.isnat(events.started), ~np.isnat(events.completed)
    invest_ratio = np.select(
        [
            ~has_started,
            situation == STALLED,
            ~has_completed,
            situation == BELOW_TARGET,
            situation == UNDERUSED,
        ],
        [
            0.0,
            rng.uniform(0.03, 0.22, n),
            rng.uniform(0.2, 0.8, n),
            rng.uniform(0.45, 0.95, n),
            rng.uniform(0.6, 1.0, n),
        ],
        default=rng.uniform(1.0, 1.3, n),
    )
    severe = rng.random(n) < 0.35
    tax_ratio = np.select(
        [np.isnat(events.operating), situation == BELOW_TARGET, cluster, situation == UNDERUSED, ~full_due],
        [
            0.0,
            np.where(severe, rng.uniform(0.05, 0.29, n), rng.uniform(0.3, 0.95, n)),
            rng.uniform(0.1, 0.7, n),
            rng.uniform(0.85, 1.4, n),
            rng.uniform(0.3, 1.1, n),
        ],
        default=rng.uniform(1.0, 1.8, n),
    )
    output_ratio = np.select(
        [tax_ratio == 0, situation == BELOW_TARGET, cluster | ~full_due],
        [
            0.0,
            np.where(severe, rng.uniform(0.1, 0.49, n), rng.uniform(0.5, 0.95, n)),
            tax_ratio * rng.uniform(0.85, 1.15, n),
        ],
        default=np.maximum(tax_ratio * rng.uniform(0.85, 1.15, n), rng.uniform(1.0, 1.2, n)),
    )
    return invest_ratio, tax_ratio, output_ratio, severe


def _buildings(
    rng: np.random.Generator,
    *,
    situation: IntArray,
    has_completed: BoolArray,
    industrial: BoolArray,
    min_far: FloatArray,
    area_m2: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Floor and footprint area of what was built: thin on under-used land, none before completion."""
    n = situation.size
    low_use = (situation == UNDERUSED) & has_completed
    far = np.where(low_use, min_far * rng.uniform(0.2, 0.65, n), min_far + rng.uniform(0.0, 1.0, n))
    coverage = np.where(low_use, rng.uniform(0.12, 0.28, n), rng.uniform(0.40, 0.60, n))
    far = np.where(industrial, far, rng.uniform(1.5, 2.8, n))
    coverage = np.minimum(np.where(industrial, coverage, rng.uniform(0.2, 0.35, n)), far)
    floor_area = np.where(has_completed, area_m2 * far, 0.0).round(1)
    footprint_area = np.where(has_completed, area_m2 * coverage, 0.0).round(1)
    return floor_area, footprint_area


def _flagged(rng: np.random.Generator, s: Situations) -> BoolArray:
    """The register's low-efficiency flag: every cluster parcel, and some parcels of each situation."""
    situation = s.situation
    flag_p = np.select(
        [
            situation == HEALTHY,
            situation == IDLE,
            situation == STALLED,
            situation == BELOW_TARGET,
            situation == UNDERUSED,
            situation == NOT_OPERATING,
        ],
        [0.0, 0.7, 0.8, 0.45, 0.55, 0.4],
        default=0.05,
    )
    flagged: BoolArray = s.cluster | (rng.random(situation.size) < flag_p)
    return flagged


def perform(
    rng: np.random.Generator,
    s: Situations,
    contracts: Contracts,
    *,
    events: Events,
    industrial: BoolArray,
    area_m2: FloatArray,
    area_mu: FloatArray,
    as_of: datetime.date,
) -> Performance:
    """Each parcel's performance and buildings, by its situation and its contract."""
    c = contracts
    full_due = c.agreed_full <= np.datetime64(as_of, "D")
    invest_ratio, tax_ratio, output_ratio, severe = _ratios(rng, s, events=events, full_due=full_due)
    floor_area, footprint_area = _buildings(
        rng,
        situation=s.situation,
        has_completed=~np.isnat(events.completed),
        industrial=industrial,
        min_far=c.min_far,
        area_m2=area_m2,
    )
    return Performance(
        investment=(c.planned * invest_ratio).round(1),
        tax=(c.committed_tax * area_mu * tax_ratio).round(1),
        output=(c.committed_output * area_mu * output_ratio).round(1),
        floor_area=floor_area,
        footprint_area=footprint_area,
        is_low_efficiency=_flagged(rng, s),
        severe=severe,
    )
