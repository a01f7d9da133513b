"""Parcels across a county line: the share of each county, beside the one county the parcel is given.

``county_shares`` holds, for a parcel that lies in more than one county, each county's share of the
parcel's area (``{"330302": 0.6, "330304": 0.4}``); NULL for a parcel that lies in one county. The parcel's
``county_code`` stays one county (the one with the largest share when it is derived from the boundaries),
so every count by county stays a partition of the parcels.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-05
"""

from alembic import op

revision = "0012"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE parcels ADD COLUMN county_shares jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE parcels DROP COLUMN county_shares")
