"""Exactly-once ledger writes: an approval document is recorded once, a request once.

``adjustments.approval_doc_key`` is the 批复文号 normalised (NFKC, so full-width letters, digits and
brackets are folded; every whitespace removed; the bracket forms 〔〕 [] () 【】 〖〗 made one), unique:
温政函〔2026〕99号, ``温政函[2026]99号`` and ``温政函 〔２０２６〕 99 号`` are one document.
``adjustments.request_id`` is the idempotency key of the request that recorded the entry, unique: a retry
of the same request finds it and returns the first result instead of recording again.

Entries recorded before this revision get their key here; where two already share a document (the fault
this revision closes), the first keeps the key and the later ones are left without it (they stay in the
ledger as they were, and the document cannot be recorded again).

The normalisation is a copy of ``zoning.balance.normalise_doc`` as it was at this revision (a migration
does not import the code it migrates for).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BRACKETS = str.maketrans(
    {"[": "〔", "]": "〕", "(": "〔", ")": "〕", "【": "〔", "】": "〕", "〖": "〔", "〗": "〕"}
)


def _doc_key(doc: str) -> str:
    return "".join(unicodedata.normalize("NFKC", doc).split()).translate(_BRACKETS)


def upgrade() -> None:
    op.execute("ALTER TABLE adjustments ADD COLUMN approval_doc_key text, ADD COLUMN request_id text")
    conn = op.get_bind()
    seen: set[str] = set()
    for adj_id, doc in conn.execute(sa.text("SELECT id, approval_doc FROM adjustments ORDER BY id")).all():
        key = _doc_key(doc)
        if key in seen:
            continue
        seen.add(key)
        conn.execute(
            sa.text("UPDATE adjustments SET approval_doc_key = :k WHERE id = :i"), {"k": key, "i": adj_id}
        )
    op.execute("CREATE UNIQUE INDEX adjustments_approval_doc_key ON adjustments (approval_doc_key)")
    op.execute("CREATE UNIQUE INDEX adjustments_request_id ON adjustments (request_id)")


def downgrade() -> None:
    op.execute("DROP INDEX adjustments_request_id")
    op.execute("DROP INDEX adjustments_approval_doc_key")
    op.execute("ALTER TABLE adjustments DROP COLUMN request_id, DROP COLUMN approval_doc_key")
