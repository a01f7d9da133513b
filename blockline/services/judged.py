"""A city judged once per data version: idle, lifecycle and low-efficiency findings, kept in PostGIS.

``judge_city`` returns the judgement of (data version, date, profile, options): read back from the tables of
migration 0014 when any process has judged it before, otherwise judged here (the parcels' rule columns and
the ratings read once, each rule run once) and written in one transaction. Two processes asking at once do
not both judge: the second waits on a lock held by the first and then reads what it wrote. A new load
changes the data version (``geo.tiles.data_version``): older judgements are never served, and the next one
written deletes them.

The findings are kept generically: every column of a findings frame survives the round trip (those of
``zoning.findings.FINDING_COLUMNS`` as table columns, any other in a JSONB ``extra``), in the frame's order
and dtypes; values JSON cannot hold as such (dates, non-finite floats, tuples) are tagged. The JSON
``parcels`` list of ``blockline idle`` / ``lifecycle`` is kept beside them, in chunks, so a command writes its
answer without grouping and encoding the whole city again.

Examples
--------
>>> _decode(_encode({"a": dt.date(2026, 1, 2), "b": float("nan"), "c": (1, 2), "d": [1.5, None]}))
{'a': datetime.date(2026, 1, 2), 'b': nan, 'c': (1, 2), 'd': [1.5, None]}
"""

from __future__ import annotations

import datetime as dt
import math
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.store import transaction
from geo.tiles import data_version

if TYPE_CHECKING:  # pandas, numpy and the rules are imported where a city is judged or a frame is read:
    import pandas as pd  # a caller served the stored JSON document starts in half the time without them

    from zoning.policy import Profile

__all__ = ["KINDS", "Judgement", "first_categories", "judge_city", "judge_frames", "judge_today"]

#: the kinds of findings a judgement holds
KINDS = ("idle", "lifecycle")

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


# ======================================================================================================
# the judgement
# ======================================================================================================


@dataclass
class Judgement:
    """The findings of one (data version, date, profile, options), stored; frames read back when asked.

    Attributes
    ----------
    id : int
        Its row in ``judgements``.
    data_version, as_of, profile, options
        Its key.
    computed : bool
        Whether this call judged the city (False: another call had, and it was read back).
    seconds : float
        How long the judging took when it was done (read, rules, JSON, write).
    """

    engine: Engine = field(repr=False)
    id: int
    data_version: str
    as_of: dt.date
    profile: str
    options: str
    computed: bool
    seconds: float
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _low: list[str] | None = field(default=None, repr=False)

    def findings(self, kind: str, *, figures: bool = True) -> pd.DataFrame:
        """The findings frame of ``kind`` (``idle`` or ``lifecycle``), as the rules returned it.

        ``figures=False`` leaves out the ``figures`` column (the pages' lists do not show it): a third of the
        time and memory of reading the frame back.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if kind in self._frames:
            frame = self._frames[kind]
            return frame if figures else frame.drop(columns=["figures"])
        frame = _read_findings(self.engine, self.id, kind, figures=figures)
        if figures:
            self._frames[kind] = frame
        return frame

    def low_efficiency(self) -> list[str]:
        """The parcel numbers judged low-efficiency land (``zoning.idle.low_efficiency``), sorted."""
        if self._low is None:
            with self.engine.connect() as conn:
                self._low = list(
                    conn.execute(
                        sa.text("SELECT low_efficiency FROM judgements WHERE id = :i"), {"i": self.id}
                    ).scalar_one()
                )
        return self._low

    def document(self, kind: str) -> Iterator[str]:
        """The JSON document of ``blockline <kind> --format json`` (CLI.md), in pieces to write in order."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        with self.engine.connect() as conn:
            chunks = (
                conn.execute(
                    sa.text(
                        "SELECT chunk FROM judged_documents WHERE judgement_id = :i AND kind = :k "
                        "ORDER BY chunk"
                    ),
                    {"i": self.id, "k": kind},
                )
                .scalars()
                .all()
            )
            for chunk in chunks:  # one chunk (a few MB) in memory at a time
                body = conn.execute(
                    sa.text(
                        "SELECT body FROM judged_documents WHERE judgement_id = :i AND kind = :k "
                        "AND chunk = :c"
                    ),
                    {"i": self.id, "k": kind, "c": chunk},
                ).scalar_one()
                if chunk == 0:  # the document without its parcels: {"as_of": …, "policy": …}
                    yield body[:-1] + (', "parcels": [' if len(body) > 2 else '"parcels": [')
                else:
                    yield body if chunk == 1 else "," + body
            yield "]}"


