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
(``refresh_parcel_cells``, in their transaction); the demo, which writes a province city by city into a store
it has emptied, counts each city's parcels in as it writes them, their cells found in Python (``cells_of``,
``count_in``), instead of placing a million parcels in PostGIS at the end. A set of marks gets its values when
it is written (``refresh_mark_cells``, in the writer's transaction). All take one lock first, so a set written
while a load runs is summed from the parcels that load leaves. A coloured square is then a sum of a few rows per cell,
as an uncoloured one is, and shows what the parcels and marks show when the tile is cut.

Examples
--------
>>> CELL_ZOOM, round(CELL_M, 3)
(16, 611.496)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.tiles_sql import MARK_COLOR_BY, SQUARE_VALUE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CELL_M",
    "CELL_ZOOM",
    "HALF_WORLD",
    "cells_of",
    "clear_parcel_cells",
    "count_in",
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


#: a parcel's cell from its point on surface ``p`` (Web Mercator)
_CELL_IJ = f"floor((ST_X(p) + {HALF_WORLD}) / {CELL_M})::int AS i, floor(({HALF_WORLD} - ST_Y(p)) / {CELL_M})::int AS j"


def _summed(grouped: str, *, add: bool) -> str:
    """CTEs summing ``grouped`` (a CTE of i, j, county_code, land_use, is_low_efficiency, n, mu) into the cells.

    ``add``: onto what the cells hold already (a cell and county written twice is summed), else into empty
    tables. The caller ends the statement (``counts`` returns a row per cell and county).
    """
    facts = tuple(c for c in SQUARE_VALUE if c not in MARK_COLOR_BY)
    on_counts = (
        """ ON CONFLICT (i, j, county_code) DO UPDATE SET parcels = parcel_cells.parcels + EXCLUDED.parcels,
            area_mu = parcel_cells.area_mu + EXCLUDED.area_mu, low_mu = parcel_cells.low_mu + EXCLUDED.low_mu"""
        if add
        else ""
    )
    on_values = (
        """ ON CONFLICT (color_by, i, j, county_code, value)
            DO UPDATE SET area_mu = parcel_cell_values.area_mu + EXCLUDED.area_mu"""
        if add
        else ""
    )
    return f"""
        counts AS (
            INSERT INTO parcel_cells (i, j, county_code, parcels, area_mu, low_mu)
            SELECT i, j, coalesce(county_code, ''), sum(n), sum(mu),
                   coalesce(sum(mu) FILTER (WHERE is_low_efficiency), 0)
            FROM {grouped} GROUP BY 1, 2, 3{on_counts}
            RETURNING 1),
        cell_values AS (
            INSERT INTO parcel_cell_values (color_by, i, j, county_code, value, area_mu)
            SELECT v.color_by, t.i, t.j, coalesce(t.county_code, ''), v.value, sum(t.mu)
            FROM {grouped} t {_values(facts)}
            WHERE v.value IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5{on_values}
            RETURNING 1)"""


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
        SELECT id, {_CELL_IJ}
        FROM (SELECT id, ST_Transform(ST_PointOnSurface(geom), 3857) AS p FROM parcels t
              WHERE valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM parcel_cell_of c WHERE c.parcel_id = t.id)) s""")
    )
    conn.execute(sa.text("DELETE FROM parcel_cells"))
    conn.execute(sa.text("DELETE FROM parcel_cell_values"))
    # One pass over the parcels, by cell, county and fact; the counts and each fact's values summed from it.
    cells = conn.execute(
        sa.text(f"""
        WITH f AS MATERIALIZED (
            SELECT c.i, c.j, t.county_code, t.land_use, t.is_low_efficiency, count(*) AS n, sum(t.area_mu) AS mu
            FROM parcel_cell_of c JOIN parcels t ON t.id = c.parcel_id
            GROUP BY 1, 2, 3, 4, 5),{_summed("f", add=False)}
        SELECT count(*) FROM counts""")
    ).scalar_one()
    refresh_mark_cells(conn, None)
    return cells


def clear_parcel_cells(conn: Connection) -> None:
    """Empty the parcels' cells, for a caller about to count every current parcel in (``count_in``).

    Inside the caller's transaction, which must leave no other parcel current (the demo into a store it has
    closed); the sets of marks' values are the caller's to sum again at the end (``refresh_mark_cells``).
    """
    lock_cell_values(conn)
    for table in ("parcel_cell_of", "parcel_cells", "parcel_cell_values"):
        conn.execute(sa.text(f"DELETE FROM {table}"))  # not TRUNCATE: readers keep the old counts till commit


def count_in(conn: Connection, staged: str) -> int:
    """Count the new parcels staged in table ``staged`` into the cells they carry; returns the parcels.

    ``staged`` holds each new parcel's ``id`` (as written to ``parcels``), ``cell_i``, ``cell_j``
    (``cells_of``), ``county_code``, ``land_use``, ``is_low_efficiency`` and ``area_mu``: each is placed in
    its cell, and its 亩 added to the cells' sums, with no look at the parcels written before. Inside the
    caller's transaction; the cells must hold every other current parcel and none that it retired
    (``clear_parcel_cells`` first, or ``refresh_parcel_cells`` after instead).
    """
    lock_cell_values(conn)
    placed = conn.execute(
        sa.text(f"INSERT INTO parcel_cell_of (parcel_id, i, j) SELECT id, cell_i, cell_j FROM {staged}")
    ).rowcount
    conn.execute(
        sa.text(f"""
        WITH f AS MATERIALIZED (
            SELECT cell_i AS i, cell_j AS j, county_code, land_use, is_low_efficiency, count(*) AS n,
                   sum(area_mu) AS mu
            FROM {staged} GROUP BY 1, 2, 3, 4, 5),{_summed("f", add=True)}
        SELECT count(*) FROM counts""")
    )
    return placed


def cells_of(geoms: object, srid: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The cells (i, j) of polygons in EPSG:``srid``: the zoom-16 tiles holding their points on surface.

    As ``refresh_parcel_cells`` places them in PostGIS (``ST_PointOnSurface``, ``ST_Transform`` to Web
    Mercator): the same GEOS point, the same PROJ transformation; a test checks the one against the other.
    """
    import numpy as np  # lazy: the tiles' readers never place a parcel
    import shapely  # lazy: as numpy
    from pyproj import Transformer  # lazy: as shapely

    points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    x, y = Transformer.from_crs(srid, 3857, always_xy=True).transform(
        shapely.get_x(points), shapely.get_y(points)
    )
    i = np.floor((np.asarray(x) + HALF_WORLD) / CELL_M).astype(np.int32)
    j = np.floor((HALF_WORLD - np.asarray(y)) / CELL_M).astype(np.int32)
    return i, j


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
