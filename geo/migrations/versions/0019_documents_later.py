"""A judgement's JSON documents may be written after its findings: ``judgements.documents`` says they are there.

The JSON documents of ``blockline idle`` / ``lifecycle --format json`` (``judged_documents``) are a second copy
of the findings, which only those commands read. The app's warm-up judges in a child process and waits for it;
at 200,000 parcels the documents were 3.7 s of the child's Python and 1.9 s of the server's, on two cores that
the warm-up keeps busy. So that child writes them after the findings, the marks and the zones are committed
and the warm-up has gone on (``blockline.services.judged_docs``): until then ``documents`` is false, and a
command that asks for a document waits for them (or writes them itself when nobody is).

Every judgement written before this revision has its documents: the column's default is true.

The documents written later are made from the findings read back, so ``judged_findings.figures`` becomes
``json``: text kept as written, its keys in the order the rules gave them, where ``jsonb`` sorts them (a
document written later would list a finding's figures in another order than one written with the findings).
It is also cheaper to write: 224,504 findings copied in 1.99 s against 2.37 s (``COPY``, 200,000 parcels).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE judgements ADD COLUMN documents boolean NOT NULL DEFAULT true")
    op.execute("ALTER TABLE judged_findings ALTER COLUMN figures TYPE json USING figures::json")


def downgrade() -> None:
    op.execute("ALTER TABLE judged_findings ALTER COLUMN figures TYPE jsonb USING figures::jsonb")
    op.execute("ALTER TABLE judgements DROP COLUMN documents")
