"""``blockline user`` and ``blockline audit``: the built-in users and roles, and the append-only audit trail."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from blockline.cli._shared import Fmt, FmtOpt, OutOpt, emit, engine, err, handled, out, print_json, settings
from geo.errors import InputError

__all__ = ["audit_app", "user_app"]

user_app = typer.Typer(no_args_is_help=True, help="用户与角色 / users and roles (the built-in user store)")
audit_app = typer.Typer(help="审计记录（只增不改）/ the audit trail (append-only)")


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
@handled
def user_add(
    name: str,
    role: Annotated[
        list[str], typer.Option("--role", help="viewer|planner|approver|data_officer|admin（可多次）")
    ],
    county: Annotated[list[str], typer.Option("--county", help="限定区县（可多次）/ limit to counties")] = [],  # noqa: B006
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读密码 / read it from stdin")
    ] = False,
) -> None:
    """新增用户（第一个用户可由任何人建立，之后仅限管理员）/ add a user (the first by anyone, then admins only)."""
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import add_user

    add_user(
        engine(),
        name,
        _password(password_stdin),
        roles=role,
        counties=county,
        display_name=display_name,
        by=settings().user,
    )
    err.print(f"已添加 / added: {name}")


@user_app.command("list")
@handled
def user_list(fmt: FmtOpt = Fmt.table) -> None:
    """列出用户（不含密码）/ list users (no hashes)."""
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import list_users

    frame = list_users(engine())
    emit(frame, fmt=fmt, output=None, json_body=lambda: frame.to_dict("records"), title="用户 / users")


@user_app.command("disable")
@handled
def user_disable(
    name: str, enable: Annotated[bool, typer.Option("--enable", help="重新启用 / enable again")] = False
) -> None:
    """停用（或重新启用）用户 / disable (or enable again) a user."""
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import disable_user

    disable_user(engine(), name, by=settings().user, disabled=not enable)
    err.print(f"{'已启用 / enabled' if enable else '已停用 / disabled'}: {name}")


@user_app.command("unlock")
@handled
def user_unlock(name: str) -> None:
    """解除因多次登录失败而锁定的用户（管理员）/ unlock a name locked by failed sign-ins (admins)."""
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import unlock_user

    forgotten = unlock_user(engine(), name, by=settings().user)
    err.print(
        f"已解锁 / unlocked: {name}（清除 {forgotten} 次失败记录 / {forgotten} failed sign-ins forgotten）"
    )


@user_app.command("passwd")
@handled
def user_passwd(name: str, password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False) -> None:
    """修改密码（本人或管理员）/ change a password (the user or an admin)."""
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import set_password

    set_password(engine(), name, _password(password_stdin), by=settings().user)
    err.print(f"已修改 / changed: {name}")


@audit_app.callback(invoke_without_command=True)
@handled
def audit_cmd(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="YYYY-MM-DD")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="前缀，如 load. / a prefix, e.g. load.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit")] = 1000,
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
) -> None:
    """审计记录（只增不改）/ the audit trail (append-only), newest first."""
    if ctx.invoked_subcommand is not None:
        return
    # lazy: geo.audit imports sqlalchemy and pandas: +0.4 s (CPU) on blockline --help
    from geo.audit import as_records, as_text, read_audit

    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise InputError(
            f"日期无效：{since}", f"not a date: {since}", fix_zh="YYYY-MM-DD", fix_en="YYYY-MM-DD"
        ) from None
    frame = read_audit(engine(), since=day, actor=actor, action=action, limit=limit)
    emit(
        as_text(frame),
        fmt=fmt,
        output=output,
        json_body=lambda: as_records(frame),
        title="审计 / audit",
        layer="audit",
    )


@audit_app.command("verify")
@handled
def audit_verify(fmt: FmtOpt = Fmt.table) -> None:
    """核对审计记录的哈希链，指出第一条被改动的记录 / check the audit trail's hash chain (exit 1 when broken)."""
    # lazy: geo.audit imports sqlalchemy and pandas: +0.4 s (CPU) on blockline --help
    from geo.audit import verify_chain

    check = verify_chain(engine())
    if fmt == Fmt.json:
        print_json(check.as_dict())
    elif check.intact:
        out.print(
            f"审计链完整：{check.rows} 条，链头 #{check.head_seq} {check.head_hash} / the audit chain is intact: "
            f"{check.rows} rows, head #{check.head_seq} {check.head_hash}",
            highlight=False,
        )
    else:
        out.print(
            f"审计链断裂于第 {check.broken_seq} 条（审计记录 {check.broken_id}）：{check.reason_zh}\n"
            f"the audit chain breaks at entry {check.broken_seq} (audit row {check.broken_id}): {check.reason_en}",
            highlight=False,
        )
    if not check.intact:
        raise typer.Exit(1)
