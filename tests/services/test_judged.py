"""A city judged once per data version and kept in PostGIS (blockline.services.judged).

The referee is a fresh judgement in memory by the rules of ``zoning`` on the parcels read row by row as
geo.queries read them before the columnar path: the stored findings read back must be that frame exactly,
the stored JSON document that of ``findings_json``, the stored low-efficiency parcels those of
``zoning.idle.low_efficiency``. A second process must read, not judge again; a load must make it judge again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal

from blockline.services import judged_write
from blockline.services.judged import judge_city
from geo.load import load_ratings
from zoning.findings import findings_json
from zoning.idle import idle_findings, low_efficiency
from zoning.lifecycle import lifecycle_findings
from zoning.policy import get_profile

AS_OF = dt.date(2026, 11, 1)


def _rows_read(engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parcels and ratings read row by row (pd.read_sql), as geo.queries did before the columnar path."""
    from geo.queries import PARCEL_COLUMNS

    with engine.connect() as conn:
        parcels = pd.read_sql(
            sa.text(
                f"SELECT {', '.join(PARCEL_COLUMNS)}, extra FROM parcels "
                "WHERE valid_to IS NULL ORDER BY parcel_no"
            ),
            conn,
        )
        ratings = pd.read_sql(
            sa.text("SELECT parcel_no, holder_id, year, grade FROM ratings ORDER BY year"), conn
        )
    for c in PARCEL_COLUMNS:
        if c.endswith("_on") or c == "operating_since":
            parcels[c] = pd.to_datetime(parcels[c]).dt.date.astype(object).where(parcels[c].notna(), None)
    return parcels, ratings


def _judgements(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT id, profile, as_of, judged_at, judged_by, served FROM judgements ORDER BY id")
        ).all()


@pytest.mark.parametrize("policy", ["wenzhou-2020", "yiwu"])
def test_stored_findings_are_the_fresh_judgement(demo: sa.Engine, policy: str) -> None:
    profile = get_profile(policy)
    parcels, ratings = _rows_read(demo)
    fresh = {
        "idle": idle_findings(parcels, as_of=AS_OF, profile=profile),
        "lifecycle": lifecycle_findings(parcels, ratings, as_of=AS_OF, profile=profile),
    }
    first = judge_city(demo, as_of=AS_OF, profile=profile)
    again = judge_city(demo, as_of=AS_OF, profile=profile)
    assert first.computed and not again.computed and again.id == first.id
    for kind, frame in fresh.items():
        assert len(frame) > 100
        assert_frame_equal(again.findings(kind), frame, check_exact=True)  # read back from the tables
        assert_frame_equal(first.findings(kind), frame, check_exact=True)  # the judge's own handle
        document = json.loads("".join(again.document(kind)))
        expected = json.loads(
            json.dumps(findings_json(frame, as_of=AS_OF, profile=profile), ensure_ascii=False)
        )
        assert document == expected and list(document) == list(expected)
    low = low_efficiency(parcels, ratings, as_of=AS_OF, profile=profile)
    assert again.low_efficiency() == sorted(parcels.loc[low.to_numpy(), "parcel_no"]) and 0 < low.sum() < len(
        low
    )


@pytest.mark.parametrize("part", [97, 800])
def test_judged_part_by_part_is_the_city_judged_at_once(
    demo: sa.Engine, monkeypatch: pytest.MonkeyPatch, part: int
) -> None:
    """The city judged and written 97 parcels at a time (9 parts, the last short) or in one part: the stored
    findings, documents, low-efficiency parcels and the map's marks are those of the rules run on the whole
    city at once here (the grades from all the ratings, not a part's)."""
    from blockline.services import judged
    from zoning.consolidation import latest_grade
    from zoning.idle import IDLE_CATEGORIES
    from zoning.lifecycle import LIFECYCLE_CATEGORIES
    from zoning.marks import first_category

    monkeypatch.setattr(judged, "PARCELS_PER_PART", part)
    profile = get_profile("wenzhou-2020")
    parcels, ratings = _rows_read(demo)
    assert len(parcels) == 800
    fresh = {
        "idle": idle_findings(parcels, as_of=AS_OF, profile=profile),
        "lifecycle": lifecycle_findings(parcels, ratings, as_of=AS_OF, profile=profile),
    }
    stored = judge_city(demo, as_of=AS_OF, profile=profile)
    assert stored.computed
    for kind, frame in fresh.items():
        assert_frame_equal(stored.findings(kind), frame, check_exact=True)
        document = json.loads("".join(stored.document(kind)))
        assert document == json.loads(
            json.dumps(findings_json(frame, as_of=AS_OF, profile=profile), ensure_ascii=False)
        )
    low = low_efficiency(parcels, ratings, as_of=AS_OF, profile=profile)
    assert stored.low_efficiency() == sorted(parcels.loc[low.to_numpy(), "parcel_no"])
    grade = latest_grade(parcels, ratings, as_of=AS_OF)
    idle = first_category(fresh["idle"], IDLE_CATEGORIES)
    life = first_category(fresh["lifecycle"], LIFECYCLE_CATEGORIES)
    with demo.connect() as conn:
        marks = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                sa.text("SELECT parcel_no, idle, lifecycle, grade FROM parcel_marks WHERE mark_set LIKE :s"),
                {"s": f"wenzhou-2020|{AS_OF.isoformat()}|%"},
            )
        }
    assert len(marks) == 800 and sum(v[2] is not None for v in marks.values()) > 50
    for i, no in enumerate(parcels["parcel_no"]):
        want = (idle.get(no), life.get(no), grade.iloc[i] if isinstance(grade.iloc[i], str) else None)
        assert marks[no] == want, no


