"""The lifecycle rules over the years of a lease: ratings (YW §12), evaluations (WZ §11) and the lease's end.

``write_ratings`` adds ``rating_termination_possible`` rows, ``write_evaluations_and_lease`` the
``evaluation_due``, ``lease_expiring`` and ``lease_expired`` rows (and the insufficient-data rows of parcels
without a delivery date or lease term). The rules are told in ``zoning.lifecycle``.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.lifecycle import NEEDED
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.rows import Rows
>>> row = {c: None for c in NEEDED} | {"parcel_no": "A-1", "area_mu": 15.0, "lease_years": 20,
...        "delivered_on": dt.date(2006, 12, 1)}
>>> p = prepare(pd.DataFrame([row]), as_of=dt.date(2026, 11, 22), needed=NEEDED)
>>> rows = Rows(p)
>>> write_evaluations_and_lease(rows, p, get_profile("wenzhou-2020"))
>>> rows.frame()["detail"].tolist()
['交地日期 2006-12-01 起出让 20 年，将于 2026-12-01 期满，还有 9天']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from zoning.dates import DAY, NAT, Days, add_months, months_between, years_to_months
from zoning.grades import grades_by_year
from zoning.parcel_arrays import Parcels
from zoning.policy import Profile
from zoning.rows import Rows, records
from zoning.wording import days_said, durations_to, iso, short

__all__ = ["write_evaluations_and_lease", "write_ratings"]

Mask = npt.NDArray[np.bool_]


# ======================================================================================================
# ratings (YW §12)
# ======================================================================================================


def _runs(profile: Profile) -> list[tuple[int, tuple[str, ...], str, str, str]]:
    """The runs of grades that may end a contract: (years, grades, key, label in Chinese, in English)."""
    runs = [
        (int(profile.get("ratings.d_years_running", 0)), ("D",), "ratings.d_years_running", "D 类", "D"),
        (
            int(profile.get("ratings.c_or_below_years_running", 0)),
            ("C", "D"),
            "ratings.c_or_below_years_running",
            "C 类（含）以下",
            "C or below",
        ),
    ]
    # 连续两年 (满): a run of exactly the number counts; an excluding word needs one year more
    return [(n + (0 if profile.includes(key) else 1), g, key, lz, le) for n, g, key, lz, le in runs if n > 0]


def write_ratings(rows: Rows, p: Parcels, ratings: pd.DataFrame | None, profile: Profile) -> None:
    """Add ``rating_termination_possible`` rows: the latest rated years, consecutive, all of the run's grades."""
    runs = _runs(profile)
    if not runs:
        return
    long = grades_by_year(p.keys, ratings, as_of=p.as_of_date)
    if len(long) == 0:
        return
    # sorted by parcel, then year: reverse the years within each parcel (latest first)
    pos, year, grade = long["pos"].to_numpy(), long["year"].to_numpy(), long["grade"].to_numpy(dtype=object)
    order = np.lexsort((-year, pos))
    inside = p.scope[pos[order]]
    pos, year, grade = pos[order][inside], year[order][inside], grade[order][inside]
    if pos.size == 0:
        return
    first = np.r_[True, pos[1:] != pos[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(pos)), 0))
    back = np.arange(len(pos)) - start  # 0 for the latest rated year of each parcel
    latest = year[start]
    for n_run, grades, key, label_zh, label_en in runs:
        ok = (back < n_run) & (year == latest - back) & np.isin(grade, grades)
        hits = np.bincount(pos, weights=ok, minlength=p.n)
        winners = np.flatnonzero(hits == n_run)
        if winners.size == 0:
            continue
        sel = np.isin(pos, winners) & (back < n_run)  # n_run rows per winner, latest year first
        _run_rows(
            rows,
            winners.astype(np.int64),
            profile.cite(key),
            years=year[sel].reshape(-1, n_run)[:, ::-1],
            grades=grade[sel].reshape(-1, n_run)[:, ::-1],
            labels=(label_zh, label_en),
        )


def _run_rows(
    rows: Rows,
    idx: npt.NDArray[np.int64],
    cite: str,
    *,
    years: npt.NDArray[np.int64],
    grades: npt.NDArray[np.object_],
    labels: tuple[str, str],
) -> None:
    n_run = years.shape[1]
    cells = years.astype(str).astype(object) + " " + grades.astype(object)  # "2024 D"
    text = cells[:, 0]
    for c in range(1, n_run):
        text = text + "、" + cells[:, c]
    t = text.tolist()
    fy, ly = years[:, 0], years[:, -1]
    # 31 December of the run's last year: 1 January of the next, less a day
    since: Days = np.asarray(
        (ly + 1 - 1970).astype("datetime64[Y]").astype(DAY) - np.timedelta64(1, "D"), dtype=DAY
    )
    rows.add(
        "rating_termination_possible",
        cite,
        idx,
        since=since,
        detail=[f"亩均论英雄综合评价连续 {n_run} 年被评为 {labels[0]}（{s}）：可解除出让合同" for s in t],
        detail_en=[
            f"rated {labels[1]} {n_run} years running ({s.replace('、', ', ')}): the land contract may be ended"
            for s in t
        ],
        figures=records(
            {
                "years_running": float(n_run),
                "first_year": fy.astype(np.float64),
                "last_year": ly.astype(np.float64),
            },
            idx.size,
        ),
    )


