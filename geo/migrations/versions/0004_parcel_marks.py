"""Parcel marks and parcel cells: what map tiles need beside the parcels.

``parcel_cells`` counts the current parcels in squares of the Web Mercator grid (the tiles of zoom 16,
about 540 m a side in Wenzhou), by county: the map's far-out views are drawn from them, a few thousand
rows, instead of 200,000 parcels. The parcel loader rebuilds them in the transaction that writes the
parcels, so they never disagree.


The map colours 200,000 parcels by their idle or low-efficiency category, their lifecycle warning and their
latest rating. Those come from the policy engine (``zoning``), which takes about a second for the whole
city; the tiles are cut by PostGIS, tile by tile, so they need the marks beside the parcels. A set of marks
is named by a key (the profile, the date and the version of the data it was computed from) and can be
rebuilt at any time: the table is UNLOGGED (not crash-safe, not replicated, not part of any record).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE parcel_cells (
            i           integer NOT NULL,
            j           integer NOT NULL,
            county_code varchar(6) NOT NULL DEFAULT '',
            parcels     integer NOT NULL CHECK (parcels > 0),
            area_mu     double precision NOT NULL,
            low_mu      double precision NOT NULL,
            PRIMARY KEY (i, j, county_code)
        )""")
    op.execute("""
        INSERT INTO parcel_cells
        SELECT floor((ST_X(p) + 20037508.342789244) / 611.4962262814100)::int,
               floor((20037508.342789244 - ST_Y(p)) / 611.4962262814100)::int, coalesce(county_code, ''),
               count(*), sum(area_mu), coalesce(sum(area_mu) FILTER (WHERE is_low_efficiency), 0)
        FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 3857) AS p, county_code, area_mu, is_low_efficiency
              FROM parcels WHERE valid_to IS NULL) s GROUP BY 1, 2, 3""")
    op.execute("""
        CREATE UNLOGGED TABLE parcel_marks (
            mark_set   text NOT NULL,
            parcel_no  text NOT NULL,
            idle       text,
            lifecycle  text,
            grade      char(1),
            PRIMARY KEY (mark_set, parcel_no)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE parcel_marks")
    op.execute("DROP TABLE parcel_cells")
