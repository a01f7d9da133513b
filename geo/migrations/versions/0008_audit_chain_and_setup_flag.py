"""Tamper evidence for the audit trail, and setup mode as a flag written once.

``audit.row_hash``: sha256 of the previous row's hash followed by this row's payload (its id, time in UTC,
actor, action, target, approval document, before, after and transaction id, each written as
``length:text``, ``-`` for none, joined by ``|``); ``audit.chain_seq`` is the row's place in the chain. The
head of the chain (its last place and hash) is the single row of ``audit_chain``. The insert trigger computes
both in the writer's transaction with one ``UPDATE`` of that row: concurrent writers queue on its row lock
until the one before commits (or, in a serializable transaction, lose with a serialization failure and
retry), so the chain never forks. The trigger runs as the schema's owner (SECURITY DEFINER): the app's role
has no right on ``audit_chain`` at all. ``blockline audit verify`` recomputes the chain.

``setup_ended``: one row, written (by a trigger) when the first user is added. Setup mode is its absence,
so deleting every user does not reopen it; the app's role may read it and nothing else.

Revision ID: 0008
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0008"
down_revision = "0012"
branch_labels = None
depends_on = None

#: a row's payload; geo.audit.verify_chain computes the same in Python from the columns as text
_FIELDS = (
    "a.id::text",
    "to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    "a.actor",
    "a.action",
    "a.target",
    "a.approval_doc",
    "a.before::text",
    "a.after::text",
    "a.txid::text",
)
_PAYLOAD = f"""
    CREATE FUNCTION blockline_audit_payload(a audit) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT concat_ws('|', {", ".join(f"coalesce(length({f}) || ':' || {f}, '-')" for f in _FIELDS)})
    $$"""

_CHAIN = """
    CREATE FUNCTION blockline_audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
    BEGIN
        UPDATE audit_chain SET seq = seq + 1,
                               head = sha256(head || convert_to(blockline_audit_payload(NEW), 'UTF8'))
        RETURNING seq, head INTO NEW.chain_seq, NEW.row_hash;
        RETURN NEW;
    END $$"""

_END_SETUP = """
    CREATE FUNCTION blockline_end_setup() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
    BEGIN
        INSERT INTO setup_ended (first_user) VALUES (NEW.name) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$"""


def upgrade() -> None:
    op.execute("""CREATE TABLE audit_chain (
                      one  boolean PRIMARY KEY DEFAULT true CHECK (one),
                      seq  bigint NOT NULL,
                      head bytea NOT NULL)""")
    op.execute("INSERT INTO audit_chain (seq, head) VALUES (0, ''::bytea)")
    op.execute("ALTER TABLE audit ADD COLUMN chain_seq bigint, ADD COLUMN row_hash bytea")
    op.execute(_PAYLOAD)
    # the rows written before the chain, chained in the order they were written
    op.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
    op.execute("""
        DO $$
        DECLARE r audit; s bigint; h bytea;
        BEGIN
            FOR r IN SELECT * FROM audit ORDER BY id LOOP
                UPDATE audit_chain SET seq = seq + 1,
                                       head = sha256(head || convert_to(blockline_audit_payload(r), 'UTF8'))
                RETURNING seq, head INTO s, h;
                UPDATE audit SET chain_seq = s, row_hash = h WHERE id = r.id;
            END LOOP;
        END $$""")
    op.execute("ALTER TABLE audit ENABLE TRIGGER audit_append_only")
    op.execute("ALTER TABLE audit ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL")
    op.execute("CREATE UNIQUE INDEX audit_chain_seq_idx ON audit (chain_seq)")
    op.execute(_CHAIN)
    op.execute("""CREATE TRIGGER audit_chain BEFORE INSERT ON audit
                  FOR EACH ROW EXECUTE FUNCTION blockline_audit_chain()""")

    op.execute("""CREATE TABLE setup_ended (
                      one        boolean PRIMARY KEY DEFAULT true CHECK (one),
                      at         timestamptz NOT NULL DEFAULT now(),
                      first_user text)""")
    op.execute("INSERT INTO setup_ended (first_user) SELECT min(name) FROM users HAVING count(*) > 0")
    op.execute(_END_SETUP)
    op.execute("""CREATE TRIGGER users_end_setup AFTER INSERT ON users
                  FOR EACH ROW EXECUTE FUNCTION blockline_end_setup()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER users_end_setup ON users")
    op.execute("DROP FUNCTION blockline_end_setup()")
    op.execute("DROP TABLE setup_ended")
    op.execute("DROP TRIGGER audit_chain ON audit")
    op.execute("DROP FUNCTION blockline_audit_chain()")
    op.execute("DROP FUNCTION blockline_audit_payload(audit)")
    op.execute("ALTER TABLE audit DROP COLUMN chain_seq, DROP COLUMN row_hash")
    op.execute("DROP TABLE audit_chain")
