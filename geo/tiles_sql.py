"""The statements that cut one MVT layer of a tile (``geo.tiles`` picks one per layer and zoom).

Each takes the parts of the statement ``geo.tiles`` shares between layers (``env``, the tile's envelope in the
storage CRS; ``where``, the lifespan, county and access conditions) and uses ``geo.tiles.tile``'s parameters
(``:z``, ``:x``, ``:y``, ``:dx``, ``:dy``, ``:px`` …).
"""

from __future__ import annotations

from geo.area import M2_PER_MU_SQL

__all__ = ["LARGE_VERTICES", "MARK_COLOR_BY", "SQUARE_VALUE"]

#: each of geo.tiles.SQUARE_COLOR_BY as SQL over a parcel t (and its marks k)
SQUARE_VALUE = {
    "land_use": "t.land_use",
    "county_code": "t.county_code",
    "is_low_efficiency": "CASE WHEN t.is_low_efficiency THEN 'true' WHEN NOT t.is_low_efficiency "
    "THEN 'false' END",
    "idle": "k.idle",
    "lifecycle": "k.lifecycle",
    "grade": "k.grade",
}
#: the colourings by a set of marks (``parcel_marks``); the others are the parcels' own facts
MARK_COLOR_BY = ("idle", "lifecycle", "grade")
_EXTENT = 4096  # MVT integer grid per tile
_BUFFER = 64
LARGE_VERTICES = 4096  # a parcel of more vertices is clipped and simplified to the tile before it is encoded
_ALLOWED = "(CAST(:allowed AS text[]) IS NULL OR {col} = ANY(CAST(:allowed AS text[])))"


def _counties_sql(env: str) -> str:
    """County outlines (as lines), simplified to half a pixel of this zoom."""
    return f"""WITH {env}, features AS (
        SELECT t.code, t.name,
               ST_AsMVTGeom(ST_Translate(ST_Transform(ST_Boundary(ST_Simplify(t.geom, :px / 2)), 3857), :dx, :dy),
                            ST_TileEnvelope(:z, :x, :y), {_EXTENT}, {_BUFFER}, true) AS geom
        FROM admin_areas t WHERE t.level = 'county' AND (CAST(:county AS text) IS NULL OR t.code = :county)
          AND {_ALLOWED.format(col="t.code")}
          AND t.geom && (SELECT box FROM env))
        SELECT ST_AsMVT(features, 'counties', {_EXTENT}, 'geom') FROM features WHERE geom IS NOT NULL"""


def _lines_sql(layer: str, env: str, where: list[str], *, simplify: bool) -> str:
    """The block lines of ``layer`` (level1, level2), simplified to half a pixel with ``simplify``."""
    shape = "ST_Simplify(t.geom, :px / 2)" if simplify else "t.geom"
    return f"""WITH {env}, features AS (
        SELECT t.id, t.name, t.county_code, t.approval_doc,
               CAST(round(CAST(ST_Area(t.geom) / {M2_PER_MU_SQL} AS numeric), 2) AS float8) AS area_mu,
               ST_AsMVTGeom(ST_Translate(ST_Transform({shape}, 3857), :dx, :dy),
                            ST_TileEnvelope(:z, :x, :y), {_EXTENT}, {_BUFFER}, true) AS geom
        FROM block_lines t WHERE t.level = {int(layer[-1])} AND {" AND ".join(where)})
        SELECT ST_AsMVT(features, '{layer}', {_EXTENT}, 'geom', 'id') FROM features WHERE geom IS NOT NULL"""


