"""Drafts: the shapes a planner draws on a map, kept as soon as each is confirmed.

A drawing is work in progress, not a record: it belongs to a sketch (a random id the app keeps in the page's
address, so a reload or a rerun finds it again) and a purpose (``balance:removal``, ``balance:addition``,
``zones:zone``). Drafts are deleted when the sketch is cleared; nothing legal refers to them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    config = op.get_context().config
    if config is None:
        raise RuntimeError("run by geo.store.migrate, whose Config carries the storage SRID")
    srid = int(config.attributes["srid"])
    op.execute(f"""
        CREATE TABLE drafts (
            id          bigserial PRIMARY KEY,
            sketch      text NOT NULL CHECK (sketch ~ '^[0-9a-f]{{32}}$'),
            purpose     text NOT NULL CHECK (purpose ~ '^[a-z_]+:[a-z_]+$'),
            fingerprint text NOT NULL,
            created_by  text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            geom        geometry(MultiPolygon, {srid}) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
            UNIQUE (sketch, purpose, fingerprint)
        )""")
    op.execute("CREATE INDEX drafts_sketch_idx ON drafts (sketch, purpose)")
    op.execute(
        "CREATE INDEX drafts_geom_idx ON drafts USING gist (geom)"
    )  # one per geometry column, as everywhere


def downgrade() -> None:
    op.execute("DROP TABLE drafts")
