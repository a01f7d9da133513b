"""Leaner parcel writes: no foreign key on ``parcels.load_id``, no speculative secondary indexes.

Each costs time on every parcel of a bulk load (measured on 200,000 parcels: the foreign key 1.3 s, a lookup
and a row lock on ``loads`` per parcel). ``loads`` rows are never deleted (they are the record of what was
loaded), so the reference cannot dangle; the county reference, which every analysis relies on, keeps its
key. The partial indexes on ``county_code`` and ``holder_id`` served no query: the analyses read whole
counties or the whole city, where a sequential scan of 200,000 rows takes tens of milliseconds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE parcels DROP CONSTRAINT IF EXISTS parcels_load_id_fkey")
    op.execute("DROP INDEX IF EXISTS parcels_county_idx")
    op.execute("DROP INDEX IF EXISTS parcels_holder_id_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX parcels_holder_id_idx ON parcels (holder_id) WHERE valid_to IS NULL")
    op.execute("CREATE INDEX parcels_county_idx ON parcels (county_code) WHERE valid_to IS NULL")
    op.execute(
        "ALTER TABLE parcels ADD CONSTRAINT parcels_load_id_fkey FOREIGN KEY (load_id) REFERENCES loads(id)"
    )
