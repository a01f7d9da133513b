"""Judging a city and writing the judgement: findings, JSON documents and the map's marks, in one transaction.

The heavy half of ``blockline.services.judged`` (the rules, pandas, pyarrow), imported by it only when a city is
judged, so that a command served a stored judgement does not pay for these imports.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pyarrow import csv

from blockline.services.judged import KINDS, set_name
from blockline.services.judged_low import copy_line_areas, line_areas
from blockline.services.judged_values import dumps, is_missing
from geo.parcel_marks import copy_mark_rows, start_marks
from geo.store import driver_connection
from geo.tiles_cells import refresh_mark_cells
from zoning.consolidation import latest_grade
from zoning.findings import empty_findings, findings_json, group_by_parcel, merge_findings
from zoning.grades import rating_keys, ratings_of
from zoning.idle import IDLE_CATEGORIES, idle_findings, low_efficiency
from zoning.lifecycle import LIFECYCLE_CATEGORIES, lifecycle_findings
from zoning.marks import first_category, marks_frame
from zoning.policy import Profile

__all__ = ["document_pieces", "first_categories", "judge_frames", "write_judgement"]

#: the columns of a findings frame that are table columns of ``judged_findings`` (the rest go to ``extra``)
_TABLE_COLUMNS = (
    "parcel_no",
    "category",
    "article",
    "detail",
    "detail_en",
    "since",
    "figures",
    "penalty_wan",
)

#: parcels per stored chunk of the JSON document
_CHUNK = 5000

#: findings per batch of the COPY that stores them
_BATCH = 20000


def judge_frames(
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date,
    profile: Profile,
    county_profiles: Mapping[str, Profile] | None = None,
    city_standard_tax_per_mu_wan: float | None = None,
) -> dict[str, Any]:
    """Judge a city in memory: ``{"idle": frame, "lifecycle": frame, "low_efficiency": sorted parcel numbers}``.

    Each rule of ``zoning`` once, on the frames given (not modified); what ``judge_city`` stores. The parcels of
    the counties of ``county_profiles`` (``zoning.policy.governing_profiles``) are judged under their own
    city's profile, every other under ``profile``.
    """
    others = _others(parcels, county_profiles)
    out: dict[str, Any] = {
        kind: _judge_kind(
            kind,
            parcels,
            ratings,
            as_of=as_of,
            profile=profile,
            others=others,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        )
        for kind in KINDS
    }
    out["low_efficiency"] = _low_efficiency(parcels, ratings, as_of=as_of, profile=profile, others=others)
    return out


#: parcels another profile governs: the profile, their rows (a copy) and their positions in the city's frame
_Others = list[tuple[Profile, pd.DataFrame, npt.NDArray[np.intp]]]


def _others(parcels: pd.DataFrame, county_profiles: Mapping[str, Profile] | None) -> _Others:
    """The parcels another profile governs than the deployment's, by profile (each a copy of its few rows)."""
    if not county_profiles or len(parcels) == 0:
        return []
    by_name: dict[str, tuple[Profile, list[str]]] = {}
    for code, other in sorted(county_profiles.items()):
        by_name.setdefault(other.name, (other, []))[1].append(code)
    county = parcels["county_code"]
    out = []
    for other, codes in by_name.values():
        mask = county.isin(codes).to_numpy()
        if mask.any():
            out.append((other, parcels[mask], np.flatnonzero(mask)))
    return out


def _judge_kind(
    kind: str,
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date,
    profile: Profile,
    others: _Others,
    city_standard_tax_per_mu_wan: float | None,
) -> pd.DataFrame:
    """The findings frame of one kind, by its rule in ``zoning``, each parcel under the profile governing it.

    The city is judged whole under ``profile`` (no copy of its frame), then the rows of the parcels in
    ``others`` are replaced by their judgement under their own profile.
    """

    def rule(frame: pd.DataFrame, under: Profile) -> pd.DataFrame:
        if kind == "idle":
            return idle_findings(frame, as_of=as_of, profile=under)
        return lifecycle_findings(
            frame,
            ratings,
            as_of=as_of,
            profile=under,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        )

    found = rule(parcels, profile)
    if not others:
        return found
    theirs = np.concatenate([sub["parcel_no"].astype(str).to_numpy(dtype=object) for _, sub, _ in others])
    kept = found[~found["parcel_no"].astype(str).isin(theirs).to_numpy()].reset_index(drop=True)
    return merge_findings([kept, *(rule(sub, under) for under, sub, _ in others)])


