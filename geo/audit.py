"""The audit trail: one append-only row for every write, in the transaction of the write.

Who (the acting user), when (the database's clock), what (an action such as ``load.parcels`` or
``adjustment.record``, and its target), before and after (JSON), and the approval document where there is
one. The database refuses UPDATE, DELETE and TRUNCATE on ``audit`` (migration 0005), so a row once
committed stays as it was written; a write that rolls back takes its audit row with it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.clock import shown, shown_iso

__all__ = ["as_records", "as_text", "read_audit", "record"]


def record(conn: Connection, *, actor: str, action: str, target: str | None = None, approval_doc: str | None = None,
           before: Any = None, after: Any = None) -> int:
    """Append one audit row inside the caller's transaction; returns its id."""
    def as_json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

    return int(conn.execute(sa.text("""
        INSERT INTO audit (actor, action, target, approval_doc, before, after)
        VALUES (:actor, :action, :target, :doc, CAST(:before AS jsonb), CAST(:after AS jsonb)) RETURNING id"""),
        {"actor": actor, "action": action, "target": target, "doc": approval_doc,
         "before": as_json(before), "after": as_json(after)}).scalar_one())


def read_audit(engine: Engine, *, since: dt.date | dt.datetime | None = None, actor: str | None = None,
               action: str | None = None, limit: int = 1000) -> pd.DataFrame:
    """Audit rows, newest first: id, at, actor, action, target, approval_doc, before, after."""
    clauses, params = ["true"], {"limit": int(limit)}
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
        return pd.read_sql(sa.text(f"""
            SELECT id, at, actor, action, target, approval_doc, before, after FROM audit
            WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT :limit"""), conn, params=params)


def as_text(trail: pd.DataFrame) -> pd.DataFrame:
    """Audit rows for a table or a file: the time in the city's zone (UTC+8), before and after as JSON text."""
    return trail.assign(
        at=[shown(v, seconds=True) for v in trail["at"]],
        before=[json.dumps(v, ensure_ascii=False) if v is not None else "" for v in trail["before"]],
        after=[json.dumps(v, ensure_ascii=False) if v is not None else "" for v in trail["after"]],
    )


def as_records(trail: pd.DataFrame) -> list[dict[str, Any]]:
    """Audit rows as strict JSON values: the time in ISO 8601 (UTC+8), a missing text as null (never NaN),
    before and after as the objects they were written as.

    Examples
    --------
    >>> rows = pd.DataFrame({"id": [1], "at": pd.to_datetime(["2026-12-05 05:00:00+00:00"]), "actor": ["a"],
    ...                      "action": ["t"], "target": [float("nan")], "approval_doc": [None],
    ...                      "before": [None], "after": [{"x": 1}]})
    >>> as_records(rows)
    [{'id': 1, 'at': '2026-12-05T13:00:00+08:00', 'actor': 'a', 'action': 't', 'target': None, 'approval_doc': None, 'before': None, 'after': {'x': 1}}]
    """
    from geo.export import json_safe

    out = []
    for row in trail.to_dict("records"):
        at = row.get("at")
        out.append({k: (shown_iso(at) if k == "at" and at is not None
                        else json_safe(v)) for k, v in row.items()})
    return out
