"""A judgement's JSON documents written after its findings, from them (migration 0019): ``write_documents``.

The documents (``judged_documents``) are what ``blockline idle`` / ``lifecycle --format json`` write: the
findings grouped by parcel (``blockline.services.judged_write.document_pieces``). A judgement written with
``documents=False`` (the app's warm-up, which waits for its judgement but never reads a document) has its
findings, marks and zones committed first; its documents are written here afterwards, by the process that
judged or by the first command that asks for one (``Judgement.document``), whichever comes first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from blockline.services.judged import KINDS
from blockline.services.judged_read import read_findings
from blockline.services.judged_write import DOCUMENTS_COPY, document_pieces
from geo.store import driver_connection, transaction

__all__ = ["write_documents"]

#: findings read back and grouped at a time (whole parcels): the memory of a part of the judgement, not the city's
FINDINGS_PER_PART = 20_000


def write_documents(engine: Engine, jid: int) -> bool:
    """Write the JSON documents of judgement ``jid`` from its stored findings, unless they are there.

    One writer per judgement at a time (an advisory lock): a second caller waits, then finds them written. The
    findings are read back a part at a time, in their order, each part whole parcels; the pieces are those the
    judging would have written (the parcels in their order, each with its findings in theirs). Returns whether
    this call wrote them (False: written before, or the judgement is gone).
    """
    with transaction(engine) as conn:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 19))"), {"k": f"documents|{jid}"}
        )
        ready = conn.execute(
            sa.text("SELECT documents FROM judgements WHERE id = :i"), {"i": jid}
        ).scalar_one_or_none()
        if ready is None or ready:
            return False
        raw = driver_connection(conn)
        for kind in KINDS:
            nos = (
                conn.execute(
                    sa.text(
                        "SELECT parcel_no FROM judged_findings WHERE judgement_id = :i AND kind = :k ORDER BY ord"
                    ),
                    {"i": jid, "k": kind},
                )
                .scalars()
                .all()
            )
            chunk = 0
            for lo, hi in whole_parcels(nos, FINDINGS_PER_PART):
                rows = []
                for body in document_pieces(read_findings(engine, jid, kind, ords=(lo, hi))):
                    chunk += 1
                    rows.append((jid, kind, chunk, body))
                with raw.cursor() as cur, cur.copy(DOCUMENTS_COPY) as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.execute(sa.text("UPDATE judgements SET documents = true WHERE id = :i"), {"i": jid})
    return True


def whole_parcels(nos: Sequence[str], size: int) -> Iterator[tuple[int, int]]:
    """Ranges ``[lo, hi)`` of positions in ``nos`` of about ``size`` each, none splitting the parcels they hold.

    ``nos`` are the findings' parcel numbers in their stored order: part after part of the judgement, each part's
    parcels after the last one's (``write_judgement``), a parcel's findings together only within its part. A
    range may end after position ``i`` when every parcel before it sorts before every parcel after it.

    Examples
    --------
    >>> list(whole_parcels(["b", "a", "b", "c", "d", "c"], 2))
    [(0, 3), (3, 6)]
    """
    n = len(nos)
    if n == 0:
        return
    codes, _ = pd.factorize(np.asarray(nos, dtype=object), sort=True)
    before = np.maximum.accumulate(codes)
    after = np.minimum.accumulate(codes[::-1])[::-1]
    starts = np.flatnonzero(before[:-1] < after[1:]) + 1  # where a range may start
    lo = 0
    while lo < n:
        at = int(np.searchsorted(starts, lo + size))
        hi = int(starts[at]) if at < len(starts) else n
        yield lo, hi
        lo = hi
