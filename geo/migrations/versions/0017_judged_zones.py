"""Candidate zones kept with their judgement: ``blockline zones detect`` reads them instead of clustering again.

The candidate 连片开发 zones at the profile's own threshold and gap change only with the judgement (its
low-efficiency parcels, their areas inside the lines) and the marks' grades of the same data, i.e. with the
data version. Clustering them was most of ``zones detect``: 5 s of 10.6 s at 1,000,000 parcels, 2.5× a bare
``ST_ClusterDBSCAN`` of the same rows. The first caller clusters and describes them and keeps the result;
every later caller reads it back (``blockline.services.zones_kept``).

``judged_zone_sets``
    one row per kept set: its judgement, the marks whose grades it counts, ``min_mu`` / ``gap_m``, the
    ``method`` (a hash of the code that computed it: a new release computes it again) and how many zones.
    A set of no zones is a row with ``zones = 0``: "computed, none", not "not computed".
``judged_zones``
    the set's zones in their order (``rank``, 0…n-1), with every column of
    ``blockline.services.zones.candidate_zones`` but the geometry: ``rating_mix`` / ``rating_mix_mu`` as
    arrays in the order of ``zoning.consolidation.GRADES`` then ``unrated``.

Both go with their judgement (``ON DELETE CASCADE``): a new load changes the data version, and the next
judgement written deletes the older ones with theirs. UNLOGGED like the judgement's other tables:
everything in them can be computed again, and a crash that empties them only costs the next caller the
clustering.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE judged_zone_sets (
            id           bigserial PRIMARY KEY,
            judgement_id bigint NOT NULL REFERENCES judgements(id) ON DELETE CASCADE,
            mark_set     text NOT NULL,
            min_mu       double precision NOT NULL,
            gap_m        double precision NOT NULL,
            method       text NOT NULL,
            zones        integer NOT NULL,
            seconds      double precision NOT NULL,
            made_at      timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
            UNIQUE (judgement_id, mark_set, min_mu, gap_m, method)
        )""")
    op.execute("""
        CREATE UNLOGGED TABLE judged_zones (
            set_id        bigint NOT NULL REFERENCES judged_zone_sets(id) ON DELETE CASCADE,
            rank          integer NOT NULL,
            zone_id       text NOT NULL,
            area_mu       double precision NOT NULL,
            parcels       text[] NOT NULL,
            holders       integer NOT NULL,
            county_code   text,
            county_codes  text[] NOT NULL,
            level1_mu     double precision NOT NULL,
            level2_mu     double precision NOT NULL,
            rating_mix    integer[] NOT NULL,
            rating_mix_mu double precision[] NOT NULL,
            PRIMARY KEY (set_id, rank)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE judged_zones")
    op.execute("DROP TABLE judged_zone_sets")