def judge_frames(
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None = None,
) -> dict[str, Any]:
    """Judge a city in memory: ``{"idle": frame, "lifecycle": frame, "low_efficiency": sorted parcel numbers}``.

    Each rule of ``zoning`` once, on the frames given (not modified); what ``judge_city`` stores.
    """
    out: dict[str, Any] = {
        kind: _judge_kind(
            kind,
            parcels,
            ratings,
            as_of=as_of,
            profile=profile,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        )
        for kind in KINDS
    }
    out["low_efficiency"] = _low_efficiency(parcels, ratings, as_of=as_of, profile=profile)
    return out


def _judge_kind(
    kind: str,
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None,
) -> pd.DataFrame:
    """The findings frame of one kind, by its rule in ``zoning``."""
    if kind == "idle":
        from zoning.idle import idle_findings

        return idle_findings(parcels, as_of=as_of, profile=profile)
    from zoning.lifecycle import lifecycle_findings

    return lifecycle_findings(
        parcels,
        ratings,
        as_of=as_of,
        profile=profile,
        city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
    )


def _low_efficiency(
    parcels: pd.DataFrame, ratings: pd.DataFrame | None, *, as_of: dt.date, profile: Profile
) -> list[str]:
    """The sorted parcel numbers ``zoning.idle.low_efficiency`` marks."""
    from zoning.idle import low_efficiency

    low = low_efficiency(parcels, ratings, as_of=as_of, profile=profile)
    return sorted(str(x) for x in parcels["parcel_no"].to_numpy()[low.to_numpy()])


def judge_city(
    engine: Engine, *, as_of: dt.date, profile: Profile, city_standard_tax_per_mu_wan: float | None = None
) -> Judgement:
    """The judgement of the current data at ``as_of`` under ``profile``: stored, or judged now and stored.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    as_of : datetime.date
        The date of the judgement.
    profile : zoning.policy.Profile
        The policy.
    city_standard_tax_per_mu_wan : float, optional
        As for ``zoning.lifecycle.lifecycle_findings``; part of the key.

    Returns
    -------
    Judgement
        ``computed`` tells whether this call judged; every call counts in ``judgements.served``.
    """
    options = f"rules={_rules_token(profile)}" + (
        ""
        if city_standard_tax_per_mu_wan is None
        else f";city_standard_tax={float(city_standard_tax_per_mu_wan)!r}"
    )
    key = {"v": data_version(engine), "d": as_of, "p": profile.name, "o": options}
    found = _served(engine, key)
    if found is not None:
        return found
    with transaction(engine) as conn:
        # one judge per key: a second caller waits here, then finds what the first wrote
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 14))"),
            {"k": f"{key['v']}|{as_of.isoformat()}|{key['p']}|{options}"},
        )
        found = _served(conn, key)
        if found is not None:
            found.engine = engine
            return found
        from geo import queries

        start = time.perf_counter()
        parcels = queries.read_parcel_columns(engine, date_objects=False)
        ratings = queries.read_ratings(engine)
        if data_version(engine) != key["v"]:  # a load landed meanwhile: answer, but store nothing stale
            judged = judge_frames(
                parcels,
                ratings,
                as_of=as_of,
                profile=profile,
                city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
            )
            return Judgement(
                engine,
                0,
                key["v"],
                as_of,
                profile.name,
                options,
                True,
                time.perf_counter() - start,
                {k: judged[k] for k in KINDS},
                judged["low_efficiency"],
            )
        jid = _write(
            conn,
            key,
            parcels,
            ratings,
            as_of=as_of,
            profile=profile,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        )
        seconds = time.perf_counter() - start
        conn.execute(sa.text("UPDATE judgements SET seconds = :s WHERE id = :i"), {"s": seconds, "i": jid})
    return Judgement(engine, jid, key["v"], as_of, profile.name, options, True, seconds)


