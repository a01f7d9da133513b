"""Findings collected rule by rule (``Rows``), then turned into one sorted frame of ``zoning.findings``.

Examples
--------
>>> import datetime as dt, numpy as np, pandas as pd
>>> from zoning.parcel_arrays import prepare
>>> p = prepare(pd.DataFrame({"parcel_no": ["B", "A"], "area_mu": [15.0, 15.0]}), as_of=dt.date(2026, 11, 22),
...             needed=["parcel_no"])
>>> rows = Rows(p)
>>> rows.insufficient("yiwu YW §5", np.array([0, 1]), rule="late_start", missing=["started_on"],
...                   detail="无实际开工日期", detail_en="no start date")
>>> rows.frame()[["parcel_no", "figures"]].values.tolist()
[['A', {'rule': 'late_start', 'missing': ['started_on']}], ['B', {'rule': 'late_start', 'missing': ['started_on']}]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from zoning.dates import DAY, NAT, Days
from zoning.findings import CATEGORIES, empty_findings
from zoning.parcel_arrays import Parcels
from zoning.wording import iso

__all__ = ["Rows", "records"]

_RANK = {c: i for i, c in enumerate(CATEGORIES)}


def records(columns: Mapping[str, Any], n: int) -> list[dict[str, Any]]:
    """One dict per row from column arrays (or one value for all rows).

    Missing values (NaN, NaT) are left out, floats rounded to 4 decimals, dates written ``YYYY-MM-DD``.
    """
    keys: list[str] = []
    cols: list[list[Any]] = []
    partial = False
    for k, v in columns.items():
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "M":
                miss = np.isnat(v)
                vals: list[Any] = iso(v)
            elif v.dtype.kind == "f":
                miss = ~np.isfinite(v)  # NaN (unknown) and ±inf (a share of a zero commitment) are left out
                vals = np.round(v, 4).tolist()
            else:
                miss = np.zeros(v.size, dtype=bool)
                vals = v.tolist()
            if miss.all():
                continue
            if miss.any():
                partial = True
                vals = [None if m else x for x, m in zip(vals, miss.tolist(), strict=True)]
            keys.append(k)
            cols.append(vals)
        elif v is not None and not (isinstance(v, float) and math.isnan(v)):
            keys.append(k)
            cols.append([v] * n)
    if not keys:
        return [{} for _ in range(n)]
    if partial:
        return [
            {k: x for k, x in zip(keys, row, strict=False) if x is not None}
            for row in zip(*cols, strict=True)
        ]
    return [dict(zip(keys, row, strict=False)) for row in zip(*cols, strict=True)]


class Rows:
    """Findings collected rule by rule, then turned into one sorted frame."""

    def __init__(self, p: Parcels) -> None:
        self.p = p
        self.parts: list[
            tuple[
                str,
                str,
                npt.NDArray[np.int64],
                Days,
                list[str],
                list[str],
                list[dict[str, Any]],
                npt.NDArray[np.float64] | None,
            ]
        ] = []
        self.until: list[Days] = []

    def add(
        self,
        category: str,
        article: str,
        idx: npt.NDArray[np.int64],
        *,
        since: Days | None,
        detail: list[str],
        detail_en: list[str],
        figures: list[dict[str, Any]],
        penalty_wan: npt.ArrayLike | None = None,
        until: Days | None = None,
    ) -> None:
        """Rows of ``category`` for the parcels at positions ``idx``, one sentence and figures dict each."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        s = np.full(idx.size, NAT) if since is None else np.asarray(since, dtype=DAY)
        pen = None if penalty_wan is None else np.asarray(penalty_wan, dtype=np.float64)
        self.parts.append((category, article, idx, s, detail, detail_en, figures, pen))
        self.until.append(np.full(idx.size, NAT) if until is None else np.asarray(until, dtype=DAY))

    def insufficient(
        self,
        article: str,
        idx: npt.NDArray[np.int64],
        *,
        rule: str,
        missing: list[list[str]] | list[str],
        detail: str | list[str],
        detail_en: str | list[str],
    ) -> None:
        """``insufficient_data`` rows: the rule that could not be judged and the fields it lacked."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        n = idx.size
        miss = missing if missing and isinstance(missing[0], list) else [missing] * n
        det = detail if isinstance(detail, list) else [detail] * n
        det_en = detail_en if isinstance(detail_en, list) else [detail_en] * n
        figs = [{"rule": rule, "missing": list(m)} for m in miss]
        self.add("insufficient_data", article, idx, since=None, detail=det, detail_en=det_en, figures=figs)

    def frame(self) -> pd.DataFrame:
        """The rows as a findings frame, sorted by parcel number, category, since and article."""
        if not self.parts:
            return empty_findings().assign(until=pd.Series([], dtype=object))
        sizes = [x[2].size for x in self.parts]
        idx = np.concatenate([x[2] for x in self.parts])
        since = np.concatenate([x[3] for x in self.parts])
        until = np.concatenate(self.until)
        pen = np.concatenate([x[7] if x[7] is not None else np.full(x[2].size, np.nan) for x in self.parts])
        cat = np.repeat(np.array([x[0] for x in self.parts], dtype=object), sizes)
        art = np.repeat(np.array([x[1] for x in self.parts], dtype=object), sizes)
        rank = np.repeat(np.array([_RANK[x[0]] for x in self.parts]), sizes)
        art_codes, _ = pd.factorize(pd.Series(art, dtype=object), sort=True)
        # rank the parcel numbers of the parcels with findings (a string sort once per parcel, not per row)
        pos, inv = np.unique(idx, return_inverse=True)
        no_rank = pd.Series(self.p.parcel_no[pos], dtype=object).astype(str).rank(method="dense").to_numpy()
        order = np.lexsort((art_codes, since.view(np.int64), rank, no_rank[inv]))
        det = np.empty(idx.size, dtype=object)
        det[:] = [s for x in self.parts for s in x[4]]
        det_en = np.empty(idx.size, dtype=object)
        det_en[:] = [s for x in self.parts for s in x[5]]
        figs = np.empty(idx.size, dtype=object)
        figs[:] = [f for x in self.parts for f in x[6]]
        return pd.DataFrame(
            {
                "parcel_no": pd.Series(self.p.parcel_no[idx[order]], dtype=object),
                "category": pd.Series(cat[order], dtype=object),
                "article": pd.Series(art[order], dtype=object),
                "detail": pd.Series(det[order], dtype=object),
                "detail_en": pd.Series(det_en[order], dtype=object),
                "since": pd.Series(since[order].astype(object), dtype=object),
                "figures": pd.Series(figs[order], dtype=object),
                "penalty_wan": pd.Series(pen[order], dtype=np.float64),
                "until": pd.Series(until[order].astype(object), dtype=object),
            }
        )
