"""A judgement's JSON documents written after its findings (blockline.services.judged_docs, migration 0019).

The referee is the document of a fresh judgement in memory (``findings_json`` of the rules' frames), and the
bytes of the same city's documents written with its findings in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import sqlalchemy as sa

from blockline.services import judged, judged_docs
from blockline.services.judged import KINDS, judge_city
from blockline.services.judged_docs import whole_parcels, write_documents
from tests.services.test_judged import _rows_read
from zoning.findings import findings_json
from zoning.idle import idle_findings
from zoning.lifecycle import lifecycle_findings
from zoning.policy import get_profile

AS_OF = dt.date(2026, 11, 1)


def _chunks(engine: sa.Engine, jid: int) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("SELECT kind, count(*) FROM judged_documents WHERE judgement_id = :i GROUP BY kind"),
                {"i": jid},
            ).all()
        )


def _ready(engine: sa.Engine, jid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT documents FROM judgements WHERE id = :i"), {"i": jid}
        ).scalar_one()


def test_documents_written_later_are_those_written_with_the_findings(
    demo: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judged 97 parcels a part, the documents later from the findings 50 at a time: the same bytes as the
    documents written part by part with the findings, and the document of the rules' own frames."""
    monkeypatch.setattr(judged, "PARCELS_PER_PART", 97)
    monkeypatch.setattr(judged_docs, "FINDINGS_PER_PART", 50)
    profile = get_profile("wenzhou-2020")
    later = judge_city(demo, as_of=AS_OF, profile=profile, documents=False)
    assert later.computed and not _ready(demo, later.id)
    assert _chunks(demo, later.id) == dict.fromkeys(KINDS, 1)  # the heads only
    assert write_documents(demo, later.id) is True
    assert write_documents(demo, later.id) is False  # written: nothing more to do
    assert _ready(demo, later.id) and all(n > 2 for n in _chunks(demo, later.id).values())
    written_later = {kind: "".join(later.document(kind)) for kind in KINDS}

    with demo.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
    inline = judge_city(demo, as_of=AS_OF, profile=profile)
    assert inline.computed and _ready(demo, inline.id)
    parcels, ratings = _rows_read(demo)
    fresh = {
        "idle": idle_findings(parcels, as_of=AS_OF, profile=profile),
        "lifecycle": lifecycle_findings(parcels, ratings, as_of=AS_OF, profile=profile),
    }
    for kind in KINDS:
        assert written_later[kind] == "".join(inline.document(kind))
        assert json.loads(written_later[kind]) == json.loads(
            json.dumps(findings_json(fresh[kind], as_of=AS_OF, profile=profile), ensure_ascii=False)
        )


def test_a_command_asking_before_they_are_written_writes_them(demo: sa.Engine) -> None:
    profile = get_profile("wenzhou-2020")
    later = judge_city(demo, as_of=AS_OF, profile=profile, documents=False)
    served = judge_city(demo, as_of=AS_OF, profile=profile)  # another caller, served what is stored
    assert not served.computed and served.id == later.id and not _ready(demo, later.id)
    document = json.loads("".join(served.document("idle")))
    assert _ready(demo, later.id) and len(document["parcels"]) > 100
    assert write_documents(demo, later.id) is False


@pytest.mark.parametrize("seed", range(5))
def test_ranges_of_whole_parcels_cover_the_findings_and_split_no_parcel(seed: int) -> None:
    rng = random.Random(seed)
    nos: list[str] = []
    parcel = 0
    for _ in range(rng.randint(1, 8)):  # parts: each one's parcels after the last one's, findings shuffled
        part = [f"P-{parcel + k:05d}" for k in range(rng.randint(1, 30)) for _ in range(rng.randint(1, 3))]
        parcel += 30
        rng.shuffle(part)
        nos += part
    size = rng.randint(1, 20)
    ranges = list(whole_parcels(nos, size))
    assert ranges[0][0] == 0 and ranges[-1][1] == len(nos)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    where = {}
    for r, (lo, hi) in enumerate(ranges):
        assert hi > lo
        for no in nos[lo:hi]:
            assert where.setdefault(no, r) == r, no  # every finding of a parcel in one range
    assert list(whole_parcels([], 5)) == []