def _low_efficiency(
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date,
    profile: Profile,
    others: _Others,
) -> list[str]:
    """The sorted parcel numbers ``zoning.idle.low_efficiency`` marks, each under the profile governing it."""
    low = low_efficiency(parcels, ratings, as_of=as_of, profile=profile).to_numpy().copy()
    for under, sub, at in others:
        low[at] = low_efficiency(sub, ratings, as_of=as_of, profile=under).to_numpy()
    return sorted(str(x) for x in parcels["parcel_no"].to_numpy()[low])


def write_judgement(
    conn: sa.Connection,
    key: dict[str, Any],
    parts: Iterable[pd.DataFrame],
    ratings: pd.DataFrame,
    *,
    as_of: dt.date,
    profile: Profile,
    county_profiles: Mapping[str, Profile] | None = None,
    city_standard_tax_per_mu_wan: float | None,
    areas_on: sa.Connection,
    documents: bool = True,
) -> int:
    """Judge and write a judgement (row, findings, documents, low-efficiency line areas, the map's marks); its id.

    ``parts`` are the city's parcels in parcel-number order, a frame at a time (one frame: the whole city). Each
    part is judged and written before the next is read, with the ratings that can count for it
    (``zoning.grades.ratings_of``), so the memory is that of a part, not of the city: every rule judges a parcel
    by its own row and ratings, so the findings are those of the city judged at once, in the same order. The
    judgements of other data are deleted. ``documents=False`` writes the JSON documents' head only, and marks
    the judgement as waiting for the rest (``blockline.services.judged_docs.write_documents``). ``areas_on``:
    the connection the parts were read from, idle once they are; the low-efficiency parcels' line areas are
    computed there, in its snapshot, while ``conn`` sums the marks' cells.
    """
    conn.execute(sa.text("DELETE FROM judgements WHERE data_version <> :v"), key)
    jid = int(
        conn.execute(
            sa.text("""
        INSERT INTO judgements (data_version, as_of, profile, options, columns, low_efficiency, judged_by, seconds,
                                documents)
        VALUES (:v, :d, :p, :o, '{}', '{}', :by, 0, :docs) RETURNING id"""),
            {**key, "by": f"{socket.gethostname()}:{os.getpid()}", "docs": documents},
        ).scalar_one()
    )
    raw = driver_connection(conn)
    head = _document_head(as_of=as_of, profile=profile, county_profiles=county_profiles)
    with raw.cursor() as cur, cur.copy(DOCUMENTS_COPY) as copy:
        for kind in KINDS:
            copy.write_row((jid, kind, 0, head))
    state = _Written(documents=documents)
    # the map's marks of this data, date and profile (none under a city standard), a part at a time. The cells'
    # lock (geo.tiles_cells.lock_cell_values) is taken here, first, and held to the commit: a load's recount, or
    # another judgement's marks, waits for this judging to end (readers do not), rather than risk a deadlock
    # over the rows of old sets that both delete
    mark_set = set_name(key["p"], as_of, key["v"]) if city_standard_tax_per_mu_wan is None else None
    if mark_set is not None:
        start_marks(conn, mark_set, keep_suffix="|" + key["v"])
    keys = rating_keys(ratings)
    with _Writer() as writer:  # a part is stored while the next is judged
        for parcels in parts:
            mine = ratings_of(parcels, ratings, keys=keys)
            others = _others(parcels, county_profiles)
            state.low += _low_efficiency(parcels, mine, as_of=as_of, profile=profile, others=others)
            firsts = {}
            for kind in KINDS:
                frame = _judge_kind(
                    kind,
                    parcels,
                    mine,
                    as_of=as_of,
                    profile=profile,
                    others=others,
                    city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
                )
                firsts[kind] = first_categories(kind, frame)
                writer.put(state.rows(raw, jid, kind, frame))
                del frame
            if mark_set is not None:
                rows = list(_marks(parcels, mine, firsts, as_of=as_of).itertuples(index=False, name=None))
                writer.put(partial(copy_mark_rows, conn, mark_set, rows))
    conn.execute(
        sa.text("UPDATE judgements SET columns = CAST(:c AS jsonb), low_efficiency = :low WHERE id = :i"),
        {"c": orjson.dumps(state.columns).decode(), "low": state.low, "i": jid},
    )
    _areas_and_cells(conn, jid, state.low, mark_set=mark_set, areas_on=areas_on)
    return jid