# ======================================================================================================
# evaluations (WZ §11) and the lease
# ======================================================================================================


@dataclass
class _Lease:
    """Each parcel's lease (``ok``: its end is known) and the window of due evaluations around ``as_of``."""

    ok: Mask
    delivered: Days
    years: npt.NDArray[np.float64]
    end: Days
    expiry_eval: Days  # the evaluation before the lease ends (NaT when the profile has none)
    before: float
    warn: int
    lo: np.datetime64
    hi: np.datetime64

    @classmethod
    def of(cls, p: Parcels, profile: Profile) -> _Lease:
        delivered, years = p.date["delivered_on"], p.num["lease_years"]
        ok = p.scope & ~np.isnat(delivered) & (years > 0)
        end = np.where(ok, add_months(delivered, np.round(np.nan_to_num(years) * 12).astype(np.int64)), NAT)
        before = (
            float(profile.value("evaluation.before_expiry_years"))
            if profile.has("evaluation.before_expiry_years")
            else 0.0
        )
        warn = int(profile.value("evaluation.warn_days"))
        return cls(
            ok=ok,
            delivered=delivered,
            years=years,
            end=end,
            expiry_eval=add_months(end, -years_to_months(before)) if before > 0 else np.full(p.n, NAT),
            before=before,
            warn=warn,
            lo=p.as_of - np.timedelta64(warn, "D"),
            hi=p.as_of + np.timedelta64(warn, "D"),
        )


def write_evaluations_and_lease(rows: Rows, p: Parcels, profile: Profile) -> None:
    """Add the evaluations due (达产、过程、到期评估) and the lease's end to ``rows``."""
    lease = _Lease.of(p, profile)
    lease_cite = profile.cite("lease.ordinary_max_years")
    idx = np.flatnonzero(p.scope & ~lease.ok)
    rows.insufficient(
        lease_cite,
        idx,
        rule="lease",
        missing=[
            [
                k
                for k, miss in (
                    ("delivered_on", np.isnat(lease.delivered[i])),
                    ("lease_years", not lease.years[i] > 0),
                )
                if miss
            ]
            for i in idx.tolist()
        ],
        detail="无交地日期或出让年限，无法推算出让期满日期与到期评估",
        detail_en="no delivery date or lease term: cannot date the lease's end or its expiry evaluation",
    )
    _evaluations(rows, p, profile, lease)
    _lease_end(rows, p, lease, lease_cite)


@dataclass
class _Due:
    """One kind of evaluation: its profile key, its name and the basis of its date, in Chinese and English."""

    key: str
    kind: str
    name: tuple[list[str] | str, list[str] | str]
    basis: tuple[list[str], list[str]]
    extra: dict[str, Any]


def _due_rows(
    rows: Rows, p: Parcels, profile: Profile, lease: _Lease, mask: Mask, when: Days, due: _Due
) -> None:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return
    today = p.as_of
    w = when[idx]
    dz, de = days_said(w, today)  # a due date is near: said in days
    past, same = (w < today).tolist(), (w == today).tolist()
    ws = iso(w)
    nzh, nen = (n if isinstance(n, list) else [n] * idx.size for n in due.name)
    rows.add(
        "evaluation_due",
        profile.cite(due.key),
        idx,
        since=w,
        detail=[
            f"{n}应于 {s}（{b}）进行，" + ("即为今日" if q else f"已逾期 {z}" if pa else f"还有 {z}")
            for n, s, b, q, pa, z in zip(nzh, ws, due.basis[0], same, past, dz, strict=False)
        ],
        detail_en=[
            f"{n} due {s} ({b}), " + ("today" if q else f"{e} overdue" if pa else f"in {e}")
            for n, s, b, q, pa, e in zip(nen, ws, due.basis[1], same, past, de, strict=False)
        ],
        figures=records(
            {
                "evaluation": due.kind,
                "due_on": w,
                "days_to_due": (w - today).astype(np.int64).astype(np.float64),
                "warn_days": float(lease.warn),
            }
            | due.extra,
            idx.size,
        ),
    )