def test_a_second_process_reads_what_the_first_stored(demo: sa.Engine) -> None:
    exe = Path(sys.executable).with_name("blockline")

    def run() -> dict:
        proc = subprocess.run(
            [str(exe), "idle", "--as-of", AS_OF.isoformat(), "--format", "json"],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    first = run()
    ((jid, profile, as_of, judged_at, judged_by, served),) = _judgements(demo)
    assert (profile, as_of, served) == ("wenzhou-2020", AS_OF, 0)
    second = run()
    assert second == first and first["parcels"]
    assert _judgements(demo) == [(jid, profile, as_of, judged_at, judged_by, 1)]  # not judged again: served
    # the lifecycle command and zones detect use the same judgement
    proc = subprocess.run(
        [str(exe), "lifecycle", "--as-of", AS_OF.isoformat(), "--format", "json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert _judgements(demo) == [(jid, profile, as_of, judged_at, judged_by, 2)]


def test_a_load_invalidates(demo: sa.Engine, tmp_path: Path) -> None:
    profile = get_profile("wenzhou-2020")
    before = judge_city(demo, as_of=AS_OF, profile=profile)
    other_day = judge_city(demo, as_of=AS_OF - dt.timedelta(days=1), profile=profile)
    assert before.computed and other_day.computed and len(_judgements(demo)) == 2
    with demo.connect() as conn:
        healthy = conn.execute(
            sa.text(
                "SELECT parcel_no FROM parcels WHERE valid_to IS NULL AND NOT (parcel_no = ANY(:low)) "
                "ORDER BY parcel_no "
                "LIMIT 1"
            ),
            {"low": before.low_efficiency()},
        ).scalar_one()
    # a D rating last year makes a parcel low-efficiency land (WZ §12 via consolidation.low_efficiency_grades)
    (tmp_path / "r.csv").write_text(f"parcel_no,year,grade\n{healthy},{AS_OF.year - 1},D\n", encoding="utf-8")
    load_ratings(demo, tmp_path / "r.csv", user="test")
    after = judge_city(demo, as_of=AS_OF, profile=profile)
    assert after.computed and after.id != before.id
    assert healthy in after.low_efficiency() and healthy not in before.low_efficiency()
    assert [r[0] for r in _judgements(demo)] == [after.id]  # the judgements of the old data are gone
    with demo.connect() as conn:
        kept = conn.execute(sa.text("SELECT DISTINCT judgement_id FROM judged_findings")).scalars().all()
    assert kept == [after.id]


def test_added_columns_and_values_survive(demo: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A field the rules may add (a date such as ``review_due``) and figures JSON cannot hold come back as they were."""
    real = idle_findings

    def with_more(parcels: pd.DataFrame, **kw: object) -> pd.DataFrame:
        f = real(parcels, **kw)
        f.insert(6, "review_due", [dt.date(2027, 1, i % 28 + 1) if i % 3 else None for i in range(len(f))])
        f["score"] = [float(i) for i in range(len(f))]
        f.at[0, "figures"] = {"due": dt.date(2026, 1, 2), "share": float("nan"), "pair": (1, "a"), "n": 3}
        return f

    monkeypatch.setattr(judged_write, "idle_findings", with_more)  # the rules, not the store
    profile = get_profile("wenzhou-2020")
    first = judge_city(demo, as_of=AS_OF, profile=profile)
    again = judge_city(demo, as_of=AS_OF, profile=profile)
    assert not again.computed
    back, kept = again.findings("idle"), first.findings("idle")
    assert list(back.columns) == list(kept.columns) and list(back.dtypes) == list(kept.dtypes)
    assert_frame_equal(back.drop(columns=["figures"]), kept.drop(columns=["figures"]), check_exact=True)
    fig = back.at[0, "figures"]
    assert fig["due"] == dt.date(2026, 1, 2) and fig["share"] != fig["share"] and fig["pair"] == (1, "a")
    assert back["figures"].iloc[1:].tolist() == kept["figures"].iloc[1:].tolist()


def test_two_processes_at_once_judge_once(demo: sa.Engine) -> None:
    exe = Path(sys.executable).with_name("blockline")
    argv = [str(exe), "lifecycle", "--as-of", AS_OF.isoformat(), "--policy", "yiwu", "--format", "json"]
    procs = [
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    assert json.loads(outs[0][0]) == json.loads(outs[1][0])
    ((_, profile, as_of, _, _, served),) = _judgements(
        demo
    )  # one judgement: the second process waited and read it
    assert (profile, as_of, served) == ("yiwu", AS_OF, 1)


def test_an_edited_profile_judges_again(demo: sa.Engine, tmp_path: Path) -> None:
    """A profile file edited under the same name (ratings of the last 3 years count, not 1) is not served
    the judgement of the old thresholds."""
    shipped = Path(__file__).resolve().parents[2] / "zoning" / "profiles" / "wenzhou-2020.toml"
    text = shipped.read_text(encoding="utf-8")
    old = "[consolidation.rating_years]\nvalue = 1\n"
    assert old in text
    edited = tmp_path / "wenzhou-2020.toml"
    edited.write_text(text.replace(old, "[consolidation.rating_years]\nvalue = 3\n"), encoding="utf-8")
    before, after = get_profile(str(shipped)), get_profile(str(edited))
    assert before.name == after.name == "wenzhou-2020"
    first = judge_city(demo, as_of=AS_OF, profile=before)
    again = judge_city(demo, as_of=AS_OF, profile=after)
    assert first.computed and again.computed and again.id != first.id
    parcels, ratings = _rows_read(demo)
    expected = low_efficiency(parcels, ratings, as_of=AS_OF, profile=after)
    assert again.low_efficiency() == sorted(parcels.loc[expected.to_numpy(), "parcel_no"])
    assert len(again.low_efficiency()) > len(first.low_efficiency())  # older C/D ratings now count
    assert not judge_city(demo, as_of=AS_OF, profile=before).computed  # both kept: same data


def _done(pid: int, log: Path, line: str, timeout_s: float = 600) -> str:
    """What the judging process ``pid`` wrote to ``log`` once ``line`` is there (it is nobody's child to wait for)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        said = log.read_text(encoding="utf-8") if log.exists() else ""
        if line in said or "Traceback" in said:
            return said
        time.sleep(0.2)
    raise AssertionError(f"process {pid} did not finish: {log.read_text(encoding='utf-8')}")


def test_a_load_can_leave_the_judging_to_a_child(demo: sa.Engine, tmp_path: Path) -> None:
    """``judge_later`` (``--judge background``): a process of its own judges and stores today's city; a planner
    who asks meanwhile is served that one judgement (or judges first, and the process reads it): judged once."""
    from blockline.services.judged import judge_later
    from geo.clock import today

    pid, log = judge_later(demo, policies=["yiwu"], log=tmp_path / "judged.log")  # not left in /tmp
    asked = judge_city(demo, as_of=today(), profile=get_profile("yiwu"))
    said = _done(pid, log, f"{today().isoformat()} yiwu: ")
    assert "Traceback" not in said, said
    ((_, profile, as_of, _, judged_by, served),) = _judgements(demo)
    assert (profile, as_of) == ("yiwu", today())
    judge = os.getpid() if asked.computed else pid
    assert judged_by.endswith(f":{judge}") and served == 1, (judged_by, served, pid)
    assert f"{today().isoformat()} yiwu: {'stored' if asked.computed else 'judged'}" in said
    parcels, ratings = _rows_read(demo)
    expected = low_efficiency(parcels, ratings, as_of=today(), profile=get_profile("yiwu"))
    assert asked.low_efficiency() == sorted(parcels.loc[expected.to_numpy(), "parcel_no"])


def test_a_load_landing_before_the_snapshot_takes_the_key_again(
    demo: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judging's snapshot holds other data than the key it was asked for (a load landed in between): nothing is
    written under the old key; the key is taken again and the new data judged and stored."""
    from blockline.services import judged
    from geo.tiles import data_version

    seen: list[str] = []

    def version(bind: sa.Engine | sa.Connection) -> str:
        v = data_version(bind)
        if isinstance(bind, sa.Connection) and not seen:  # the first snapshot: as if a load had landed
            seen.append(v)
            return "0" * 12
        return v

    monkeypatch.setattr(judged, "data_version", version)
    first = judge_city(demo, as_of=AS_OF, profile=get_profile("wenzhou-2020"))
    assert seen and first.computed and first.id and first.data_version == seen[0]
    assert [r[1] for r in _judgements(demo)] == ["wenzhou-2020"]  # one judgement, under the data's version
