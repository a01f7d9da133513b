"""The 亩均论英雄 grade that counts for a parcel in a year, and its latest grade.

Grades (A best to D worst) are given by year, to a parcel (``ratings.parcel_no``) or to its enterprise
(``ratings.holder_id``, the 统一社会信用代码). One rule decides which grade counts, for every use of the
ratings (low-efficiency land, the runs of YW §12, consolidation zones, the map's marks):

- only finished years count: a grade of ``as_of``'s year or later is not yet known and is ignored;
- a grade given to the parcel itself wins over its enterprise's grade of the same year;
- among several grades of one kind (parcel or enterprise) for the same year, the **worst** counts. The
  policy texts (WZ §12, §14; YW §12, §14) speak of "the" grade of a year and say nothing of a year rated
  twice; the worst grade is the cautious reading (a land contract may be ended on a bad grade, so a bad
  grade on record is not hidden behind a better one), and it does not depend on the order of the rows;
- a grade other than A–D (read case- and space-insensitively) in a year that counts, or a year that is not
  a number, is refused with the rows named; a rating without a year is not of a finished year and is left
  out;
- keys are compared as text with the surrounding spaces removed; a blank key matches nothing.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> parcels = pd.DataFrame({"parcel_no": ["P1", "P2"], "holder_id": ["H1", "H1"]})
>>> ratings = pd.DataFrame({"holder_id": ["H1", "H1", None], "parcel_no": [None, None, "P2"],
...                         "year": [2025, 2025, 2025], "grade": ["B", "C", "A"]})
>>> grades_by_year(parcels, ratings, as_of=dt.date(2026, 6, 1)).values.tolist()
[[0, 2025, 'C'], [1, 2025, 'A']]
>>> latest_grades(parcels, ratings, as_of=dt.date(2026, 6, 1)).tolist()
['C', 'A']
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["GRADES", "RatingKeys", "grades_by_year", "latest_grades", "rating_keys", "ratings_of"]

#: the grades, best first
GRADES = ("A", "B", "C", "D")

_SHOW = 10  # rows named in an error message


def _keys(frame: pd.DataFrame, column: str) -> pd.Series:
    """A key column as text without surrounding spaces, blanks and missing values as NA."""
    values = frame[column].astype("string").str.strip()
    return values.mask(values == "").reset_index(drop=True)


#: per key of the ratings (``parcel_no``, ``holder_id``): its distinct values, the rows in value order, and
#: where each value's rows start in that order (:func:`rating_keys`)
RatingKeys = dict[str, tuple[pd.Index, np.ndarray, np.ndarray]]


def rating_keys(ratings: pd.DataFrame) -> RatingKeys:
    """The ratings' rows by key value (``parcel_no``, ``holder_id``, compared as the rules compare them).

    For :func:`ratings_of` asked part after part: each part then costs its own size, not the ratings'.
    """
    out: RatingKeys = {}
    for key in ("parcel_no", "holder_id"):
        if key in ratings.columns:
            codes, uniques = pd.factorize(_object_keys(ratings, key))  # a missing key: −1, first in order
            order = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
            out[key] = (pd.Index(uniques), order, starts)
    return out


def _object_keys(frame: pd.DataFrame, column: str) -> pd.Series:
    """``_keys`` as Python strings and None (hashed ten times faster than pandas' strings)."""
    values = _keys(frame, column)
    return values.astype(object).where(values.notna(), None)


def ratings_of(
    parcels: pd.DataFrame, ratings: pd.DataFrame, *, keys: RatingKeys | None = None
) -> pd.DataFrame:
    """The rows of ``ratings`` that can count for ``parcels``: rated by their parcel number or by their holder.

    The keys compared as the rules compare them (text without surrounding spaces); ``keys`` are the ratings'
    (:func:`rating_keys`), when they are asked for part after part. The rows keep their order. What a city
    judged part by part gives each part, so that every part's grades are those of the whole city's ratings.

    Examples
    --------
    >>> parcels = pd.DataFrame({"parcel_no": ["P1"], "holder_id": ["H1 "]})
    >>> ratings = pd.DataFrame({"parcel_no": ["P1", "P2", None, None, "P1"],
    ...                         "holder_id": [None, None, "H1", "H2", "H1"],
    ...                         "year": [2024] * 5, "grade": ["A", "B", "C", "D", "B"]})
    >>> ratings_of(parcels, ratings)["grade"].tolist()
    ['A', 'C', 'B']
    """
    if len(ratings) == 0:
        return ratings
    picked = []
    for key, (values, order, starts) in (rating_keys(ratings) if keys is None else keys).items():
        if key not in parcels.columns:
            continue
        codes = values.get_indexer(pd.Index(_object_keys(parcels, key).dropna().unique()))
        codes = codes[codes >= 0]
        lo, n = starts[codes], starts[codes + 1] - starts[codes]
        # the rows of every value wanted: each value's run of ``order``, one after the other
        at = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())
        picked.append(order[at])
    rows = np.unique(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.intp)
    return ratings.iloc[rows]


