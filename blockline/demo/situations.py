"""The situations a policy engine looks for, placed relative to ``as_of``, and what actually happened on each parcel.

The generator knows nothing of policy rules: it only makes sure the data holds idle land, stalled building,
late starts and completions, land built but not in production, production below the contract, under-used
land, and clusters of low-efficiency parcels across narrow roads in the older parks (WZ §12 candidates),
each for a few per cent of the parcels, the rest (about 60 %) healthy.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from blockline.demo._arrays import DAY, NAT, BoolArray, DateArray, IntArray
from blockline.demo.contracts import Contracts
from blockline.demo.ground import Ground

__all__ = [
    "BELOW_TARGET",
    "HEALTHY",
    "IDLE",
    "LATE_COMPLETION",
    "LATE_START",
    "NOT_OPERATING",
    "STALLED",
    "UNDERUSED",
    "Events",
    "Situations",
    "draw_situations",
    "what_happened",
]

HEALTHY, IDLE, STALLED, LATE_START, LATE_COMPLETION, NOT_OPERATING, BELOW_TARGET, UNDERUSED = range(8)
# share of all parcels wanted in each non-healthy situation (before the old-park clusters are added)
_SITUATION_SHARE = {
    IDLE: 0.045,
    STALLED: 0.015,
    LATE_START: 0.055,
    LATE_COMPLETION: 0.05,
    NOT_OPERATING: 0.04,
    BELOW_TARGET: 0.075,
    UNDERUSED: 0.055,
}


@dataclass(frozen=True)
class Situations:
    """Each parcel's situation (``HEALTHY`` … ``UNDERUSED``), and whether it is in an old-park cluster."""

    situation: IntArray
    cluster: BoolArray


@dataclass(frozen=True)
class Events:
    """What actually happened on each parcel by ``as_of`` (NaT: not yet)."""

    started: DateArray
    completed: DateArray
    operating: DateArray


def _choose(rng: np.random.Generator, eligible: BoolArray, share: float, n_total: int) -> BoolArray:
    """Pick about ``share * n_total`` parcels among ``eligible`` (all of them when fewer are eligible)."""
    count = int(eligible.sum())
    if count == 0:
        return eligible.copy()
    p = min(1.0, share * n_total / count)
    return eligible & (rng.random(eligible.size) < p)


def _cluster_pairs(ground: Ground, old_park: BoolArray) -> IntArray:
    """Blocks of old parks whose next block in the row lies across a narrow road, 65 亩 or more together."""
    block, n_blocks = ground.block, int(ground.block.max()) + 1
    block_mu = np.bincount(block, weights=ground.area_mu, minlength=n_blocks)
    block_park = np.zeros(n_blocks, dtype=np.int64)
    block_park[block] = ground.park_of
    block_row = np.zeros(n_blocks, dtype=np.int64)
    block_row[block] = ground.row
    block_gap = np.full(n_blocks, np.nan)
    block_gap[block] = ground.gap_before
    b = np.arange(n_blocks - 1)
    return b[
        (block_park[b] == block_park[b + 1])
        & (block_row[b] == block_row[b + 1])
        & (block_gap[b + 1] < 15.0)
        & old_park[block_park[b]]
        & (block_mu[b] + block_mu[b + 1] >= 65.0)
    ]


def _clusters(
    rng: np.random.Generator,
    ground: Ground,
    *,
    old_park: BoolArray,
    new_era: BoolArray,
    industrial: BoolArray,
) -> BoolArray | None:
    """Old parks' clusters of low-efficiency parcels across narrow roads (WZ §12 candidates), by parcel.

    None when there are none to choose (then no number is drawn for them).
    """
    if not ground.n:
        return None
    pairs = _cluster_pairs(ground, old_park)
    n_old = int((~new_era).sum())
    n_clusters = min(pairs.size, max(1, round(0.07 * n_old / 7.0)))
    if not n_clusters:
        return None
    chosen = rng.choice(pairs, size=n_clusters, replace=False)
    in_cluster = np.zeros(int(ground.block.max()) + 1, dtype=bool)
    in_cluster[chosen] = True
    in_cluster[chosen + 1] = True
    cluster: BoolArray = in_cluster[ground.block] & industrial
    return cluster


def draw_situations(
    rng: np.random.Generator,
    ground: Ground,
    contracts: Contracts,
    *,
    old_park: BoolArray,
    new_era: BoolArray,
    industrial: BoolArray,
    as_of: datetime.date,
) -> Situations:
    """Place the clusters, then each situation on about its share of the industrial parcels still free."""
    n = ground.n
    situation = np.full(n, HEALTHY)
    free = industrial.copy()
    cluster = _clusters(rng, ground, old_park=old_park, new_era=new_era, industrial=industrial)
    if cluster is None:
        cluster = np.zeros(n, dtype=bool)
    else:
        situation[cluster] = np.where(rng.random(int(cluster.sum())) < 0.5, UNDERUSED, BELOW_TARGET)
        free &= ~cluster
    c = contracts
    before = np.datetime64(as_of, "D")
    for code, eligible in (
        (IDLE, new_era & (c.agreed_start <= before - 400 * DAY)),
        (STALLED, new_era & (c.agreed_start <= before - 600 * DAY)),
        (LATE_START, c.agreed_start <= before - 150 * DAY),
        (LATE_COMPLETION, c.agreed_completion <= before - 120 * DAY),
        (NOT_OPERATING, c.agreed_operation <= before - 90 * DAY),
        (BELOW_TARGET, c.agreed_full <= before - 60 * DAY),
        (UNDERUSED, c.agreed_operation <= before - 60 * DAY),
    ):
        pick = _choose(rng, eligible & free, _SITUATION_SHARE[code], n)
        situation[pick] = code
        free &= ~pick
    return Situations(situation=situation, cluster=cluster)


def what_happened(
    rng: np.random.Generator,
    contracts: Contracts,
    *,
    situation: IntArray,
    delivered: DateArray,
    industrial: BoolArray,
    as_of: datetime.date,
) -> Events:
    """Start, completion and operation dates: on time but for the situations, and nothing after ``as_of``."""
    c = contracts
    n = situation.size
    as_of_d = np.datetime64(as_of, "D")
    started = c.agreed_start - rng.integers(0, 60, n) * DAY
    started = np.maximum(started, delivered + 7 * DAY)
    late_start = situation == LATE_START
    started = np.where(late_start, c.agreed_start + rng.integers(120, 600, n) * DAY, started)
    duration = (c.build_days * rng.uniform(0.75, 0.97, n)).astype(np.int64)
    completed: DateArray = np.where(
        late_start, started + duration * DAY, c.agreed_completion - rng.integers(0, 120, n) * DAY
    )
    late_completion = situation == LATE_COMPLETION
    completed = np.where(late_completion, c.agreed_completion + rng.integers(90, 720, n) * DAY, completed)
    operating = completed + rng.integers(20, 150, n) * DAY
    completed = np.where(situation == STALLED, NAT, completed)
    operating = np.where((situation == NOT_OPERATING) | (situation == STALLED) | ~industrial, NAT, operating)
    started = np.where(situation == IDLE, NAT, started)
    # nothing after as_of has happened yet; each stage needs the one before
    started = np.where(started > as_of_d, NAT, started)
    completed = np.where(np.isnat(started) | (completed > as_of_d), NAT, completed)
    operating = np.where(np.isnat(completed) | (operating > as_of_d), NAT, operating)
    return Events(started=started, completed=completed, operating=operating)
