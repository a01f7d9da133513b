"""Hostile input: the store's state before and after every attempt, and a tally of what was tried.

Every hostile attempt goes through :func:`attempt`: it snapshots every table (row count and a digest of all
rows) and the audit trail's last id, runs the entry point, and on a ``BlocklineError`` asserts that nothing
changed. Anything else raised fails the test. The tally is printed at the end of the run (the README's
figures come from it).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from geo.errors import BlocklineError
from tests.files import load_two_county_city

#: every table a refused attempt must leave exactly as it was
TABLES = (
    "loads",
    "parcels",
    "block_lines",
    "admin_areas",
    "ratings",
    "adjustments",
    "quota_transfers",
    "drafts",
    "zones",
    "parcel_cells",
    "parcel_cell_of",
    "parcel_cell_values",
    "mark_cell_values",
    "parcel_marks",
    "users",
)

#: entry point → outcome → count, over the whole run
TALLY: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


def snapshot(engine: sa.Engine) -> dict[str, object]:
    """Each table's row count and a digest of its rows, and the audit trail's last id."""
    parts = [
        f"(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {t} t) AS {t}"
        for t in TABLES
    ]
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("SELECT " + ", ".join(parts) + ", (SELECT coalesce(max(id), 0) FROM audit) AS audit")
            )
            .mappings()
            .one()
        )
    return dict(row)


@dataclass
class Outcome:
    """What one hostile attempt came to: the value returned, or the refusal."""

    value: Any = None
    error: BlocklineError | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None


def attempt(entry: str, engine: sa.Engine, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run ``fn``; a refusal must be a BlocklineError that wrote nothing. Anything else raised propagates."""
    before = snapshot(engine)
    try:
        value = fn(*args, **kwargs)
    except BlocklineError as exc:
        after = snapshot(engine)
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"{entry}: refused ({exc}) but wrote {changed}"
        assert exc.exit_code == 2, f"{entry}: exit code {exc.exit_code} for bad input: {exc}"
        assert (exc.en or "").strip() and (exc.zh or "").strip()
        TALLY[entry]["refused"] += 1
        return Outcome(error=exc)
    TALLY[entry]["accepted"] += 1
    return Outcome(value=value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY:
        return
    terminalreporter.section("hostile inputs tried")
    total = collections.Counter()
    for entry in sorted(TALLY):
        counts = TALLY[entry]
        total.update(counts)
        terminalreporter.write_line(
            f"{entry:<28} {sum(counts.values()):>5} tried: "
            f"{counts['refused']:>5} refused cleanly, {counts['accepted']:>5} accepted valid"
        )
    terminalreporter.write_line(
        f"{'all':<28} {sum(total.values()):>5} tried: "
        f"{total['refused']:>5} refused cleanly, {total['accepted']:>5} accepted valid"
    )


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    """Two counties with their level-1 and level-2 lines (tests/files.py), loaded through the loaders."""
    folder = tmp_path / "city"
    folder.mkdir()
    load_two_county_city(engine, folder)
    return engine