def _named(index: pd.Index, mask: np.ndarray) -> str:
    bad = list(index[mask])
    more = f" and {len(bad) - _SHOW} more" if len(bad) > _SHOW else ""
    return f"{bad[:_SHOW]}{more}"


def _years_and_grades(ratings: pd.DataFrame, before: int) -> tuple[np.ndarray, np.ndarray]:
    """Each rating's year (NaN when missing) and grade code (0 = A … 3 = D, −1 outside the years that count)."""
    year = pd.to_numeric(ratings["year"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    not_a_number = np.isnan(year) & ratings["year"].notna().to_numpy()
    if not_a_number.any():
        raise ValueError(
            f"ratings rows {_named(ratings.index, not_a_number)} have a year that is not a number"
        )
    grade = ratings["grade"].astype("string").str.strip().str.upper()
    code = np.select(
        [(grade == g).fillna(False).to_numpy(dtype=bool) for g in GRADES], range(len(GRADES)), default=-1
    )
    counts = year < before
    bad = counts & (code < 0)
    if bad.any():
        raise ValueError(f"ratings rows {_named(ratings.index, bad)} have a grade other than A–D")
    return year, np.where(counts, code, -1)


def grades_by_year(parcels: pd.DataFrame, ratings: pd.DataFrame | None, *, as_of: dt.date) -> pd.DataFrame:
    """The grade that counts for each parcel in each finished year it was rated (see the module's rules).

    Parameters
    ----------
    parcels : pandas.DataFrame
        With ``parcel_no`` and, for enterprise grades, ``holder_id``.
    ratings : pandas.DataFrame or None
        ``year``, ``grade`` (A–D) and ``parcel_no`` and/or ``holder_id`` (as ``geo.queries.read_ratings``
        gives them); None or no rows: no grade.
    as_of : datetime.date
        The day of the judgement: only years before its year count.

    Returns
    -------
    pandas.DataFrame
        ``pos`` (the parcel's position in ``parcels``), ``year`` and ``grade`` (``"A"``–``"D"``), one row
        per parcel and year, sorted by ``pos`` then ``year``.

    Raises
    ------
    ValueError
        When a column is missing, a year is not a number, or a grade of a year that counts is not A–D.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> parcels = pd.DataFrame({"parcel_no": ["P1"], "holder_id": ["H1"]})
    >>> ratings = pd.DataFrame({"parcel_no": ["P1", "P1", None], "holder_id": [None, None, "H1"],
    ...                         "year": [2024, 2024, 2025], "grade": ["d", "B", "A"]})
    >>> grades_by_year(parcels, ratings, as_of=dt.date(2026, 1, 1)).values.tolist()
    [[0, 2024, 'D'], [0, 2025, 'A']]
    """
    if "parcel_no" not in parcels.columns:
        raise ValueError("parcels lacks the column parcel_no")
    empty = pd.DataFrame(
        {
            "pos": pd.Series([], dtype=np.int64),
            "year": pd.Series([], dtype=np.int64),
            "grade": pd.Series([], dtype=object),
        }
    )
    if ratings is None or len(ratings) == 0 or len(parcels) == 0:
        return empty
    if any(c not in ratings.columns for c in ("year", "grade")) or not (
        {"parcel_no", "holder_id"} & set(ratings.columns)
    ):
        raise ValueError("ratings needs the columns year, grade and parcel_no and/or holder_id")
    year, code = _years_and_grades(ratings, as_of.year)
    parts = [
        _matches(_keys(parcels, key), _keys(ratings, key), code >= 0, prio)
        for key, prio in (("parcel_no", 0), ("holder_id", 1))
        if key in ratings.columns and key in parcels.columns
    ]
    if not parts:
        return empty
    pos, row, prio = (np.concatenate(x) for x in zip(*parts, strict=True))
    if pos.size == 0:
        return empty
    yr, gr = year[row].astype(np.int64), code[row]
    # per (parcel, year): the parcel's own grade first, then the worst
    order = np.lexsort((-gr, prio, yr, pos))
    pos, yr, gr = pos[order], yr[order], gr[order]
    first = np.r_[True, (pos[1:] != pos[:-1]) | (yr[1:] != yr[:-1])]
    return pd.DataFrame(
        {"pos": pos[first], "year": yr[first], "grade": np.array(GRADES, dtype=object)[gr[first]]}
    )


def _matches(
    own: pd.Series, theirs: pd.Series, counts: np.ndarray, prio: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parcel position, rating row, priority) of every rating whose key is a parcel's."""
    # match on integer codes of the keys (one hashing pass over both sides)
    codes, _ = pd.factorize(pd.concat([own, theirs], ignore_index=True))
    mine, other = codes[: len(own)], codes[len(own) :]
    ok_mine = own.notna().to_numpy()
    ok_other = theirs.notna().to_numpy() & counts
    left = pd.DataFrame({"k": mine[ok_mine], "pos": np.flatnonzero(ok_mine)})
    right = pd.DataFrame({"k": other[ok_other], "row": np.flatnonzero(ok_other)})
    m = left.merge(right, on="k", how="inner")
    rows = m["row"].to_numpy(dtype=np.int64)
    return m["pos"].to_numpy(dtype=np.int64), rows, np.full(rows.size, prio, dtype=np.int64)


def latest_grades(parcels: pd.DataFrame, ratings: pd.DataFrame | None, *, as_of: dt.date) -> pd.Series:
    """Each parcel's grade of its latest rated finished year ("上年" and earlier), by ``grades_by_year``.

    Returns
    -------
    pandas.Series
        Named ``rating``, with the index of ``parcels``: ``"A"``–``"D"``, or None for a parcel without a
        grade.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> parcels = pd.DataFrame({"parcel_no": ["P1", "P2", "P3"], "holder_id": ["H1", "H1", None]})
    >>> ratings = pd.DataFrame({"holder_id": ["H1", "H1", "H1", None], "parcel_no": [None, None, None, "P2"],
    ...                         "year": [2024, 2025, 2026, 2025], "grade": ["B", "C", "A", "D"]})
    >>> latest_grades(parcels, ratings, as_of=dt.date(2026, 6, 1)).tolist()
    ['C', 'D', None]
    """
    long = grades_by_year(parcels, ratings, as_of=as_of)
    values = np.full(len(parcels), None, dtype=object)
    if len(long):
        pos = long["pos"].to_numpy()
        last = np.r_[pos[1:] != pos[:-1], True]  # sorted by year within each parcel: its latest year
        values[pos[last]] = long["grade"].to_numpy(dtype=object)[last]
    return pd.Series(values, index=parcels.index, name="rating", dtype=object)
