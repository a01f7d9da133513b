"""Sessions of the app and failed sign-ins.

``sessions``: one row per sign-in. The browser holds an opaque token in an HttpOnly, SameSite=Strict cookie;
the store keeps only its SHA-256 (``token_hash``), who it is (name, roles, counties, and ``via``: ``store``
for the built-in users, ``oidc`` for an identity server), when it was last used, and whether it was ended
(``ended_at``: signed out, or the user disabled). The token is made by the app's server when the browser
redeems a one-time code (``handoff_hash``, valid until ``handoff_until``, a minute) that the page gave it
right after the sign-in; until then the page knows its session by ``id`` only. ``expires_at``: when the
identity server's token ends (an OIDC session ends then at the latest).

``sign_in_failures``: one row per failed sign-in, by the name tried (known or not); the brakes count them.

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-05
"""

from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sessions (
            id            bigserial PRIMARY KEY,
            token_hash    text UNIQUE,
            user_name     text NOT NULL,
            roles         text[] NOT NULL,
            counties      text[] NOT NULL DEFAULT '{}',
            via           text NOT NULL CHECK (via IN ('store', 'oidc')),
            created_at    timestamptz NOT NULL DEFAULT now(),
            last_seen     timestamptz NOT NULL DEFAULT now(),
            expires_at    timestamptz,
            ended_at      timestamptz,
            handoff_hash  text UNIQUE,
            handoff_until timestamptz
        )""")
    op.execute("CREATE INDEX sessions_user_idx ON sessions (user_name) WHERE ended_at IS NULL")
    op.execute("""
        CREATE TABLE sign_in_failures (
            id   bigserial PRIMARY KEY,
            name text NOT NULL,
            at   timestamptz NOT NULL DEFAULT clock_timestamp()
        )""")
    op.execute("CREATE INDEX sign_in_failures_name_at_idx ON sign_in_failures (name, at)")


def downgrade() -> None:
    op.execute("DROP TABLE sign_in_failures")
    op.execute("DROP TABLE sessions")
