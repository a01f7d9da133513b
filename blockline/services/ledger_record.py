"""占一补一 (WZ §5): recording an approved adjustment, exactly once, in one SERIALIZABLE transaction.

Ledger entry, transfers and the new block lines are written all or nothing, so two planners recording at once
can never both spend the same surplus (one of them is retried against the new balance, and refused if it no
longer fits). An approval document is recorded once (its ``normalise_doc`` form is unique); a retry of a
request that was recorded returns the first result (``request_id``); a connection lost after COMMIT was sent
is ``OutcomeUnknown``, never "rolled back". The rules it records by are ``zoning.balance``'s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from blockline.services.balance import check_on, standing_balances
from geo import errors
from geo.actors import Actor
from geo.audit import record
from geo.auth import authorize
from geo.errors import DatabaseUnavailable, InputError
from geo.fixes import fix
from geo.settings import get_settings
from geo.store import SERIALIZATION_FAILURES, first_line, storage_srid, transaction
from zoning.balance import (
    EPSILON_MU,
    BalanceCheck,
    OutcomeUnknown,
    Transfer,
    Unbalanced,
    geometry_param,
    normalise_doc,
    request_key,
)
from zoning.policy import Profile

__all__ = ["record_adjustment"]

#: the ledger entry, its id returned
_INSERT_ADJUSTMENT_SQL = """
INSERT INTO adjustments (county_code, policy, approval_doc, reason, recorded_by, occupied_mu, replaced_mu,
    balance_before_mu, balance_after_mu, level1_total_after_mu, report, removal_geom, addition_geom,
    approval_doc_key, request_id)
VALUES (:county, :policy, :doc, :reason, :user, :occ, :rep, :before, :after, :total, CAST(:report AS jsonb),
    ST_Multi(ST_GeomFromEWKB(decode(:rem, 'hex'))), ST_Multi(ST_GeomFromEWKB(decode(:add, 'hex'))),
    :doc_key, :request_id)
RETURNING id
"""

#: one transfer of balance to the recording county
_INSERT_TRANSFER_SQL = """
INSERT INTO quota_transfers (adjustment_id, from_county, to_county, mu, approval_doc, recorded_by)
VALUES (:adj, :src, :dst, :mu, :doc, :user)
"""

#: the removed part leaves level 1: the lines it touches are closed and re-issued without it
_REMOVE_SQL = """
WITH touched AS (
    UPDATE block_lines b SET valid_to = now()
    WHERE b.valid_to IS NULL AND b.level = 1 AND b.county_code = :county
      AND ST_Intersects(b.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))
      AND ST_Area(ST_Intersection(b.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))) > 0
    RETURNING b.*)
INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                         valid_from, geom)
SELECT level, county_code, name, :doc, 'adjustment', :adj, :user, now(), g
FROM (SELECT t.*, ST_Multi(ST_CollectionExtract(ST_MakeValid(
          ST_Difference(t.geom, ST_GeomFromEWKB(decode(:rem, 'hex')))), 3)) AS g FROM touched t) x
WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0.01
"""

#: the new land leaves level 2 where it was level 2 (the lines never overlap)
_LEAVE_LEVEL2_SQL = """
WITH touched AS (
    UPDATE block_lines b SET valid_to = now()
    WHERE b.valid_to IS NULL AND b.level = 2
      AND ST_Area(ST_Intersection(b.geom, ST_GeomFromEWKB(decode(:rep, 'hex')))) > 0
    RETURNING b.*)
INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                         valid_from, geom)
SELECT level, county_code, name, approval_doc, 'adjustment', :adj, :user, now(), g
FROM (SELECT t.*, ST_Multi(ST_CollectionExtract(ST_MakeValid(
          ST_Difference(t.geom, ST_GeomFromEWKB(decode(:rep, 'hex')))), 3)) AS g FROM touched t) x
WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0.01
"""

#: the new land joins level 1
_ADD_SQL = """
INSERT INTO block_lines (level, county_code, name, approval_doc, source, adjustment_id, created_by,
                         valid_from, geom)
VALUES (1, :county, '补划 ' || :doc, :doc, 'adjustment', :adj, :user, now(),
        ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(decode(:rep, 'hex'))), 3)))
