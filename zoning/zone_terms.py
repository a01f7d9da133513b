"""The terms of the consolidation rules that need no frames: tolerances, grades, a zone's block-line levels.

Re-exported by :mod:`zoning.consolidation`; apart from it so that what reads kept zones back (``blockline zones
detect`` on a stored judgement) imports neither geopandas nor pandas (0.6 s of start-up).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["EPSILON_M", "EPSILON_MU", "GRADES", "zone_levels"]

#: areas are compared with a threshold at this precision (亩): a hundredth of a 亩 is what a planner
#: reports, so a zone whose area rounds to the threshold reaches it (the same as ``zoning.balance``)
EPSILON_MU = 0.005

#: distances are compared with a tolerance at this precision (m): distances are reported to the millimetre, so
#: two parcels whose gap rounds to ``gap_m`` at the millimetre are within it (不超过15米 includes 15.000 m, WZ
#: §12), whatever floating noise a reprojection (EPSG:4528 with its zone prefix → the storage CRS) leaves
EPSILON_M = 0.0005

#: 亩均论英雄 grades, best first; ``describe_zones`` counts parcels without a rating as ``"unrated"``
GRADES = ("A", "B", "C", "D")


def zone_levels(level1_mu: Iterable[float], level2_mu: Iterable[float]) -> list[list[int]]:
    """The levels each zone lies in: those it overlaps by at least :data:`EPSILON_MU` (what rounds to 0.01 亩).

    Examples
    --------
    >>> zone_levels([15.0, 0.004], [0.0, 0.01])
    [[1], [2]]
    """
    return [
        [lv for lv, mu in ((1, a), (2, b)) if mu >= EPSILON_MU]
        for a, b in zip(level1_mu, level2_mu, strict=False)
    ]