def _parcels_sql(env: str, where: list[str], *, mark_set: str | None, contracts: bool) -> str:
    """Each parcel with its facts and, with ``mark_set``, its marks (no contract mark without ``contracts``)."""
    marks = (
        (
            "LEFT JOIN parcel_marks k ON k.mark_set = :marks AND k.parcel_no = t.parcel_no",
            "k.idle, k.lifecycle, k.grade",
        )
        if mark_set
        else ("", "NULL AS idle, NULL AS lifecycle, NULL AS grade")
    )
    if not contracts:  # no contract field at all, not even empty
        marks = (marks[0], marks[1].replace("k.lifecycle, ", "").replace("NULL AS lifecycle, ", ""))
    facts = f"""t.id, t.parcel_no, t.holder, t.land_use, t.county_code, t.is_low_efficiency,
               CAST(round(CAST(t.area_mu AS numeric), 2) AS float8) AS area_mu, {marks[1]}"""
    # A parcel of many vertices is clipped to the tile and simplified to half its pixel first (every
    # other parcel goes whole): ST_AsMVTGeom's repair then never meets a giant outline.
    shape = f"""CASE WHEN ST_NPoints(t.geom) > {LARGE_VERTICES}
                     THEN ST_Simplify(ST_ClipByBox2D(t.geom, (SELECT box FROM env)), :px / 2)
                     ELSE t.geom END"""
    return f"""WITH {env}, features AS (
        SELECT {facts},
               ST_AsMVTGeom(ST_Translate(ST_Transform({shape}, 3857), :dx, :dy),
                            ST_TileEnvelope(:z, :x, :y), {_EXTENT}, {_BUFFER}, true) AS geom
        FROM parcels t {marks[0]} WHERE {" AND ".join(where)})
        SELECT ST_AsMVT(features, 'parcels', {_EXTENT}, 'geom', 'id') FROM features WHERE geom IS NOT NULL"""


def _squares_sql() -> str:
    """Far out: the cells of zoom ``CELL_ZOOM`` summed into the squares of this tile (a cell nests exactly)."""
    return f"""WITH {_COUNTS},
      squares AS (SELECT ci, cj, {_ROUNDED} FROM sums),
      {_features("")}"""


def _cell_squares_sql(color_by: str, *, mark_set: str | None, contracts: bool) -> str:
    """Far out and coloured: ``_squares_sql``'s squares, each with the value covering most 亩 in its cells.

    The 亩 of each value per cell are summed ahead (``geo.tiles_cells``), so this sums a few rows per cell as
    ``_squares_sql`` does. ``top`` and ``top_share`` are ``_top_squares_sql``'s: the value of most 亩 among the
    parcels that have one (ties: the smaller value), its 亩 over all the square's 亩; a mark without a mark
    set, or a contract mark a viewer may not read, has none.
    """
    if color_by not in MARK_COLOR_BY:
        table, only = "parcel_cell_values", "color_by = :color_by"
    elif mark_set is None or (color_by == "lifecycle" and not contracts):
        table, only = "mark_cell_values", "false"
    else:
        table, only = "mark_cell_values", "mark_set = :marks AND color_by = :color_by"
    return f"""WITH {_COUNTS},
      cell_values AS (
        SELECT i >> CAST(:step AS integer) AS ci, j >> CAST(:step AS integer) AS cj, value, sum(area_mu) AS mu
        FROM {table} WHERE {only} AND {_IN_TILE}
        GROUP BY 1, 2, 3),
      tops AS (
        SELECT ci, cj, (array_agg(value ORDER BY mu DESC, value))[1] AS top, max(mu) AS top_mu
        FROM cell_values GROUP BY ci, cj),
      squares AS (
        SELECT ci, cj, {_ROUNDED}, top, CAST(top_mu / nullif(mu, 0) AS float8) AS top_share
        FROM sums LEFT JOIN tops USING (ci, cj)),
      {_features(", top, top_share")}"""


#: a table's cells in this tile's squares (and one square around), of the county and counties asked for
_IN_TILE = f"""i >= CAST(:i0 AS integer) AND i < CAST(:i1 AS integer)
          AND j >= CAST(:j0 AS integer) AND j < CAST(:j1 AS integer)
          AND (CAST(:county AS text) IS NULL OR county_code = :county) AND {_ALLOWED.format(col="county_code")}"""
#: the parcels, 亩 and low-efficiency 亩 of each square (ci, cj: zoom z + 4) from ``parcel_cells``
_COUNTS = f"""sums AS (
        SELECT i >> CAST(:step AS integer) AS ci, j >> CAST(:step AS integer) AS cj,
               sum(parcels) AS n, sum(area_mu) AS mu, sum(low_mu) AS low
        FROM parcel_cells WHERE {_IN_TILE}
        GROUP BY 1, 2)"""