"""


@dataclass(frozen=True)
class _Request:
    """One recording as asked, with its idempotency key and the digest of its content."""

    county: str
    removal: Any
    addition: Any
    approval_doc: str
    reason: str | None
    transfers: Sequence[Transfer]
    user: str | Actor
    profile: Profile
    request_id: str
    digest: str
    on_checked: Callable[[], None] | None


def record_adjustment(
    engine: Engine,
    *,
    county: str,
    removal: Any = None,
    addition: Any = None,
    approval_doc: str,
    reason: str | None = None,
    transfers: Sequence[Transfer] = (),
    user: str | Actor,
    profile: Profile,
    request_id: str | None = None,
    retries: int = 5,
    on_checked: Callable[[], None] | None = None,
) -> tuple[int, BalanceCheck]:
    """Record an approved adjustment: ledger entry, transfers and the new block lines, all or nothing, once.

    Refused (``Unbalanced``, nothing written) when the county's balance after the adjustment plus the named
    transfers is below zero, or when a transfer would take the giving county below zero; refused
    (``InputError``) when it changes nothing, or when its approval document is already recorded by
    another request.

    ``request_id`` is the idempotency key (default: ``request_key`` of the request's content). When an
    entry with this key exists, nothing is written and the first result is returned, with
    ``check.replayed`` true.

    ``on_checked`` is called inside the transaction once the balance has been read and before anything is
    written (tests use it to make two recordings overlap).

    Returns
    -------
    (adjustment id, the check it was recorded on)

    Raises
    ------
    OutcomeUnknown
        When the connection was lost after COMMIT was sent: run the same request again (it records
        nothing if the first one was recorded), or look in the ledger.
    """
    digest = _checked_digest(
        county=county, approval_doc=approval_doc, transfers=transfers, removal=removal, addition=addition
    )
    if request_id is not None and not (0 < len(request_id.strip()) <= 200):
        raise InputError(
            "请求标识须为 1–200 个字符", "the request id must be 1 to 200 characters", **fix("request_id")
        )
    key = request_id.strip() if request_id is not None else digest
    request = _Request(
        county, removal, addition, approval_doc, reason, transfers, user, profile, key, digest, on_checked
    )
    for attempt in range(retries):
        try:
            return _commit_once(
                engine, lambda conn: _record(conn, request), approval_doc=approval_doc, request_id=key
            )
        except sa.exc.DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state not in SERIALIZATION_FAILURES and state != _UNIQUE_VIOLATION:
                raise
            if attempt == retries - 1:
                raise DatabaseUnavailable(
                    "其他用户正在同时记录调整，多次重试仍冲突；未写入任何数据",
                    "other users are recording adjustments at the same moment; retries kept conflicting; "
                    "nothing was written",
                    fix_zh="稍后重新记录",
                    fix_en="record it again in a moment",
                ) from exc
            # another recording won (or the same request, or the same document, was recorded meanwhile):
            # check again against what it wrote
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _checked_digest(
    *, county: str, approval_doc: str, transfers: Sequence[Transfer], removal: Any, addition: Any
) -> str:
    """The request's ``request_key``, once its document and transfers are checked (``InputError``)."""
    if not approval_doc or not normalise_doc(approval_doc):
        raise InputError("须填写批复文号", "the approval document number is required", **fix("doc"))
    for t in transfers:
        if t.from_county == county:
            raise InputError(
                "指标不能从本县调给本县",
                "a transfer cannot come from the county itself",
                **fix("transfer_check"),
            )
    return request_key(
        county=county,
        approval_doc=approval_doc,
        transfers=transfers,
        removal_hex=geometry_param(removal, 0, what="调出范围/removal"),
        addition_hex=geometry_param(addition, 0, what="补入范围/addition"),
    )


_UNIQUE_VIOLATION = "23505"


def _commit_once(
    engine: Engine,
    work: Callable[[Connection], tuple[int, BalanceCheck]],
    *,
    approval_doc: str,
    request_id: str,
) -> tuple[int, BalanceCheck]:
    """Run ``work`` in one SERIALIZABLE transaction of the store, naming the ledger when its commit is lost.

    A failure before COMMIT is sent rolls everything back (``DatabaseUnavailable``); a conflict the server
    reports is raised as it is (the caller retries); a connection lost once COMMIT was sent leaves the
    outcome unknown (``OutcomeUnknown``, with the ledger query and the request id that tell which).
    """
    try:
        with transaction(engine, serializable=True) as conn:
            return work(conn)
    except errors.OutcomeUnknown as exc:
        raise _outcome_unknown(
            exc.__cause__ or exc, approval_doc=approval_doc, request_id=request_id
        ) from exc


def _outcome_unknown(exc: BaseException, *, approval_doc: str, request_id: str) -> OutcomeUnknown:
    doc = approval_doc.strip()
    return OutcomeUnknown(
        f"提交（COMMIT）已发出后数据库连接中断，结果未知——台账会显示是否已记录：blockline balance ledger --doc '{doc}'"
        f"（请求标识 {request_id}）：{first_line(exc)}",
        f"the database connection was lost after COMMIT was sent; the outcome is unknown — the ledger shows "
        f"whether it was recorded: blockline balance ledger --doc '{doc}' (request id {request_id}): "
        f"{first_line(exc)}",
        **fix("outcome_unknown"),
    )


_EXISTING_SQL = """
SELECT j.id, j.county_code, a.name AS county_name, j.approval_doc, j.recorded_by, j.request_id, j.report,
       to_char(j.recorded_at AT TIME ZONE :zone, 'YYYY-MM-DD HH24:MI') AS recorded_at
FROM adjustments j JOIN admin_areas a ON a.code = j.county_code
WHERE j.{column} = :value
"""


def _existing(conn: Connection, column: str, value: str) -> sa.RowMapping | None:
    zone = get_settings().timezone  # the office's clock, as geo.clock shows every other timestamp
    return (
        conn.execute(sa.text(_EXISTING_SQL.format(column=column)), {"value": value, "zone": zone})
        .mappings()
        .first()
    )


def _replay(entry: sa.RowMapping, *, request_id: str, digest: str) -> tuple[int, BalanceCheck]:
    """The first result of a request recorded before; refused when the key was used for another request."""
    report = dict(entry["report"])
    if report.get("request_digest") not in (None, digest):
        raise InputError(
            f"请求标识 {request_id} 已用于调整 #{entry['id']}（{entry['approval_doc']}），"
            "而本次请求的内容不同；未写入任何数据",
            f"request id {request_id} was used for adjustment #{entry['id']} ({entry['approval_doc']}) with "
            "different content; nothing was written",
            **fix("request_id_reused"),
        )
    check = BalanceCheck.from_report(report)
    check.request_id, check.replayed = request_id, True
    return int(entry["id"]), check


def _refuse_recorded_doc(entry: sa.RowMapping, approval_doc: str) -> InputError:
    """The refusal of a document already recorded, naming the entry that holds it."""
    held = entry["approval_doc"]
    return InputError(
        f"批复文号“{approval_doc.strip()}”已记录为调整 #{entry['id']}（“{held}”，{entry['county_code']} "
        f"{entry['county_name']}，{entry['recorded_at']}，{entry['recorded_by']}），同一批复文号只能记录一次；未写入任何数据",
        f"approval document '{approval_doc.strip()}' is already recorded as adjustment #{entry['id']} ('{held}', "
        f"{entry['county_code']}, {entry['recorded_at']}, by {entry['recorded_by']}); a document is recorded "
        "once; nothing was written",
        **fix("recorded_doc", held=held),
    )


def _refuse_no_change(check: BalanceCheck) -> InputError:
    why = [
        w["message"]
        for w in check.warnings
        if w["code"] in ("outside_county", "already_level1", "removal_outside_level1")
    ]
    return InputError(
        f"该调整既不占用也不补充 {check.county} 的一级线（占用 {check.occupied_mu:.2f} 亩、补充 "
        f"{check.replaced_mu:.2f} 亩），记录它不会改变任何东西；未写入任何数据",
        f"the adjustment takes nothing out of and adds nothing to county {check.county}'s level 1 "
        f"({check.occupied_mu:.2f} mu occupied, {check.replaced_mu:.2f} mu replaced): recording it would change "
        "nothing; nothing was written" + ("".join(f"\n  {m}" for m in why)),
        **fix("county_files"),
    )


def _record(conn: Connection, req: _Request) -> tuple[int, BalanceCheck]:
    """One attempt at recording ``req`` in the transaction of ``conn``, refusing in the order an approver reads."""
    # Only an approver of the county, and of every county a transfer draws on, may record (WZ: 审批).
    counties = [req.county, *(t.from_county for t in req.transfers)]
    user = authorize(conn, req.user, "approver", counties=counties).name
    done = _existing(conn, "request_id", req.request_id)
    if done is not None:
        return _replay(done, request_id=req.request_id, digest=req.digest)
    holder = _existing(conn, "approval_doc_key", normalise_doc(req.approval_doc))
    if holder is not None:
        raise _refuse_recorded_doc(holder, req.approval_doc)
    check = check_on(conn, county=req.county, removal=req.removal, addition=req.addition, profile=req.profile)
    if check.occupied_mu < EPSILON_MU and check.replaced_mu < EPSILON_MU:
        raise _refuse_no_change(check)
    check.request_id = req.request_id
    incoming = _funded(conn, req, check)
    if req.on_checked is not None:
        req.on_checked()
    srid = storage_srid(conn)
    rem = geometry_param(req.removal, srid, what="removal")
    add = geometry_param(req.addition, srid, what="addition")
    adjustment_id = _write_entry(conn, req, check, user=user, incoming=incoming, rem=rem, add=add)
    _write_lines(conn, req, check, adjustment_id=adjustment_id, user=user, rem=rem)
    return adjustment_id, check


def _funded(conn: Connection, req: _Request, check: BalanceCheck) -> float:
    """The 亩 the transfers bring; ``Unbalanced`` when a giver or the county itself would fall below zero."""
    balances = standing_balances(conn)
    incoming = sum(t.mu for t in req.transfers)
    for t in req.transfers:
        if t.from_county not in balances:
            raise InputError(
                f"没有县级行政区 {t.from_county}", f"no county {t.from_county}", **fix("transfer_check")
            )
    given: dict[str, float] = {}
    for t in req.transfers:
        given[t.from_county] = given.get(t.from_county, 0.0) + t.mu
    for code, mu in given.items():
        if balances[code] - mu < -EPSILON_MU:
            raise Unbalanced(
                f"{code} 的余额只有 {balances[code]:.2f} 亩，不能调出 {mu:.2f} 亩；未写入任何数据",
                f"county {code} has a balance of {balances[code]:.2f} mu and cannot give {mu:.2f} mu; "
                "nothing was written",
                fix_zh="减少调出数量或改由其他有结余的县调剂",
                fix_en="transfer less, or from a county with a surplus",
            )
    if check.balance_after_mu + incoming < -EPSILON_MU:
        short = -(check.balance_after_mu + incoming)
        raise Unbalanced(
            f"{req.county} 调整后余额 {check.balance_after_mu:.2f} 亩，加上调入 {incoming:.2f} 亩仍差 {short:.2f} 亩，"
            f"不满足占一补一（{req.profile.cite('balance.occupy_replace')}）；未写入任何数据",
            f"county {req.county}: balance after {check.balance_after_mu:.2f} mu plus transfers {incoming:.2f} mu "
            f"is still {short:.2f} mu short of occupy-one-replace-one; nothing was written",
            **fix("transfer"),
        )
    return incoming


def _write_entry(
    conn: Connection,
    req: _Request,
    check: BalanceCheck,
    *,
    user: str,
    incoming: float,
    rem: str | None,
    add: str | None,
) -> int:
    """The ledger entry, its transfers and its audit record; the entry's id."""
    doc = req.approval_doc.strip()
    adjustment_id = int(
        conn.execute(
            sa.text(_INSERT_ADJUSTMENT_SQL),
            {
                "county": req.county,
                "policy": req.profile.name,
                "doc": doc,
                "reason": req.reason,
                "user": user,
                "occ": check.occupied_mu,
                "rep": check.replaced_mu,
                "before": check.standing_balance_mu,
                "after": check.balance_after_mu + incoming,
                "total": check.city_level1_after_mu,
                "report": json.dumps(
                    {**check.as_dict(), "request_id": req.request_id, "request_digest": req.digest},
                    ensure_ascii=False,
                ),
                "rem": rem,
                "add": add,
                "doc_key": normalise_doc(req.approval_doc),
                "request_id": req.request_id,
            },
        ).scalar_one()
    )
    for t in req.transfers:
        conn.execute(
            sa.text(_INSERT_TRANSFER_SQL),
            {
                "adj": adjustment_id,
                "src": t.from_county,
                "dst": req.county,
                "mu": t.mu,
                "doc": doc,
                "user": user,
            },
        )
    record(
        conn,
        actor=user,
        action="adjustment.record",
        target=f"adjustment {adjustment_id} ({req.county})",
        approval_doc=doc,
        before={"balance_mu": check.standing_balance_mu, "city_level1_mu": check.city_level1_before_mu},
        after={
            "occupied_mu": check.occupied_mu,
            "replaced_mu": check.replaced_mu,
            "balance_mu": check.balance_after_mu + incoming,
            "city_level1_mu": check.city_level1_after_mu,
            "transfers": [{"from": t.from_county, "mu": t.mu} for t in req.transfers],
            "policy": req.profile.name,
            "request_id": req.request_id,
        },
    )
    return adjustment_id


def _write_lines(
    conn: Connection, req: _Request, check: BalanceCheck, *, adjustment_id: int, user: str, rem: str | None
) -> None:
    """The block lines after the adjustment: the removal leaves level 1, the new land joins it."""
    params = {
        "county": req.county,
        "adj": adjustment_id,
        "user": user,
        "doc": req.approval_doc.strip(),
        "rem": rem,
        "rep": check.replaced_wkb.hex() if check.replaced_wkb else None,
    }
    if rem is not None and check.occupied_mu > 0:
        conn.execute(sa.text(_REMOVE_SQL), params)
    if params["rep"] is not None and check.replaced_mu > 0:
        conn.execute(sa.text(_LEAVE_LEVEL2_SQL), params)
        conn.execute(sa.text(_ADD_SQL), params)
