"""Judged findings: the idle, lifecycle and low-efficiency findings of a city, judged once per data version.

The policy engine judges the whole city in a second or two, but reading 200,000 parcels into Python and
writing 100 MB of JSON took ten times that, in every process that asked. A judgement is the findings of
(data version, date, profile, options): written once, in one transaction, by whichever process asks first,
and read back by every other caller (the CLI, the app's processes). A new load changes the data version, so
the old judgements are no longer found, and the next one written deletes them.

``judgements``
    one row per judgement: its key, when and by whom it was judged (``judged_at``, ``judged_by``) and how
    often it was served since (``served``), the findings frame's columns in order (``columns``, per kind),
    and the parcel numbers judged low-efficiency land (``low_efficiency``, for consolidation zones);
``judged_findings``
    one row per finding, in the order the engine gave them (``ord``); the columns of CLI.md as columns,
    ``figures`` as JSONB, and any further column of the findings frame in ``extra`` (JSONB), so fields the
    rules add later are kept without a migration;
``judged_documents``
    the JSON ``parcels`` list of ``blockline idle`` / ``blockline lifecycle``, in chunks in parcel order, so
    a command writes its answer without grouping and encoding 100 MB again.

The three tables are UNLOGGED, like ``parcel_marks``: everything in them can be judged again from the data,
and writing 250 MB of findings and documents through the write-ahead log cost 1.5 s of the first call at
200,000 parcels. So they are not crash-safe (after a crash the server empties them, and the next caller
judges again) and not streamed to replicas: callers must reach the primary, which they do anyway to store
a judgement.

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-05
"""

from alembic import op

revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE judgements (
            id             bigserial PRIMARY KEY,
            data_version   text NOT NULL,
            as_of          date NOT NULL,
            profile        text NOT NULL,
            options        text NOT NULL DEFAULT '',
            columns        jsonb NOT NULL,
            low_efficiency text[] NOT NULL,
            judged_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
            judged_by      text NOT NULL,
            seconds        double precision NOT NULL,
            served         integer NOT NULL DEFAULT 0,
            UNIQUE (data_version, as_of, profile, options)
        )""")
    op.execute("""
        CREATE UNLOGGED TABLE judged_findings (
            judgement_id bigint NOT NULL REFERENCES judgements(id) ON DELETE CASCADE,
            kind         text NOT NULL CHECK (kind IN ('idle', 'lifecycle')),
            ord          integer NOT NULL,
            parcel_no    text NOT NULL,
            category     text NOT NULL,
            article      text,
            detail       text,
            detail_en    text,
            since        date,
            figures      jsonb,
            penalty_wan  double precision,
            extra        jsonb,
            PRIMARY KEY (judgement_id, kind, ord)
        )""")
    op.execute("""
        CREATE UNLOGGED TABLE judged_documents (
            judgement_id bigint NOT NULL REFERENCES judgements(id) ON DELETE CASCADE,
            kind         text NOT NULL CHECK (kind IN ('idle', 'lifecycle')),
            chunk        integer NOT NULL,
            body         text NOT NULL,
            PRIMARY KEY (judgement_id, kind, chunk)
        )""")
    # written once, read whole: stored out of line uncompressed (compressing 120 MB cost the server seconds)
    op.execute("ALTER TABLE judged_documents ALTER COLUMN body SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("DROP TABLE judged_documents")
    op.execute("DROP TABLE judged_findings")
    op.execute("DROP TABLE judgements")
