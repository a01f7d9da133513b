"""A city judged once per data version: idle, lifecycle and low-efficiency findings, kept in PostGIS.

``judge_city`` returns the judgement of (data version, date, profile, options): read back from the tables of
migration 0014 when any process has judged it before, otherwise judged here (the parcels' rule columns and
the ratings read once, from one snapshot, ``PARCELS_PER_PART`` parcels at a time, each rule run once on each
part) and written in one transaction. Two processes asking at once do not both judge: the second waits on a
lock held by the first and then reads what it wrote. A new load changes the data version
(``geo.tiles.data_version``): older judgements are never served, and the next one written deletes them. Under
the deployment's profile, each county is judged by the text in force there (``county_profiles``).

The findings are kept generically: every column of a findings frame survives the round trip (those of
``zoning.findings.FINDING_COLUMNS`` as table columns, any other in a JSONB ``extra``), in the frame's order
and dtypes; values JSON cannot hold as such (dates, non-finite floats, tuples) are tagged
(``judged_values``). The JSON ``parcels`` list of ``blockline idle`` / ``lifecycle`` is kept beside them, in
chunks, so a command writes its answer without grouping and encoding the whole city again.

This module is the light half: the key, the stored rows, the documents. Judging and writing are in
``judged_write``, reading frames back in ``judged_read``; both are imported when needed (``# lazy:``), because
the rules, pyarrow and the frame code add about 0.3 s of imports (``python -X importtime``) to a command that is
served a stored document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from blockline.services.jurisdiction import county_profiles, governing_profile
from geo import queries
from geo.clock import today
from geo.settings import get_settings
from geo.store import open_store, transaction
from geo.versions import data_version
from zoning.policy import Profile, get_profile

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KINDS",
    "Judgement",
    "county_profiles",
    "governing_profile",
    "judge_city",
    "judge_later",
    "judge_today",
    "set_name",
]

#: the kinds of findings a judgement holds
KINDS = ("idle", "lifecycle")

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
        from blockline.services.judged_read import read_findings  # lazy: see the module's docstring

        frame = read_findings(self.engine, self.id, kind, figures=figures)
        if figures:
            self._frames[kind] = frame
        return frame

    @property
    def county_policies(self) -> dict[str, str]:
        """The counties judged by their own city's profile instead of ``profile``: code → profile name."""
        part = next((o for o in self.options.split(";") if o.startswith("counties=")), "counties=")
        return {
            c: name for c, name, *_ in (x.split(":") for x in part.removeprefix("counties=").split(",") if x)
        }

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
            ready = conn.execute(
                sa.text("SELECT documents FROM judgements WHERE id = :i"), {"i": self.id}
            ).scalar()
        if not ready:  # judged with its documents to follow (migration 0019): wait for them, or write them
            from blockline.services.judged_docs import write_documents  # lazy: see the module's docstring

            write_documents(self.engine, self.id)
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