def judge_today(engine: Engine, *, policies: Sequence[str] | None = None) -> list[Judgement]:
    """Today's judgements of the current data under the deployment's profile(s), stored or judged now.

    What a load (``blockline load …``, ``blockline demo``) and the server's warm-up call, so that today's
    findings are ready before the first planner asks. Nothing is judged when the store holds no parcels.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    policies : sequence of str, optional
        Profile names or paths; default the deployment's (``BLOCKLINE_POLICY``).

    Returns
    -------
    list of Judgement
        One per profile, in order; empty without parcels.
    """
    from geo.clock import today
    from geo.settings import get_settings
    from zoning.policy import get_profile

    with engine.connect() as conn:
        held = conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM parcels WHERE valid_to IS NULL)")
        ).scalar_one()
    if not held:
        return []
    day = today()
    names = list(policies or [get_settings().policy])
    return [judge_city(engine, as_of=day, profile=get_profile(p)) for p in names]


#: the code a judgement comes from: a change to any of these files (a new release) judges again
_RULE_FILES = (
    "zoning/findings.py",
    "zoning/idle.py",
    "zoning/lifecycle.py",
    "zoning/policy.py",
    "zoning/policy_schema.py",
    "zoning/marks.py",
    "zoning/consolidation.py",
    "zoning/_zones.py",
    "blockline/services/judged.py",
)


def _rules_token(profile: Profile) -> str:
    """A short hash of the rules' code and the profile's every parameter, part of a judgement's key.

    The data version says when the data changed; this says when the rules or the thresholds did (an
    edited profile file keeps its name).
    """
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha1(orjson.dumps(profile.as_dict(), default=str, option=orjson.OPT_SORT_KEYS))
    for name in _RULE_FILES:
        h.update((root / name).read_bytes())
    return h.hexdigest()[:12]


def _served(bind: Engine | sa.Connection, key: dict[str, Any]) -> Judgement | None:
    """The stored judgement of ``key``, counted as served once more, or None."""
    sql = sa.text("""UPDATE judgements SET served = served + 1
                     WHERE data_version = :v AND as_of = :d AND profile = :p AND options = :o
                     RETURNING id, seconds""")
    if isinstance(bind, sa.Connection):
        row = bind.execute(sql, key).one_or_none()
        engine = bind.engine
    else:
        with bind.begin() as conn:
            row = conn.execute(sql, key).one_or_none()
        engine = bind
    if row is None:
        return None
    return Judgement(engine, int(row[0]), key["v"], key["d"], key["p"], key["o"], False, float(row[1]))


# ======================================================================================================
# writing
# ======================================================================================================


def _write(
    conn: sa.Connection,
    key: dict[str, Any],
    parcels: pd.DataFrame,
    ratings: pd.DataFrame,
    *,
    as_of: dt.date,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None,
) -> int:
    """Judge and write a judgement (its row, its findings, its documents), one kind after the other so that
    one findings frame at a time is in memory; delete the judgements of older data. Its id.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    conn.execute(sa.text("DELETE FROM judgements WHERE data_version <> :v"), key)
    jid = int(
        conn.execute(
            sa.text("""
        INSERT INTO judgements (data_version, as_of, profile, options, columns, low_efficiency, judged_by, seconds)
        VALUES (:v, :d, :p, :o, '{}', :low, :by, 0) RETURNING id"""),
            {
                **key,
                "low": _low_efficiency(parcels, ratings, as_of=as_of, profile=profile),
                "by": f"{socket.gethostname()}:{os.getpid()}",
            },
        ).scalar_one()
    )
    raw = conn.connection.driver_connection
    columns = {}
    firsts = {}
    for kind in KINDS:
        frame = _judge_kind(
            kind,
            parcels,
            ratings,
            as_of=as_of,
            profile=profile,
            city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
        )
        firsts[kind] = first_categories(kind, frame)
        columns[kind] = [[c, str(frame[c].dtype)] for c in frame.columns]
        with raw.cursor() as cur:
            with cur.copy(
                "COPY judged_findings (judgement_id, kind, ord, parcel_no, category, article, detail, "
                "detail_en, since, figures, penalty_wan, extra) FROM STDIN (FORMAT csv)"
            ) as copy:
                for lo in range(0, len(frame), _BATCH):  # in batches: a fraction of the memory at once
                    copy.write(_findings_csv(jid, kind, frame.iloc[lo : lo + _BATCH], start=lo))
            with cur.copy("COPY judged_documents (judgement_id, kind, chunk, body) FROM STDIN") as copy:
                for chunk, body in enumerate(_document_chunks(frame, as_of=as_of, profile=profile)):
                    copy.write_row((jid, kind, chunk, body))
        del frame
    conn.execute(
        sa.text("UPDATE judgements SET columns = CAST(:c AS jsonb) WHERE id = :i"),
        {"c": orjson.dumps(columns).decode(), "i": jid},
    )
    if city_standard_tax_per_mu_wan is None:  # the map's marks of this data, date, profile (no city standard)
        _write_marks(conn, key, parcels, ratings, firsts, as_of=as_of)
    return jid


def first_categories(kind: str, findings: pd.DataFrame) -> pd.Series:
    """parcel_no → the map's mark of ``kind`` (``zoning.marks.first_category``)."""
    from zoning.marks import first_category

    if kind == "idle":
        from zoning.idle import IDLE_CATEGORIES as order
    else:
        from zoning.lifecycle import LIFECYCLE_CATEGORIES as order
    return first_category(findings, order)


