"""Cell values: the map's coloured far-out squares summed ahead, as its uncoloured ones are (``parcel_cells``).

A map coloured by land use, county, low efficiency or a mark (idle, lifecycle, grade) gives each far-out
square the value covering most of its parcels' 亩. That was summed per tile from every parcel in it (a point
on surface and a reprojection each): 0.17–0.22 s for a zoom-9 tile of the 200,000-parcel demo city, 0.8 s
for its densest. Now the 亩 of each value are summed per cell (a zoom-16 tile, as in ``parcel_cells``), and a
tile sums a few rows per cell (``geo.tiles_cells``):

``parcel_cell_of``
    each current parcel's cell, found once per load, so that a set of marks is summed without finding it
    again;
``parcel_cell_values``
    the 亩 of each value of the parcels' own facts per cell and county, rebuilt with ``parcel_cells``;
``mark_cell_values``
    the 亩 of each value of a set of marks per cell and county, written with the set: UNLOGGED, like
    ``parcel_marks`` (a crash empties both, and the marks are written again when next asked for).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_CELL = "floor((ST_X(p) + 20037508.342789244) / 611.4962262814100)::int"
_ROW = "floor((20037508.342789244 - ST_Y(p)) / 611.4962262814100)::int"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE parcel_cell_of (
            parcel_id bigint PRIMARY KEY,
            i         integer NOT NULL,
            j         integer NOT NULL
        )""")
    op.execute("""
        CREATE TABLE parcel_cell_values (
            color_by    text NOT NULL,
            i           integer NOT NULL,
            j           integer NOT NULL,
            county_code varchar(6) NOT NULL DEFAULT '',
            value       text NOT NULL,
            area_mu     double precision NOT NULL,
            PRIMARY KEY (color_by, i, j, county_code, value)
        )""")
    op.execute("""
        CREATE UNLOGGED TABLE mark_cell_values (
            mark_set    text NOT NULL,
            color_by    text NOT NULL,
            i           integer NOT NULL,
            j           integer NOT NULL,
            county_code varchar(6) NOT NULL DEFAULT '',
            value       text NOT NULL,
            area_mu     double precision NOT NULL,
            PRIMARY KEY (mark_set, color_by, i, j, county_code, value)
        )""")
    # What the loader and the marks' writer keep from now on (geo.tiles_cells), for the data already stored.
    op.execute(f"""
        INSERT INTO parcel_cell_of (parcel_id, i, j)
        SELECT id, {_CELL}, {_ROW}
        FROM (SELECT id, ST_Transform(ST_PointOnSurface(geom), 3857) AS p FROM parcels WHERE valid_to IS NULL) s""")
    op.execute("""
        INSERT INTO parcel_cell_values (color_by, i, j, county_code, value, area_mu)
        SELECT v.color_by, c.i, c.j, coalesce(t.county_code, ''), v.value, sum(t.area_mu)
        FROM parcel_cell_of c JOIN parcels t ON t.id = c.parcel_id
        CROSS JOIN LATERAL (VALUES ('land_use', CAST(t.land_use AS text)),
                                   ('county_code', CAST(t.county_code AS text)),
                                   ('is_low_efficiency', CASE WHEN t.is_low_efficiency THEN 'true'
                                                              WHEN NOT t.is_low_efficiency THEN 'false' END))
             v(color_by, value)
        WHERE v.value IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5""")
    op.execute("""
        INSERT INTO mark_cell_values (mark_set, color_by, i, j, county_code, value, area_mu)
        SELECT k.mark_set, v.color_by, c.i, c.j, coalesce(t.county_code, ''), v.value, sum(t.area_mu)
        FROM parcel_marks k JOIN parcels t ON t.parcel_no = k.parcel_no AND t.valid_to IS NULL
             JOIN parcel_cell_of c ON c.parcel_id = t.id
        CROSS JOIN LATERAL (VALUES ('idle', CAST(k.idle AS text)), ('lifecycle', CAST(k.lifecycle AS text)),
                                   ('grade', CAST(k.grade AS text))) v(color_by, value)
        WHERE v.value IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6""")


def downgrade() -> None:
    op.execute("DROP TABLE mark_cell_values")
    op.execute("DROP TABLE parcel_cell_values")
    op.execute("DROP TABLE parcel_cell_of")