def judge_city(
    engine: Engine,
    *,
    as_of: dt.date,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None = None,
    documents: bool = True,
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
    documents : bool
        Whether a city judged here gets its JSON documents in the same transaction (False: later, by
        ``blockline.services.judged_docs.write_documents``, or when a command first asks for one).

    Returns
    -------
    Judgement
        ``computed`` tells whether this call judged; every call counts in ``judgements.served``.

    Notes
    -----
    Under the deployment's profile, the parcels of a county that another city's profile governs
    (``zoning.policy.governing_profiles``: 义乌市 by ``yiwu`` in a Wenzhou deployment) are judged by that
    profile, and its findings cite it; those counties are part of the key (``Judgement.county_policies``).
    """
    for _ in range(_TRIES):
        by_county = county_profiles(engine, profile)
        options = _options(profile, city_standard_tax_per_mu_wan, by_county)
        key: dict[str, Any] = {"v": data_version(engine), "d": as_of, "p": profile.name, "o": options}
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
            judged = _judge_now(
                conn,
                key,
                as_of=as_of,
                profile=profile,
                by_county=by_county,
                city_standard=city_standard_tax_per_mu_wan,
                documents=documents,
            )
        if judged is not None:
            return judged
        # a load landed between the key and the judging's snapshot: the key of the new data, and again
    raise RuntimeError(f"the data changed {_TRIES} times while the city was being judged; ask again")


#: how often ``judge_city`` takes the key again when loads land while it judges
_TRIES = 5

#: parcels judged and written at a time (``judged_write.write_judgement``): the judging's memory is a part's. At
#: 200,000 parcels (farm-bench, whole process, load 1): the city at once 22.1 s and 663 MB; parts of 50,000
#: 24.5 s and 529 MB; parts of 20,000 25.0 s and 444 MB
PARCELS_PER_PART = 20_000


def _judge_now(
    conn: sa.Connection,
    key: dict[str, Any],
    *,
    as_of: dt.date,
    profile: Profile,
    by_county: dict[str, Profile],
    city_standard: float | None,
    documents: bool = True,
) -> Judgement | None:
    """Judge the city of ``key`` now and store it in ``conn``'s transaction (holding the key's lock).

    The parcels and ratings are read in one snapshot (a ``REPEATABLE READ`` transaction of their own), part by
    part, in parcel-number order: the city judged is the data of ``key``'s version however long it takes. None
    when that snapshot holds other data than the key's (a load landed meanwhile): nothing is written.
    """
    from blockline.services.judged_write import write_judgement  # lazy: see the module's docstring

    engine, options = conn.engine, key["o"]
    start = time.perf_counter()
    columns = [*queries.RULE_COLUMNS, "county_code"] if by_county else None  # the county: whose text governs
    with engine.connect() as reader:
        reader.execution_options(isolation_level="REPEATABLE READ")
        with reader.begin():
            if data_version(reader) != key["v"]:
                return None
            nos = sorted(
                reader.execute(sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL")).scalars()
            )
            parts = (
                queries.read_parcel_columns(
                    reader, columns, parcel_nos=nos[lo : lo + PARCELS_PER_PART], date_objects=False
                )
                for lo in range(0, max(len(nos), 1), PARCELS_PER_PART)
            )
            jid = write_judgement(
                conn,
                key,
                parts,
                queries.read_ratings(reader),
                as_of=as_of,
                profile=profile,
                county_profiles=by_county,
                city_standard_tax_per_mu_wan=city_standard,
                documents=documents,
                areas_on=reader,  # its snapshot is the data judged
            )
    seconds = time.perf_counter() - start
    conn.execute(sa.text("UPDATE judgements SET seconds = :s WHERE id = :i"), {"s": seconds, "i": jid})
    return Judgement(engine, jid, key["v"], as_of, profile.name, options, True, seconds)


def _options(profile: Profile, city_standard: float | None, by_county: dict[str, Profile]) -> str:
    """The options part of a judgement's key: the rules' token, the city standard, the counties' own profiles."""
    out = f"rules={_rules_token(profile)}"
    if city_standard is not None:
        out += f";city_standard_tax={float(city_standard)!r}"
    if by_county:
        out += ";counties=" + ",".join(
            f"{c}:{p.name}:{_profile_token(p)}" for c, p in sorted(by_county.items())
        )
    return out


def set_name(profile: str, as_of: dt.date, version: str) -> str:
    """The name of a set of the map's marks (written with the judgement): profile, date and data version."""
    return f"{profile}|{as_of.isoformat()}|{version}"


def judge_today(
    engine: Engine, *, policies: Sequence[str] | None = None, documents: bool = True
) -> list[Judgement]:
    """Today's judgements of the current data under the deployment's profile(s), stored or judged now.

    What a load (``blockline load …``, ``blockline demo``) and the server's warm-up call, so that today's
    findings are ready before the first planner asks. Nothing is judged when the store holds no parcels.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    policies : sequence of str, optional
        Profile names or paths; default the deployment's (``BLOCKLINE_POLICY``).
    documents : bool
        As for ``judge_city``.

    Returns
    -------
    list of Judgement
        One per profile, in order; empty without parcels. The candidate zones at each profile's own threshold
        and gap are kept with its judgement (``blockline.services.zones.keep_candidate_zones``).
    """
    with engine.connect() as conn:
        held = conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM parcels WHERE valid_to IS NULL)")
        ).scalar_one()
    if not held:
        return []
    day = today()
    names = list(policies or [get_settings().policy])
    # lazy: blockline.services.zones imports this module
    from blockline.services.zones import keep_candidate_zones

    judged = []
    for name in names:
        profile = get_profile(name)
        judged.append(judge_city(engine, as_of=day, profile=profile, documents=documents))
        if profile.has("consolidation.min_mu") and profile.has("consolidation.gap_m"):
            # the candidate zones at the profile's own threshold, kept with the judgement: zones detect reads them
            keep_candidate_zones(engine, judged[-1], profile=profile)
    return judged


