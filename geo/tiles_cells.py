"""The map's far-out squares, counted ahead: each current parcel's cell, and what the cells hold.

A cell is a tile of zoom ``CELL_ZOOM`` (about 540 m a side in Wenzhou); a parcel counts in the cell holding
its point on surface. The far-out squares of a tile (``geo.tiles``) are sums of whole cells, so everything a
square shows can be summed ahead, per cell and county:

``parcel_cell_of``
    each current parcel's cell (``parcel_id``, ``i``, ``j``): its point on surface, found once per load;
``parcel_cells``
    the parcels, their 亩 and their low-efficiency 亩 of each cell (the squares' counts);
``parcel_cell_values``
    the 亩 of each value of the parcels' own facts (land use, county, low efficiency) in each cell;
``mark_cell_values``
    the 亩 of each value of a set of marks (idle, lifecycle, grade) in each cell, per set: UNLOGGED, like
    ``parcel_marks``, which a crash empties with it.

The loaders rebuild the first three, and the values of every set of marks, with the parcels
(``refresh_parcel_cells``, in their transaction); a set of marks gets its values when it is written
(``refresh_mark_cells``, in the writer's transaction). Both take one lock first, so a set written while a load
runs is summed from the parcels that load leaves. A coloured square is then a sum of a few rows per cell,
as an uncoloured one is, and shows what the parcels and marks show when the tile is cut.

Examples
--------
>>> CELL_ZOOM, round(CELL_M, 3)
(16, 611.496)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.tiles_sql import MARK_COLOR_BY, SQUARE_VALUE

__all__ = [
    "CELL_M",
    "CELL_ZOOM",
    "HALF_WORLD",
    "lock_cell_values",
    "refresh_mark_cells",
    "refresh_parcel_cells",
]

CELL_ZOOM = 16  # parcel_cells are the tiles of this zoom (RAW_MIN_ZOOM - 1 + 4: the finest squares drawn)
HALF_WORLD = 20037508.342789244  # Web Mercator half-width in metres
CELL_M = 2 * HALF_WORLD / (1 << CELL_ZOOM)


def _values(columns: tuple[str, ...]) -> str:
    """A LATERAL list of (color_by, value) of a parcel t and its marks k, one row per colouring."""
    rows = ", ".join(f"('{c}', CAST({SQUARE_VALUE[c]} AS text))" for c in columns)
    return f"CROSS JOIN LATERAL (VALUES {rows}) v(color_by, value)"


def lock_cell_values(conn: Connection) -> None:
    """One writer of the cells' values at a time (readers are never blocked); held to the transaction's end."""
    conn.execute(sa.text("LOCK TABLE mark_cell_values IN SHARE ROW EXCLUSIVE MODE"))


def refresh_parcel_cells(conn: Connection) -> int:
    """Recount the current parcels into their cells (inside the caller's transaction); returns the cells.

    Finds each new parcel's cell (``parcel_cell_of``), sums ``parcel_cells`` and ``parcel_cell_values`` from it,
    and sums the values of every stored set of marks again (a set names the data it was judged on, but may
    be shown until the next is written). About 2 s for 200,000 parcels and one set of marks (0.6 s
    before the values were kept).
    """
    lock_cell_values(conn)
    # A parcel's outline never changes in place (a change is a new version, a new id): only the parcels
    # retired since go, and only the new ones are placed.
    conn.execute(
        sa.text("""DELETE FROM parcel_cell_of c WHERE NOT EXISTS
                   (SELECT 1 FROM parcels t WHERE t.id = c.parcel_id AND t.valid_to IS NULL)""")
    )
    conn.execute(
        sa.text(f"""
        INSERT INTO parcel_cell_of (parcel_id, i, j)
        SELECT id, floor((ST_X(p) + {HALF_WORLD}) / {CELL_M})::int, floor(({HALF_WORLD} - ST_Y(p)) / {CELL_M})::int
        FROM (SELECT id, ST_Transform(ST_PointOnSurface(geom), 3857) AS p FROM parcels t
              WHERE valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM parcel_cell_of c WHERE c.parcel_id = t.id)) s""")
    )
    conn.execute(sa.text("DELETE FROM parcel_cells"))
    conn.execute(sa.text("DELETE FROM parcel_cell_values"))
    # One pass over the parcels, by cell, county and fact; the counts and each fact's values summed from it.
    facts = tuple(c for c in SQUARE_VALUE if c not in MARK_COLOR_BY)
    cells = conn.execute(
        sa.text(f"""
        WITH f AS MATERIALIZED (
            SELECT c.i, c.j, t.county_code, t.land_use, t.is_low_efficiency, count(*) AS n, sum(t.area_mu) AS mu
            FROM parcel_cell_of c JOIN parcels t ON t.id = c.parcel_id
            GROUP BY 1, 2, 3, 4, 5),
        counts AS (
            INSERT INTO parcel_cells (i, j, county_code, parcels, area_mu, low_mu)
            SELECT i, j, coalesce(county_code, ''), sum(n), sum(mu),
                   coalesce(sum(mu) FILTER (WHERE is_low_efficiency), 0)
            FROM f GROUP BY 1, 2, 3
            RETURNING 1),
        cell_values AS (
            INSERT INTO parcel_cell_values (color_by, i, j, county_code, value, area_mu)
            SELECT v.color_by, t.i, t.j, coalesce(t.county_code, ''), v.value, sum(t.mu)
            FROM f t {_values(facts)}
            WHERE v.value IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
            RETURNING 1)
        SELECT (SELECT count(*) FROM counts), (SELECT count(*) FROM cell_values)""")
    ).one()[0]
    refresh_mark_cells(conn, None)
    return cells


def refresh_mark_cells(conn: Connection, mark_set: str | None) -> int:
    """Sum the values of the set of marks ``mark_set`` (None: of every stored set) into their parcels' cells.

    Inside the caller's transaction, from the current parcels' cells (``parcel_cell_of``). Returns the rows
    written. (Whoever deletes a set of marks deletes its values: ``geo.parcel_marks.copy_marks``.)
    """
    lock_cell_values(conn)
    conn.execute(
        sa.text("DELETE FROM mark_cell_values WHERE CAST(:s AS text) IS NULL OR mark_set = :s"),
        {"s": mark_set},
    )
    return conn.execute(
        sa.text(f"""
        INSERT INTO mark_cell_values (mark_set, color_by, i, j, county_code, value, area_mu)
        SELECT k.mark_set, v.color_by, c.i, c.j, coalesce(t.county_code, ''), v.value, sum(t.area_mu)
        FROM parcel_marks k JOIN parcels t ON t.parcel_no = k.parcel_no AND t.valid_to IS NULL
             JOIN parcel_cell_of c ON c.parcel_id = t.id {_values(MARK_COLOR_BY)}
        WHERE (CAST(:s AS text) IS NULL OR k.mark_set = :s) AND v.value IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6"""),
        {"s": mark_set},
    ).rowcount
