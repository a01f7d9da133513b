"""The audit trail: one append-only row for every write, in the transaction of the write.

Who (the acting user), when (the database's clock), what (an action such as ``load.parcels`` or
``adjustment.record``, and its target), before and after (JSON), and the approval document where there is
one. The database refuses UPDATE, DELETE and TRUNCATE on ``audit`` (migration 0005), so a row once
committed stays as it was written; a write that rolls back takes its audit row with it.

Each row also carries a hash chained to the row before it (migration 0008): :func:`verify_chain` recomputes
the chain here, independently of the database's own function, and names the first row that does not match.
The chain shows a row edited, removed or inserted by someone who could get round the triggers (the schema's
owner, a superuser); it cannot show a whole chain recomputed by them, unless its head (printed by ``blockline
audit verify``) was written down elsewhere before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.clock import office_zone, shown, shown_iso

if TYPE_CHECKING:  # the readers import it: every write records here, and pandas is 0.5 s to import
    import pandas as pd

__all__ = [
    "ChainCheck",
    "as_records",
    "as_text",
    "first_day",
    "payload",
    "read_audit",
    "record",
    "verify_chain",
]


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    approval_doc: str | None = None,
    before: Any = None,
    after: Any = None,
) -> int:
    """Append one audit row inside the caller's transaction; returns its id."""

    def as_json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

    return int(
        conn.execute(
            sa.text("""
        INSERT INTO audit (actor, action, target, approval_doc, before, after)
        VALUES (:actor, :action, :target, :doc, CAST(:before AS jsonb), CAST(:after AS jsonb)) RETURNING id"""),
            {
                "actor": actor,
                "action": action,
                "target": target,
                "doc": approval_doc,
                "before": as_json(before),
                "after": as_json(after),
            },
        ).scalar_one()
    )


def read_audit(
    engine: Engine,
    *,
    since: dt.date | dt.datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """Audit rows, newest first: id, at, actor, action, target, approval_doc, before, after."""
    import pandas as pd  # lazy: see the module's imports

    clauses = ["true"]
    params: dict[str, dt.date | dt.datetime | str | int] = {"limit": int(limit)}
    if since is not None:
        clauses.append("at >= :since")
        params["since"] = since
    if actor:
        clauses.append("actor = :actor")
        params["actor"] = actor
    if action:
        clauses.append("action LIKE :action")
        params["action"] = action.replace("%", r"\%").replace("_", r"\_") + "%"
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(f"""
            SELECT id, at, actor, action, target, approval_doc, before, after FROM audit
            WHERE {" AND ".join(clauses)} ORDER BY id DESC LIMIT :limit"""),
            conn,
            params=params,
        )


def first_day(engine: Engine) -> dt.date | None:
    """The office's day (``BLOCKLINE_TIMEZONE``) of the oldest audit row; None for an empty trail."""
    with engine.connect() as conn:
        oldest = conn.execute(sa.text("SELECT min(at) FROM audit")).scalar_one()
    return None if oldest is None else oldest.astimezone(office_zone()).date()


def as_text(trail: pd.DataFrame) -> pd.DataFrame:
    """Audit rows for a table or a file: the time in the city's zone (UTC+8), before and after as JSON text."""
    return trail.assign(
        at=[shown(v, seconds=True) for v in trail["at"]],
        before=[json.dumps(v, ensure_ascii=False) if v is not None else "" for v in trail["before"]],
        after=[json.dumps(v, ensure_ascii=False) if v is not None else "" for v in trail["after"]],
    )


