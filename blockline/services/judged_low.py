"""The low-efficiency parcels of a judgement with their area inside the block lines (``judged_low_efficiency``).

Migration 0015's table: each low-efficiency parcel of a judgement that is a current parcel, with its area (m²)
inside the union of the current level-1 and of the level-2 lines it meets. ``blockline zones detect`` sums them
per zone instead of intersecting every member with the lines again. ``judged_write`` computes them on the
connection the judged parcels were read from, while the judgement's own connection sums the map's cells
(:func:`line_areas`, :func:`copy_line_areas`); an older judgement found without them gets them in one statement
(:func:`write_low_efficiency`). Both are the same query.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from geo.store import driver_connection

__all__ = ["copy_line_areas", "line_areas", "write_low_efficiency"]

#: the low-efficiency parcels (current ones) by id, in a temporary table of the transaction: the planner then
#: knows how many there are and joins them by hash (an ``unnest`` of the list is estimated at 10 rows, and the
#: plans made on that estimate test each parcel against every other). ``{low}``: their numbers, as an array
_LOW_PARCELS_SQL = """
DROP TABLE IF EXISTS pg_temp._low_parcels;
CREATE TEMP TABLE _low_parcels ON COMMIT DROP AS
SELECT DISTINCT p.id, p.parcel_no
FROM unnest({low}) AS m(parcel_no)
JOIN parcels p ON p.parcel_no = m.parcel_no AND p.valid_to IS NULL;
ANALYZE _low_parcels
"""

#: each low-efficiency parcel with its area (m²) inside the union of the current lines of a level it meets (0 where
#: it meets none), as ``describe_zones_in_store`` computes it: the whole area where one line of the level covers
#: the parcel (most: parks are drawn inside their lines), else ``ST_Intersection`` with the ``ST_Union`` of the
#: level's lines that meet it. The lines lead: each line finds its parcels through the parcels' index and is
#: tested against them one after another, its prepared geometry kept by PostGIS (``OFFSET 0`` keeps that order:
#: the planner would otherwise start from the parcels, testing each against lines fetched and prepared again).
#: At 200,000 parcels (78,897 low-efficiency) 1.2 s for the whole city, against 2.9 s with the parcels leading
#: (EXPLAIN ANALYZE, the same values to the last bit)
_AREAS_SQL = """
WITH met AS (
    SELECT q.id, b.level,
           CASE WHEN bool_or(q.covered) THEN min(q.m2)
                ELSE (SELECT ST_Area(ST_Intersection(p.geom, ST_Union(l.geom)))
                      FROM parcels p JOIN block_lines l ON l.id = ANY (array_agg(b.id))
                      WHERE p.id = q.id GROUP BY p.geom) END AS m2
    FROM block_lines b
    CROSS JOIN LATERAL (
        SELECT q.id, ST_Covers(b.geom, q.geom) AS covered, ST_Area(q.geom) AS m2
        FROM parcels q
        WHERE q.valid_to IS NULL AND q.geom && b.geom AND ST_Intersects(b.geom, q.geom)
        OFFSET 0) q
    WHERE b.valid_to IS NULL AND b.level IN (1, 2) AND q.id IN (SELECT id FROM _low_parcels)
    GROUP BY q.id, b.level)
SELECT m.parcel_no, coalesce(sum(t.m2) FILTER (WHERE t.level = 1), 0) AS level1_m2,
       coalesce(sum(t.m2) FILTER (WHERE t.level = 2), 0) AS level2_m2
FROM _low_parcels m LEFT JOIN met t ON t.id = m.id
GROUP BY m.parcel_no
"""

_COLUMNS = "judgement_id, parcel_no, level1_m2, level2_m2"


def _low_parcels(conn: sa.Connection, low: str, params: dict[str, object]) -> None:
    for statement in _LOW_PARCELS_SQL.format(low=low).split(";"):
        conn.execute(sa.text(statement), params)


def write_low_efficiency(conn: sa.Connection, judgement_id: int) -> None:
    """The rows of a stored judgement's low-efficiency parcels, from its list, in the caller's transaction.

    Rows already there are kept.
    """
    _low_parcels(conn, "(SELECT low_efficiency FROM judgements WHERE id = :j)", {"j": judgement_id})
    conn.execute(
        sa.text(f"""INSERT INTO judged_low_efficiency ({_COLUMNS})
                    SELECT CAST(:j AS bigint), a.* FROM ({_AREAS_SQL}) a ON CONFLICT DO NOTHING"""),
        {"j": judgement_id},
    )


def line_areas(conn: sa.Connection, judgement_id: int, parcel_nos: Sequence[str]) -> bytes:
    """The rows of ``judged_low_efficiency`` of these parcels (those current in ``conn``'s snapshot), as COPY text.

    On any connection in a transaction (a temporary table lives to its end): the judgement's writer asks the
    one it read the parcels from, whose snapshot holds the data it judged, before the judgement is committed.
    As COPY's text (the floats written to be read back exactly), not as Python rows: 16 MB instead of some
    80 MB of tuples for the 400,000 low-efficiency parcels of 1,000,000.
    """
    _low_parcels(conn, "CAST(:nos AS text[])", {"nos": list(parcel_nos)})
    out = bytearray()
    query = f"SELECT {int(judgement_id)}, a.* FROM ({_AREAS_SQL}) a"  # COPY takes no parameters: an int
    with driver_connection(conn).cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT") as copy:
        for chunk in copy:
            out += chunk
    return bytes(out)


def copy_line_areas(conn: sa.Connection, rows: bytes) -> None:
    """COPY the rows of :func:`line_areas` in (a new judgement's: it has none yet)."""
    with (
        driver_connection(conn).cursor() as cur,
        cur.copy(f"COPY judged_low_efficiency ({_COLUMNS}) FROM STDIN") as copy,
    ):
        copy.write(rows)