def _areas_and_cells(
    conn: sa.Connection, jid: int, low: list[str], *, mark_set: str | None, areas_on: sa.Connection
) -> None:
    """The low-efficiency parcels' line areas and the marks' cells of a judgement (``write_judgement``)."""
    with ThreadPoolExecutor(1, thread_name_prefix="judgement-areas") as pool:  # the two backends at once
        areas = pool.submit(line_areas, areas_on, jid, low)
        if mark_set is not None:
            refresh_mark_cells(conn, mark_set)
        copy_line_areas(conn, areas.result())


_FINDINGS_COPY = (
    "COPY judged_findings (judgement_id, kind, ord, parcel_no, category, article, detail, detail_en, since, "
    "figures, penalty_wan, extra) FROM STDIN (FORMAT csv)"
)
DOCUMENTS_COPY = "COPY judged_documents (judgement_id, kind, chunk, body) FROM STDIN"


@dataclass
class _Written:
    """What a judgement written part by part has written so far: rows and document pieces per kind, columns."""

    rows_of: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    pieces: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    columns: dict[str, list[list[str]]] = field(default_factory=dict)
    low: list[str] = field(default_factory=list)
    documents: bool = True  # the JSON documents' pieces too (False: written later, from the stored findings)

    def rows(self, raw: Any, jid: int, kind: str, frame: pd.DataFrame) -> Callable[[], None]:
        """One part's findings of ``kind`` made ready (rows numbered on, pieces of the JSON document): the write."""
        columns = [[c, str(frame[c].dtype)] for c in frame.columns]
        if kind not in self.columns or (len(frame) and self.rows_of[kind] == 0):
            self.columns[kind] = columns  # the first part with findings says the frame's columns and dtypes
        elif len(frame) and columns != self.columns[kind]:
            raise RuntimeError(
                f"the parts' {kind} findings differ in columns: {columns} ≠ {self.columns[kind]}"
            )
        start = self.rows_of[kind]
        # in batches: a fraction of the memory at once
        batches = [
            _findings_csv(jid, kind, frame.iloc[lo : lo + _BATCH], start=start + lo)
            for lo in range(0, len(frame), _BATCH)
        ]
        pieces = [
            (jid, kind, self.pieces[kind] + i, body)
            for i, body in enumerate(document_pieces(frame) if self.documents else (), 1)
        ]
        self.pieces[kind] += len(pieces)
        self.rows_of[kind] += len(frame)

        def write() -> None:
            with raw.cursor() as cur:
                with cur.copy(_FINDINGS_COPY) as copy:
                    for batch in batches:
                        copy.write(batch)
                with cur.copy(DOCUMENTS_COPY) as copy:
                    for piece in pieces:
                        copy.write_row(piece)

        return write


class _Writer:
    """A judgement's writes, in the order given, in a thread of their own on the judgement's connection.

    The rules (pandas: they hold the GIL) judge the next part while the database stores this one (its
    COPYs: the driver waits for the server without the GIL), so the two CPUs share the work. At
    most two parts' writes wait (their memory). The first write that fails is raised in the caller, by the
    next ``put`` or on leaving; once one has failed, or the caller has, the rest are skipped (the transaction
    is lost anyway).
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._skip = False  # the caller failed: what is still queued is not written
        self._thread = threading.Thread(target=self._run, name="judgement-writer", daemon=True)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None and not self._skip:
                try:
                    job()
                except BaseException as exc:  # raised in the caller's thread
                    self._error = exc

    def put(self, job: Callable[[], object]) -> None:
        """Queue ``job`` (raising the error of an earlier one)."""
        if self._error is not None:
            raise self._error
        self._jobs.put(job)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self._skip = kind is not None
        self._jobs.put(None)
        self._thread.join()
        if kind is None and self._error is not None:
            raise self._error


def first_categories(kind: str, findings: pd.DataFrame) -> pd.Series:
    """parcel_no → the map's mark of ``kind`` (``zoning.marks.first_category``)."""
    return first_category(findings, IDLE_CATEGORIES if kind == "idle" else LIFECYCLE_CATEGORIES)