def as_records(trail: pd.DataFrame) -> list[dict[str, Any]]:
    """Audit rows as strict JSON values.

    The time in ISO 8601 (UTC+8), a missing text as null (never NaN), before and after as the objects they
    were written as.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"id": [1], "at": pd.to_datetime(["2026-12-05 05:00:00+00:00"]), "actor": ["a"],
    ...                      "action": ["t"], "target": [float("nan")], "approval_doc": [None],
    ...                      "before": [None], "after": [{"x": 1}]})
    >>> as_records(rows)
    [{'id': 1, 'at': '2026-12-05T13:00:00+08:00', 'actor': 'a', 'action': 't', 'target': None, 'approval_doc': None, 'before': None, 'after': {'x': 1}}]
    """  # noqa: E501 a doctest's expected output is one line
    from geo.export import json_safe  # lazy: it imports geopandas

    out: list[dict[str, Any]] = []
    for row in trail.to_dict("records"):
        at = row.get("at")
        out.append(
            {
                str(k): (shown_iso(at) if k == "at" and at is not None else json_safe(v))
                for k, v in row.items()
            }
        )
    return out


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`verify_chain` found: rows checked, the head, and the first broken row (None: intact)."""

    rows: int
    head_seq: int
    head_hash: str
    broken_id: int | None = None
    broken_seq: int | None = None
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def intact(self) -> bool:
        """Whether every row checked matches the chain."""
        return self.broken_seq is None

    def as_dict(self) -> dict[str, object]:
        """The check as plain data, ``intact`` included (what ``blockline audit verify --json`` prints)."""
        return dict(self.__dict__, intact=self.intact)


def payload(fields: list[str | None]) -> bytes:
    r"""A row's payload as the chain hashes it: each field ``length:text`` (``-`` for none), joined by ``|``.

    Examples
    --------
    >>> payload(["7", None, "丙"])
    b'1:7|-|1:\xe4\xb8\x99'
    """
    return "|".join("-" if f is None else f"{len(f)}:{f}" for f in fields).encode("utf-8")


_CHAIN_ROWS = """
    SELECT id, chain_seq, row_hash, id::text AS f_id,
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS f_at,
           actor, action, target, approval_doc, before::text AS f_before, after::text AS f_after,
           txid::text AS f_txid
    FROM audit ORDER BY chain_seq"""


def verify_chain(engine: Engine) -> ChainCheck:
    """Recompute the audit trail's hash chain and compare it with the stored hashes and the chain's head.

    Returns
    -------
    ChainCheck
        The first row (in chain order) whose hash does not follow from the row before it and its own
        content, or that follows a gap (a removed row), or the head when rows after it are gone.
    """
    prev, seq, rows, last_id = b"", 0, 0, None
    with engine.connect() as conn:
        head_seq, head = conn.execute(sa.text("SELECT seq, head FROM audit_chain")).one()
        for row in conn.execute(sa.text(_CHAIN_ROWS)):
            rows += 1
            expected = hashlib.sha256(prev + payload(list(row[3:]))).digest()
            if row.chain_seq != seq + 1:
                return ChainCheck(
                    rows,
                    head_seq,
                    bytes(head).hex(),
                    row.id,
                    row.chain_seq,
                    f"第 {seq + 1} 至 {row.chain_seq - 1} 条缺失（在审计记录 {row.id} 之前）",
                    f"entries {seq + 1} to {row.chain_seq - 1} are missing (before audit row {row.id})",
                )
            if bytes(row.row_hash) != expected:
                return ChainCheck(
                    rows,
                    head_seq,
                    bytes(head).hex(),
                    row.id,
                    row.chain_seq,
                    f"审计记录 {row.id} 的内容或哈希被改动",
                    f"audit row {row.id} was altered",
                )
            prev, seq, last_id = expected, row.chain_seq, row.id
    if seq != head_seq or prev != bytes(head):
        return ChainCheck(
            rows,
            head_seq,
            bytes(head).hex(),
            last_id,
            seq + 1,
            f"链头为第 {head_seq} 条，而记录只到第 {seq} 条（其后的记录被删除，或链头被改动）",
            f"the chain's head is entry {head_seq} but the rows end at entry {seq} "
            "(rows after it were removed, or the head was altered)",
        )
    return ChainCheck(rows, head_seq, bytes(head).hex())
