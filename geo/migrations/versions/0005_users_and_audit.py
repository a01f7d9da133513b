"""Users and the audit trail.

``users``: the built-in user store (when no identity server is configured): a name, argon2 password hash,
roles, the counties a planner or approver is limited to (empty: all), and whether the user may sign in.

``audit``: one row for every write — who, when, what, before and after, the approval document where there
is one. The database itself refuses to change or delete an audit row (UPDATE, DELETE and TRUNCATE raise),
and refuses to delete the record of a load (``loads``) or of an approved adjustment (``adjustments``,
``quota_transfers``): these are the city's legal records. Block-line and parcel history is kept by lifespan
(``valid_from``/``valid_to``), never by deleting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_REFUSE = """
    CREATE FUNCTION blockline_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% 是不可改写的记录：拒绝 % / % rows are a record that cannot be rewritten: % refused',
            TG_TABLE_NAME, TG_OP, TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE users (
            name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
            display_name  text,
            password_hash text NOT NULL,
            roles         text[] NOT NULL CHECK (
                              roles <@ ARRAY['viewer', 'planner', 'approver', 'data_officer', 'admin']
                              AND cardinality(roles) > 0),
            counties      text[] NOT NULL DEFAULT '{}',
            disabled      boolean NOT NULL DEFAULT false,
            created_at    timestamptz NOT NULL DEFAULT now(),
            password_changed_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE audit (
            id           bigserial PRIMARY KEY,
            at           timestamptz NOT NULL DEFAULT clock_timestamp(),
            actor        text NOT NULL,
            action       text NOT NULL,
            target       text,
            approval_doc text,
            before       jsonb,
            after        jsonb,
            txid         bigint NOT NULL DEFAULT txid_current()
        )""")
    op.execute("CREATE INDEX audit_at_idx ON audit (at)")
    op.execute(_REFUSE)
    op.execute("""CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
                  FOR EACH ROW EXECUTE FUNCTION blockline_refuse_change()""")
    op.execute("""CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
                  FOR EACH STATEMENT EXECUTE FUNCTION blockline_refuse_change()""")
    for table in ("loads", "adjustments", "quota_transfers"):
        op.execute(f"""CREATE TRIGGER {table}_kept BEFORE DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION blockline_refuse_change()""")


def downgrade() -> None:
    for table in ("loads", "adjustments", "quota_transfers"):
        op.execute(f"DROP TRIGGER {table}_kept ON {table}")
    op.execute("DROP TABLE audit")
    op.execute("DROP FUNCTION blockline_refuse_change()")
    op.execute("DROP TABLE users")
