"""Suggestions to cover a 占补 shortfall: land that could join level 1, chosen by an exact optimisation.

Candidates in the county, never already level 1 and never overlapping each other:

- industrial parcels (land use 工业用地 in any standard, ``geo.landuse``), their part outside level 1;
- level-2 land that no such parcel covers, split into its separate pieces.

Pieces smaller than ``balance.sliver_min_mu`` are left out. The choice is two small integer programs solved
exactly by HiGHS (``scipy.optimize.milp``): first the least total area that covers the shortfall (the
least surplus); then, among the choices within a small slack of that least area, the one that best
prefers land touching the existing level-1 lines and compact shapes (Polsby-Popper 4πA/P²). When the
solver stops at its time limit the answer says so, with the bound it proved. The candidates are read from the
store by ``blockline.services.suggest`` (``candidate_land``, ``suggest_cover``).

Examples
--------
>>> chosen, status = choose_cover([30.0, 20.0, 12.0, 9.0], [0.1, 0.9, 0.5, 0.5], need=29.0, slack=0.5)
>>> sorted(chosen), status["least_total"]
([1, 3], 29.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.area import M2_PER_MU
from zoning.policy import Profile

__all__ = ["Suggestion", "choose_cover", "scored_candidates", "suggest_from"]


def scored_candidates(rows: Sequence[Mapping[Any, Any]], *, crs: str) -> gpd.GeoDataFrame:
    """Candidate pieces with their preference score, best first, from the store's rows.

    Each row has ``kind``, ``ref``, ``holder``, ``land_use``, ``m2``, ``perimeter_m``, ``touches_level1`` and
    ``wkb``; the score is half touching level 1, half compactness (Polsby-Popper 4πA/P², 0–1).
    """
    frame = pd.DataFrame(
        [{k: v for k, v in r.items() if k != "wkb"} for r in rows],
        columns=["kind", "ref", "holder", "land_use", "m2", "perimeter_m", "touches_level1"],
    )
    geoms = gpd.GeoSeries.from_wkb([bytes(r["wkb"]) for r in rows], crs=crs)
    out = gpd.GeoDataFrame(frame, geometry=geoms.values, crs=crs)
    out["area_mu"] = out["m2"] / M2_PER_MU
    with np.errstate(divide="ignore", invalid="ignore"):
        compact = np.where(out["perimeter_m"] > 0, 4 * np.pi * out["m2"] / out["perimeter_m"] ** 2, 0.0)
    out["compactness"] = np.clip(compact, 0, 1)
    out["score"] = 0.5 * out["touches_level1"].astype(float) + 0.5 * out["compactness"]
    return out.drop(columns=["m2"]).sort_values(
        ["score", "area_mu"], ascending=[False, False], ignore_index=True
    )


def choose_cover(
    areas: list[float] | np.ndarray,
    scores: list[float] | np.ndarray,
    *,
    need: float,
    slack: float,
    time_limit_s: float = 10.0,
) -> tuple[list[int], dict[str, Any]]:
    """Pick candidates whose areas sum to at least ``need`` with the least surplus, then the best scores.

    Stage 1: minimise Σ aᵢxᵢ subject to Σ aᵢxᵢ ≥ need. Stage 2: maximise Σ sᵢaᵢxᵢ (score weighted by area)
    subject to need ≤ Σ aᵢxᵢ ≤ least + slack. Both are solved exactly (HiGHS branch and bound).
    """
    a = np.asarray(areas, dtype=float)
    s = np.asarray(scores, dtype=float)
    n = len(a)
    if n == 0 or a.sum() < need:
        return list(range(n)), {"feasible": False, "least_total": float(a.sum()), "optimal": True}
    integrality = np.ones(n)
    bounds = Bounds(0, 1)
    options = {"time_limit": time_limit_s, "disp": False}
    first = milp(
        c=a,
        constraints=LinearConstraint(a[None, :], lb=need, ub=np.inf),
        integrality=integrality,
        bounds=bounds,
        options=options,
    )
    if first.x is None:
        return [], {
            "feasible": False,
            "least_total": float("nan"),
            "optimal": False,
            "message": first.message,
        }
    least = float(a @ np.round(first.x))
    second = milp(
        c=-(s * a),
        constraints=LinearConstraint(a[None, :], lb=need, ub=least + slack),
        integrality=integrality,
        bounds=bounds,
        options=options,
    )
    x = np.round(second.x if second.x is not None else first.x)
    chosen = [int(i) for i in np.flatnonzero(x > 0.5)]
    return chosen, {
        "feasible": True,
        "least_total": least,
        "optimal": bool(first.status == 0 and second.status == 0),
        "message": f"{first.message}; {second.message}",
        "lower_bound": float(getattr(first, "mip_dual_bound", least) or least),
    }


@dataclass
class Suggestion:
    """What to add to level 1 to cover a shortfall."""

    county: str
    policy: str
    article: str
    shortfall_mu: float
    candidates: gpd.GeoDataFrame
    chosen: gpd.GeoDataFrame
    status: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The suggestion as plain data (what the command prints as JSON)."""
        total = float(self.chosen["area_mu"].sum()) if len(self.chosen) else 0.0
        return {
            "county": self.county,
            "policy": self.policy,
            "article": self.article,
            "shortfall_mu": round(self.shortfall_mu, 2),
            "candidates_considered": int(len(self.candidates)),
            "covered": bool(self.status.get("feasible")),
            "total_mu": round(total, 2),
            "surplus_mu": round(total - self.shortfall_mu, 2),
            "optimal": bool(self.status.get("optimal")),
            "chosen": [
                {
                    "kind": r.kind,
                    "ref": r.ref,
                    "holder": r.holder,
                    "area_mu": round(r.area_mu, 2),
                    "touches_level1": bool(r.touches_level1),
                    "compactness": round(float(r.compactness), 3),
                }
                for r in self.chosen.itertuples()
            ],
        }


def suggest_from(
    candidates: gpd.GeoDataFrame,
    *,
    county: str,
    shortfall_mu: float,
    profile: Profile,
    max_candidates: int = 400,
    slack_mu: float | None = None,
) -> Suggestion:
    """Suggest, among ``candidates`` (:func:`scored_candidates`), land covering ``shortfall_mu`` 亩, least surplus.

    The ``max_candidates`` best-scored pieces are offered to the optimiser (all of them in a county of
    ordinary size); ``slack_mu`` (default 1 % of the shortfall, at least 0.05 亩) is how much more area than
    the least possible the preference stage may use.
    """
    candidates = candidates.head(max_candidates).reset_index(drop=True)
    slack = slack_mu if slack_mu is not None else max(0.05, 0.01 * shortfall_mu)
    chosen_idx, status = choose_cover(
        candidates["area_mu"].to_numpy(), candidates["score"].to_numpy(), need=shortfall_mu, slack=slack
    )
    chosen = candidates.iloc[chosen_idx].reset_index(drop=True)
    return Suggestion(
        county=county,
        policy=profile.name,
        article=profile.cite("balance.occupy_replace"),
        shortfall_mu=shortfall_mu,
        candidates=candidates,
        chosen=chosen,
        status=status,
    )
