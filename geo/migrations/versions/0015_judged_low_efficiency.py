"""The low-efficiency parcels of a judgement, each with its area inside the current block lines.

``blockline zones detect`` describes each candidate zone by the block-line levels it lies in: the sum, over
the zone's parcels, of each parcel's area inside the union of the current level-1 (level-2) lines it meets.
Computed when asked, that was one ``ST_Intersection`` per member parcel and level, 2.8 s of the command's
6 s at 200,000 parcels. A parcel's area inside the lines changes only with the parcels or the lines, i.e.
with the data version, and only low-efficiency parcels are ever clustered, so it is computed once, when the
judgement is written, for the parcels that judgement found low-efficiency.

``judged_low_efficiency``
    one row per low-efficiency parcel of a judgement (the ``judgements.low_efficiency`` list, as rows):
    ``level1_m2`` / ``level2_m2``, its area (m²) inside the union of the current level-1 / level-2 lines
    it meets (0 where it meets none). The rows go with their judgement (``ON DELETE CASCADE``): a new load
    changes the data version, and the next judgement written deletes the older ones with theirs.

UNLOGGED like the judgement's other tables: everything in it can be computed again from the data, and a
judgement found without its rows (after a crash, or written by an older release) gets them when asked.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE judged_low_efficiency (
            judgement_id bigint NOT NULL REFERENCES judgements(id) ON DELETE CASCADE,
            parcel_no    text NOT NULL,
            level1_m2    double precision NOT NULL,
            level2_m2    double precision NOT NULL,
            PRIMARY KEY (judgement_id, parcel_no)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE judged_low_efficiency")