def _evaluations(rows: Rows, p: Parcels, profile: Profile, lease: _Lease) -> None:
    sc, full, lo, hi = p.scope, p.date["agreed_full_production_on"], lease.lo, lease.hi
    if profile.has("evaluation.at_full_production") and profile.value("evaluation.at_full_production"):
        m = sc & (full >= lo) & (full <= hi)
        n = int(m.sum())
        basis = (["约定达产日期"] * n, ["the agreed full-production date"] * n)
        due = _Due(
            "evaluation.at_full_production",
            "full_production",
            ("达产评估", "full-production evaluation"),
            basis,
            {},
        )
        _due_rows(rows, p, profile, lease, m, full, due)
    every = int(profile.value("evaluation.every_years"))
    if every > 0:
        step = 12 * every
        k = np.where(hi >= full, months_between(full, np.full(p.n, hi)) // step, 0)
        when = add_months(full, k * step)
        m = sc & (k >= 1) & (when >= lo) & ~(when >= lease.expiry_eval) & ~(when >= lease.end)
        i = np.flatnonzero(m)
        yrs, fs = (k[i] * every).tolist(), iso(full[i])
        due = _Due(
            "evaluation.every_years",
            "process",
            (
                [f"过程评估（达产后第 {y} 年）" for y in yrs],
                [f"process evaluation ({y} years after full production)" for y in yrs],
            ),
            (
                [f"约定达产日期 {a} 后 {y} 年" for a, y in zip(fs, yrs, strict=False)],
                [f"{y} years after the agreed full production {a}" for a, y in zip(fs, yrs, strict=False)],
            ),
            {"years_after_full_production": np.array(yrs, dtype=np.float64)},
        )
        _due_rows(rows, p, profile, lease, m, when, due)
    if lease.before > 0:
        m = sc & (lease.expiry_eval >= lo) & (lease.expiry_eval <= hi)
        i = np.flatnonzero(m)
        es = iso(lease.end[i])
        due = _Due(
            "evaluation.before_expiry_years",
            "expiry",
            ("到期评估", "expiry evaluation"),
            (
                [f"出让期满 {a} 前 {lease.before:g} 年" for a in es],
                [f"{lease.before:g} year(s) before the lease ends {a}" for a in es],
            ),
            {"lease_ends_on": lease.end[i]},
        )
        _due_rows(rows, p, profile, lease, m, lease.expiry_eval, due)


def _lease_sentences(
    p: Parcels, lease: _Lease, idx: npt.NDArray[np.int64], expired: bool
) -> tuple[list[str], list[str]]:
    today, end = p.as_of, lease.end[idx]
    yrs = [short(v) for v in lease.years[idx].tolist()]
    ds, es = iso(lease.delivered[idx]), iso(end)
    if not expired:
        dz, de = days_said(end, today)
        return (
            [
                f"交地日期 {a} 起出让 {y} 年，将于 {b} 期满，还有 {z}"
                for a, b, y, z in zip(ds, es, yrs, dz, strict=False)
            ],
            [
                f"leased for {y} years from delivery {a}: expires {b}, in {e}"
                for a, b, y, e in zip(ds, es, yrs, de, strict=False)
            ],
        )
    dz, de = durations_to(end, today)
    today_ = (end == today).tolist()
    return (
        [
            f"交地日期 {a} 起出让 {y} 年，" + (f"于今日 {b} 期满" if t else f"已于 {b} 期满，已过 {z}")
            for a, b, y, z, t in zip(ds, es, yrs, dz, today_, strict=False)
        ],
        [
            f"leased for {y} years from delivery {a}: "
            + (f"expires today, {b}" if t else f"expired {b}, {e} ago")
            for a, b, y, e, t in zip(ds, es, yrs, de, today_, strict=False)
        ],
    )


def _lease_end(rows: Rows, p: Parcels, lease: _Lease, cite: str) -> None:
    today, end = p.as_of, lease.end
    for cat, m in (
        ("lease_expired", lease.ok & (today >= end)),
        ("lease_expiring", lease.ok & (today < end) & (today >= end - np.timedelta64(lease.warn, "D"))),
    ):
        idx = np.flatnonzero(m)
        if idx.size == 0:
            continue
        det, det_en = _lease_sentences(p, lease, idx, cat == "lease_expired")
        rows.add(
            cat,
            cite,
            idx,
            since=end[idx],
            detail=det,
            detail_en=det_en,
            figures=records(
                {
                    "delivered_on": lease.delivered[idx],
                    "lease_years": lease.years[idx],
                    "lease_ends_on": end[idx],
                    "days_to_end": (end[idx] - today).astype(np.int64).astype(np.float64),
                },
                idx.size,
            ),
        )