_ROUNDED = """CAST(n AS integer) AS parcels, CAST(round(CAST(mu AS numeric), 2) AS float8) AS area_mu,
               CAST(round(CAST(low AS numeric), 2) AS float8) AS low_mu"""


def _features(props: str) -> str:
    """The squares as MVT polygons of the tile, with their counts and ``props``; the tile's layer of them."""
    return f"""features AS (
        SELECT parcels, area_mu, low_mu{props},
               ST_AsMVTGeom(ST_Translate(ST_MakeEnvelope(ci * :size - :half, :half - (cj + 1) * :size,
                                                         (ci + 1) * :size - :half, :half - cj * :size, 3857),
                                         :dx, :dy),
                            ST_TileEnvelope(:z, :x, :y), {_EXTENT}, 0, true) AS geom
        FROM squares)
        SELECT ST_AsMVT(features, 'parcels', {_EXTENT}, 'geom') FROM features WHERE geom IS NOT NULL"""


def _top_squares_sql(
    where: list[str], env: str, color_by: str, *, mark_set: str | None, contracts: bool
) -> str:
    """Far out and coloured, as the parcels stood on a past date: the squares summed from the parcels in the tile.

    Today's squares are ``_cell_squares_sql``'s, summed ahead; this is also their referee in
    tests/geo/test_tiles_squares.py.

    Each parcel counts in the square holding its point on surface (as in ``parcel_cells``); ``top`` is the
    value covering most 亩 among the parcels that have one (ties: the smaller value), ``top_share`` its 亩
    over all the square's 亩. A mark without a mark set, or a contract mark a viewer may not read, has none.
    """
    marks = mark_set is not None and color_by in ("idle", "lifecycle", "grade")
    value = SQUARE_VALUE[color_by] if (marks or color_by not in ("idle", "lifecycle", "grade")) else "NULL"
    if color_by == "lifecycle" and not contracts:
        value = "NULL"
    join = "LEFT JOIN parcel_marks k ON k.mark_set = :marks AND k.parcel_no = t.parcel_no" if marks else ""
    return f"""WITH {env}, points AS (
        SELECT ST_Transform(ST_PointOnSurface(t.geom), 3857) AS p, t.area_mu, t.is_low_efficiency AS low,
               CAST({value} AS text) AS value
        FROM parcels t {join} WHERE {" AND ".join(where)}),
      cells AS (
        SELECT CAST(floor((ST_X(p) + :half) / :size) AS integer) AS ci,
               CAST(floor((:half - ST_Y(p)) / :size) AS integer) AS cj, value,
               count(*) AS n, sum(area_mu) AS mu, coalesce(sum(area_mu) FILTER (WHERE low), 0) AS low_mu
        FROM points GROUP BY 1, 2, 3),
      squares AS (
        SELECT ci, cj, CAST(sum(n) AS integer) AS parcels,
               CAST(round(CAST(sum(mu) AS numeric), 2) AS float8) AS area_mu,
               CAST(round(CAST(sum(low_mu) AS numeric), 2) AS float8) AS low_mu,
               (array_agg(value ORDER BY mu DESC, value) FILTER (WHERE value IS NOT NULL))[1] AS top,
               CAST(max(mu) FILTER (WHERE value IS NOT NULL) / nullif(sum(mu), 0) AS float8) AS top_share
        FROM cells GROUP BY ci, cj),
      features AS (
        SELECT parcels, area_mu, low_mu, top, CASE WHEN top IS NULL THEN NULL ELSE top_share END AS top_share,
               ST_AsMVTGeom(ST_Translate(ST_MakeEnvelope(ci * :size - :half, :half - (cj + 1) * :size,
                                                         (ci + 1) * :size - :half, :half - cj * :size, 3857),
                                         :dx, :dy),
                            ST_TileEnvelope(:z, :x, :y), {_EXTENT}, 0, true) AS geom
        FROM squares)
        SELECT ST_AsMVT(features, 'parcels', {_EXTENT}, 'geom') FROM features WHERE geom IS NOT NULL"""
