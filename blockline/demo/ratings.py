"""亩均论英雄: yearly grades A–D of the enterprises, from each one's worst parcel.

The grades cover the last three years before ``as_of``, for the enterprises in production in that year: a
healthy enterprise is mostly A or B, one with a mild shortfall B or C, one with a serious one C or D (a
cluster's, or a severe shortfall's, more often D twice).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blockline.demo._arrays import BoolArray, DateArray, IntArray, StrArray

__all__ = ["ratings"]


def ratings(
    rng: np.random.Generator,
    *,
    year: int,
    holder_of: IntArray,
    n_holders: int,
    holder_ids: StrArray,
    holder_industrial: BoolArray,
    situation: IntArray,
    cluster: BoolArray,
    severe: BoolArray,
    operating: DateArray,
) -> pd.DataFrame:
    """Yearly grades for the last three years, from each enterprise's worst parcel."""
    severity_by_situation = np.array([0, 3, 3, 1, 1, 2, 3, 2])
    sev = severity_by_situation[situation]
    sev = np.where(cluster | severe, 4, sev)
    holder_sev = np.zeros(n_holders, dtype=np.int64)
    np.maximum.at(holder_sev, holder_of, sev)
    first_op = np.full(n_holders, np.datetime64("9999-12-31", "D"))
    op = np.where(np.isnat(operating), np.datetime64("9999-12-31", "D"), operating)
    np.minimum.at(first_op, holder_of, op)

    years = np.array([year - 3, year - 2, year - 1])
    r = rng.random((n_holders, 3))
    pattern = rng.random(n_holders)
    good_base = np.where(rng.random(n_holders) < 0.35, 0, 1)[:, None]
    good = np.clip(good_base + (r < 0.08).astype(int) - ((r > 0.92) & (good_base == 1)).astype(int), 0, 2)
    mild = np.where(r < 0.5, 1, 2)
    mixed = np.where(r < 0.15, 1, np.where(r < 0.6, 2, 3))
    d_twice = np.column_stack([np.where(r[:, 0] < 0.5, 2, 3), np.full(n_holders, 3), np.full(n_holders, 3)])
    c_thrice = np.full((n_holders, 3), 2)
    bad = np.where(
        (pattern < np.where(holder_sev == 4, 0.45, 0.3))[:, None],
        d_twice,
        np.where((pattern < np.where(holder_sev == 4, 0.85, 0.6))[:, None], c_thrice, mixed),
    )
    grade = np.where((holder_sev == 0)[:, None], good, np.where((holder_sev <= 2)[:, None], mild, bad))
    year_end = np.array([np.datetime64(f"{y}-12-31", "D") for y in years])
    rated = holder_industrial[:, None] & (first_op[:, None] <= year_end[None, :])
    h, k = np.nonzero(rated)
    return pd.DataFrame(
        {
            "holder_id": holder_ids[h].astype(str),
            "year": years[k].astype(np.int64),
            "grade": np.array(list("ABCD"))[grade[h, k]],
        }
    )