#: the code a judgement comes from: a change to any of these files (a new release) judges again
_RULE_FILES = ("zoning/*.py", "blockline/services/judged*.py")


def _rules_token(profile: Profile) -> str:
    """A short hash of the rules' code and the profile's every parameter, part of a judgement's key.

    The data version says when the data changed; this says when the rules or the thresholds did (an
    edited profile file keeps its name).
    """
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha1(orjson.dumps(profile.as_dict(), default=str, option=orjson.OPT_SORT_KEYS))
    for path in sorted(p for pattern in _RULE_FILES for p in root.glob(pattern)):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _profile_token(profile: Profile) -> str:
    """A short hash of a profile's every parameter (an edited file keeps its name)."""
    return hashlib.sha1(
        orjson.dumps(profile.as_dict(), default=str, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()[:12]


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


#: what ``judge_later`` runs: starts the judging in a session of its own, says its pid, and exits at once, so
#: the judging process is nobody's child (no zombie, no "still running" warning) and outlives the caller
_LAUNCH = (
    "import subprocess, sys\n"
    "with open(sys.argv[1], 'ab') as log:\n"
    "    p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,\n"
    "                         start_new_session=True)\n"
    "print(p.pid)\n"
)


def judge_later(
    engine: Engine, *, policies: Sequence[str] | None = None, log: Path | None = None
) -> tuple[int, Path]:
    """Judge today's city in a process of its own that outlives the caller (``python -m blockline.services.judged``).

    What a big load does when it should not keep its user waiting for the judgement (``--judge background``):
    the data is committed; the process judges and stores today's findings, and writes one line per profile to
    its log when done (``<date> <profile>: judged (<s> s)``). Whoever asks meanwhile waits on the judgement's
    lock (``judge_city``) and is served what it stored, or judges first and the process reads it.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store: the process connects to the same database (its URL is passed in the process's environment).
    policies : sequence of str, optional
        Profile names; default the deployment's.
    log : pathlib.Path, optional
        Where the process writes what it did (and any error); default a file in the temporary folder.

    Returns
    -------
    (int, pathlib.Path)
        The judging process's id and its log.
    """
    log = log or Path(tempfile.gettempdir()) / f"blockline-judged-{os.getpid()}-{time.time_ns()}.log"
    env = {**os.environ, "BLOCKLINE_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    judge = [sys.executable, "-m", "blockline.services.judged", *(policies or [])]
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(log), *judge],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        timeout=60,
    )
    return int(launched.stdout.strip()), log


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m blockline.services.judged [--documents-later] [POLICY ...]``: judge today's city and store it.

    In a child process (the server's warm-up, ``judge_later``): its memory is returned when it ends. One line
    per profile once its findings, marks and zones are stored; with ``--documents-later`` (the warm-up waits
    for those lines only) the JSON documents after them (``judged_docs``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    later = "--documents-later" in args
    judged = judge_today(
        open_store(), policies=[a for a in args if a != "--documents-later"] or None, documents=not later
    )
    for j in judged:
        print(
            f"{j.as_of.isoformat()} {j.profile}: {'judged' if j.computed else 'stored'} ({j.seconds:.1f} s)",
            flush=True,
        )
    for j in judged if later else []:
        from blockline.services.judged_docs import write_documents  # lazy: see the module's docstring

        write_documents(j.engine, j.id)


if __name__ == "__main__":
    main()