def _marks(
    parcels: pd.DataFrame, ratings: pd.DataFrame, firsts: dict[str, pd.Series], *, as_of: dt.date
) -> pd.DataFrame:
    """The parcels' marks (``zoning.marks``) of a part of the judgement."""
    return marks_frame(
        parcels["parcel_no"], firsts["idle"], firsts["lifecycle"], latest_grade(parcels, ratings, as_of=as_of)
    )


def _findings_csv(jid: int, kind: str, findings: pd.DataFrame, *, start: int = 0) -> memoryview:
    """The rows of ``judged_findings`` for one frame, as CSV for COPY (written by pyarrow, in C)."""
    n = len(findings)

    def col(c: str) -> list[Any]:
        return findings[c].tolist() if c in findings.columns else [None] * n

    def text(c: str) -> pa.Array:
        if c in findings.columns:
            try:  # strings and None (or NaN) as they are, in C
                return pa.array(findings[c], pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        return pa.array([None if v is None else str(v) for v in col(c)], pa.string())

    others = [c for c in findings.columns if c not in _TABLE_COLUMNS]
    extra = (
        [
            dumps({c: v for c, v in zip(others, vals, strict=True)})
            for vals in zip(*(col(c) for c in others), strict=False)
        ]
        if others
        else [None] * n
    )
    pen = [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        for v in col("penalty_wan")
    ]
    table = pa.table(
        {
            "judgement_id": pa.array([jid] * n, pa.int64()),
            "kind": pa.array([kind] * n, pa.string()),
            "ord": pa.array(range(start, start + n), pa.int64()),
            **{c: text(c) for c in _TABLE_COLUMNS[:5]},
            "since": pa.array([None if is_missing(v) else v for v in col("since")], pa.date32()),
            "figures": pa.array([None if v is None else dumps(v) for v in col("figures")], pa.string()),
            "penalty_wan": pa.array(pen, pa.float64()),
            "extra": pa.array(extra, pa.string()),
        }
    )
    buf = pa.BufferOutputStream()
    # every value quoted, NULL unquoted and empty: COPY tells an empty string from a NULL
    csv.write_csv(table, buf, csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return memoryview(buf.getvalue())


def _document_head(*, as_of: dt.date, profile: Profile, county_profiles: Mapping[str, Profile] | None) -> str:
    """The JSON document's head (chunk 0): ``{"as_of": …, "policy": …}`` without its ``parcels``."""
    head = findings_json(
        empty_findings(),
        as_of=as_of,
        profile=profile,
        county_policies={c: p.name for c, p in (county_profiles or {}).items()},
    )
    head.pop("parcels")
    return orjson.dumps(head).decode()


def document_pieces(findings: pd.DataFrame) -> Iterator[str]:
    """The findings' part of the JSON document's ``parcels`` list, in pieces (chunks 1, 2, … of the document).

    ``group_by_parcel`` is per parcel and in parcel order, so grouping slices of whole parcels, in that
    order, gives the same list as grouping all at once, with a fraction of the memory.
    """
    if len(findings) == 0:
        return
    codes, _ = pd.factorize(findings["parcel_no"].astype(object).map(str).to_numpy(dtype=object), sort=True)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    for lo in range(0, int(sorted_codes[-1]) + 1, _CHUNK):
        a, b = np.searchsorted(sorted_codes, [lo, lo + _CHUNK])
        part = group_by_parcel(findings.iloc[order[a:b]])
        yield orjson.dumps(
            part, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str
        ).decode()[1:-1]
