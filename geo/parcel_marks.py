"""The marks the policy engine puts beside parcels (``parcel_marks``), in named sets, for the map's tiles.

``zoning`` decides what a mark says; this module only writes, replaces and asks for a set. ``geo.tiles``
joins a set to the parcels it cuts into tiles.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.store import driver_connection, transaction
from geo.tiles_cells import lock_cell_values, refresh_mark_cells

__all__ = ["copy_mark_rows", "copy_marks", "has_marks", "start_marks", "write_marks"]


def has_marks(engine: Engine, mark_set: str) -> bool:
    """Whether a set of marks has been written."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM parcel_marks WHERE mark_set = :s)"), {"s": mark_set}
        ).scalar_one()


def write_marks(
    engine: Engine,
    mark_set: str,
    rows: Iterable[tuple[str, str | None, str | None, str | None]],
    *,
    keep_suffix: str | None = None,
) -> int:
    """Write a set of marks, (parcel_no, idle, lifecycle, grade) rows; returns the count.

    The set replaces one of the same name. Other sets stay while their name ends with ``keep_suffix`` (the
    caller's way to keep the sets of the current data for other dates and profiles, which other sessions
    may be showing) and are dropped otherwise. The rows go in by COPY, in one transaction, with their sums
    per cell of the map's far-out squares (``geo.tiles_cells.refresh_mark_cells``).
    """
    with transaction(engine) as conn:
        return copy_marks(conn, mark_set, rows, keep_suffix=keep_suffix)


def copy_marks(
    conn: sa.Connection,
    mark_set: str,
    rows: Iterable[tuple[str, str | None, str | None, str | None]],
    *,
    keep_suffix: str | None = None,
) -> int:
    """``write_marks`` inside the caller's transaction (``conn``); returns the count."""
    start_marks(conn, mark_set, keep_suffix=keep_suffix)
    count = copy_mark_rows(conn, mark_set, rows)
    refresh_mark_cells(conn, mark_set)
    return count


def start_marks(conn: sa.Connection, mark_set: str, *, keep_suffix: str | None = None) -> None:
    """The first step of ``copy_marks``: the set and the sets not kept are deleted (``write_marks``).

    For a caller that writes the rows a batch at a time (``copy_mark_rows``), then sums them into the cells
    (``geo.tiles_cells.refresh_mark_cells``), all in its transaction.
    """
    lock_cell_values(conn)  # first: a load's recount waits for this set, or this set for it
    for table in ("parcel_marks", "mark_cell_values"):
        conn.execute(
            sa.text(f"""DELETE FROM {table} WHERE mark_set = :s
                        OR CAST(:keep AS text) IS NULL OR right(mark_set, length(:keep)) <> :keep"""),
            {"s": mark_set, "keep": keep_suffix},
        )


def copy_mark_rows(
    conn: sa.Connection, mark_set: str, rows: Iterable[tuple[str, str | None, str | None, str | None]]
) -> int:
    """COPY (parcel_no, idle, lifecycle, grade) rows into a set of marks (``start_marks``); returns the count."""
    count = 0
    raw = driver_connection(conn)
    with (
        raw.cursor() as cur,
        cur.copy("COPY parcel_marks (mark_set, parcel_no, idle, lifecycle, grade) FROM STDIN") as copy,
    ):
        for parcel_no, idle, lifecycle, grade in rows:
            copy.write_row((mark_set, str(parcel_no), idle, lifecycle, grade))
            count += 1
    return count