def _write_marks(
    conn: sa.Connection,
    key: dict[str, Any],
    parcels: pd.DataFrame,
    ratings: pd.DataFrame,
    firsts: dict[str, pd.Series],
    *,
    as_of: dt.date,
) -> None:
    """The parcels' marks (``zoning.marks``) of the judgement, written in its transaction (``geo.tiles``)."""
    from blockline.services.marks import set_name
    from geo.tiles import copy_marks
    from zoning.consolidation import latest_grade
    from zoning.marks import marks_frame

    marks = marks_frame(
        parcels["parcel_no"], firsts["idle"], firsts["lifecycle"], latest_grade(parcels, ratings, as_of=as_of)
    )
    copy_marks(
        conn,
        set_name(key["p"], as_of, key["v"]),
        marks.itertuples(index=False, name=None),
        keep_suffix="|" + key["v"],
    )


def _findings_csv(jid: int, kind: str, findings: pd.DataFrame, *, start: int = 0) -> memoryview:
    """The rows of ``judged_findings`` for one frame, as CSV for COPY (written by pyarrow, in C)."""
    import pyarrow as pa
    from pyarrow import csv

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
            _dumps({c: v for c, v in zip(others, vals, strict=True)})
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
            "since": pa.array([None if _missing(v) else v for v in col("since")], pa.date32()),
            "figures": pa.array([None if v is None else _dumps(v) for v in col("figures")], pa.string()),
            "penalty_wan": pa.array(pen, pa.float64()),
            "extra": pa.array(extra, pa.string()),
        }
    )
    buf = pa.BufferOutputStream()
    # every value quoted, NULL unquoted and empty: COPY tells an empty string from a NULL
    csv.write_csv(table, buf, csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return memoryview(buf.getvalue())


def _document_chunks(findings: pd.DataFrame, *, as_of: dt.date, profile: Profile) -> Iterator[str]:
    """The JSON document of the findings: its head (chunk 0), then its ``parcels`` list in pieces.

    ``group_by_parcel`` is per parcel and in parcel order, so grouping slices of whole parcels, in that
    order, gives the same list as grouping all at once, with a fraction of the memory.
    """
    import numpy as np
    import pandas as pd

    from zoning.findings import findings_json, group_by_parcel

    head = findings_json(findings.iloc[:0], as_of=as_of, profile=profile)
    head.pop("parcels")
    yield orjson.dumps(head).decode()
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


# ======================================================================================================
# reading back
# ======================================================================================================


def _read_findings(engine: Engine, jid: int, kind: str, *, figures: bool = True) -> pd.DataFrame:
    """The findings frame of ``kind`` of judgement ``jid``: the same columns, order and dtypes as judged
    (without ``figures`` when ``figures`` is False).

    Read by ``COPY … TO STDOUT`` in CSV, parsed by pyarrow (as ``geo.queries`` reads parcels).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import io

    import pandas as pd
    import pyarrow as pa
    from pyarrow import csv

    names = [
        "parcel_no",
        "category",
        "article",
        "detail",
        "detail_en",
        "since",
        "figures",
        "penalty_wan",
        "extra",
    ]
    types = {**{c: pa.string() for c in names}, "since": pa.date32(), "penalty_wan": pa.float64()}
    buf = io.BytesIO()
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text("SELECT columns -> :k FROM judgements WHERE id = :i"), {"i": jid, "k": kind}
        ).scalar_one()
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(
                f"COPY (SELECT {', '.join(c if figures or c != 'figures' else 'NULL' for c in names)} "
                "FROM judged_findings WHERE judgement_id = %(i)s AND kind = %(k)s "
                "ORDER BY ord) TO STDOUT (FORMAT csv)",
                {"i": jid, "k": kind},
            ) as copy,
        ):
            for block in copy:
                buf.write(block)
    table = (
        csv.read_csv(
            pa.py_buffer(buf.getbuffer()),
            read_options=csv.ReadOptions(column_names=names),
            convert_options=csv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        if buf.tell()
        else None
    )

    def values(c: str) -> Any:
        if table is None:
            return []
        if c == "since":
            return table.column(c).to_pandas(date_as_object=True).to_numpy(dtype=object)
        if c == "penalty_wan":
            return table.column(c).to_numpy(zero_copy_only=False)
        v = table.column(c).to_numpy(zero_copy_only=False)  # str and None, as objects
        return [None if x is None else _loads(x) for x in v] if c in ("figures", "extra") else v

    data = {c: values(c) for c in names}
    extras = [{} if e is None else e for e in data.pop("extra")]
    out = {}
    kept = [(c, dtype) for c, dtype in columns if figures or c != "figures"]
    for c, dtype in kept:
        vals = data[c] if c in data else [e.get(c) for e in extras]
        out[c] = pd.Series(vals, dtype=object if dtype == "object" else dtype)
    return pd.DataFrame(out, columns=[c for c, _ in kept])


# ======================================================================================================
# values in JSONB
# ======================================================================================================


def _missing(v: Any) -> bool:
    import numpy as np
    import pandas as pd

    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or v is pd.NaT
        or (isinstance(v, np.datetime64) and np.isnat(v))
    )


def _encode(v: Any) -> Any:
    """``v`` as plain JSON, with tags for what JSON cannot hold as such (dates, non-finite floats, tuples)."""
    import numpy as np
    import pandas as pd

    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else {"$float": repr(float(v))}
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return {"$datetime": v.isoformat()}
    if isinstance(v, dt.date):
        return {"$date": v.isoformat()}
    if isinstance(v, Mapping):
        return {str(k): _encode(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return {"$tuple": [_encode(x) for x in v]}
    if isinstance(v, (list, np.ndarray)):
        return [_encode(x) for x in v]
    return {"$str": str(v)}


_TAGS = {
    "$float": float,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$tuple": lambda xs: tuple(_decode(x) for x in xs),
    "$str": str,
}


def _decode(v: Any) -> Any:
    """The inverse of ``_encode``."""
    if isinstance(v, dict):
        if len(v) == 1:
            ((k, x),) = v.items()
            if k in _TAGS:
                return _TAGS[k](x)
        return {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def _plain(v: Any) -> bool:
    """Whether ``v`` is JSON as it is (the common case of figures: str, int, finite float, bool, None)."""
    t = type(v)
    return t is str or t is int or t is bool or v is None or (t is float and math.isfinite(v))


def _dumps(v: Any) -> str:
    """``v`` as JSON text for a JSONB column (tagged where needed)."""
    if isinstance(v, dict) and all(type(k) is str and _plain(x) for k, x in v.items()):
        return orjson.dumps(v).decode()
    return orjson.dumps(_encode(v)).decode()


def _loads(text: str) -> Any:
    v = orjson.loads(text)
    return _decode(v) if '"$' in text else v


def main() -> None:
    """``python -m blockline.services.judged``: judge today's city of the store for the deployment's profile (what the
    server's warm-up runs in a child process, so the judging's memory is returned when it ends).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.store import open_store

    for j in judge_today(open_store()):
        print(
            f"{j.as_of.isoformat()} {j.profile}: {'judged' if j.computed else 'stored'} ({j.seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
