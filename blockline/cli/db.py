"""``blockline db``: the embedded database (up, down, status, reset), roles, dump and restore."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from blockline.cli._shared import Fmt, FmtOpt, engine, err, handled, out, print_json, settings
from geo.errors import BlocklineError, DatabaseUnavailable, InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geo.store import EmbeddedCluster

__all__ = ["db_app"]

db_app = typer.Typer(no_args_is_help=True, help="内置数据库 / the embedded database")


def _cluster() -> EmbeddedCluster | None:
    """The embedded cluster, or None when the store is given by URL."""
    # lazy: geo.store imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.store import cluster_for

    given = settings()
    if not given.embedded:
        return None
    return cluster_for(given)


def _owner_engine() -> Engine:
    """The store as the schema's owner (dump, restore), migrated; disposed by the caller."""
    # lazy: sqlalchemy: +0.1 s (CPU) on blockline --help
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool  # lazy: with sqlalchemy above

    from geo.store import owner_database_url  # lazy: with sqlalchemy above

    return sa.create_engine(owner_database_url(settings()), poolclass=NullPool)


@db_app.command("up")
@handled
def db_up() -> None:
    """启动内置数据库并升级结构 / start the embedded database and migrate it."""
    cluster = _cluster()
    if cluster is not None:
        started = cluster.start()
        err.print(
            ("已启动 / started" if started else "已在运行 / already running") + f": {cluster.socket_dir}"
        )
    engine(prove=False)
    err.print("数据库就绪 / database ready")


@db_app.command("down")
@handled
def db_down() -> None:
    """停止内置数据库 / stop the embedded database."""
    cluster = _cluster()
    if cluster is None:
        err.print("使用外部数据库（BLOCKLINE_DATABASE_URL），无需停止 / external database: nothing to stop")
        return
    err.print("已停止 / stopped" if cluster.stop() else "未在运行 / not running")


@db_app.command("status")
@handled
def db_status(fmt: FmtOpt = Fmt.table) -> None:
    """数据库状态 / where the data lives and whether it runs."""
    # lazy: geo.queries imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from geo.queries import store_counts
    from geo.store import safe_url  # lazy: with geo.queries above

    cluster = _cluster()
    info: dict[str, Any] = {"embedded": cluster is not None}
    if cluster is not None:
        info.update(cluster.status().as_dict())
        if info["running"]:
            info["counts"] = store_counts(engine(prove=False))
    else:
        info["url"] = safe_url(settings().database_url or "")
        info["counts"] = store_counts(engine(prove=False))
    if fmt == Fmt.json:
        print_json(info)
    else:
        for k, v in info.items():
            out.print(f"{k}: {v}", highlight=False)


@db_app.command("reset")
@handled
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="确认删除全部数据 / confirm")] = False,
    discard_audit: Annotated[
        bool,
        typer.Option(
            "--discard-audit", help="确认连同审计记录一并删除 / confirm that the audit trail goes too"
        ),
    ] = False,
) -> None:
    """删除内置数据库的全部数据并重建（需管理员）/ delete all data of the embedded database (admins only)."""
    # lazy: geo.store imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.store import close_store

    if not yes:
        err.print("这会删除全部数据；确认请加 --yes / this deletes all data; add --yes to confirm")
        raise typer.Exit(2)
    cluster = _cluster()
    if cluster is None:
        err.print("不会重置外部数据库 / will not reset an external database (BLOCKLINE_DATABASE_URL)")
        raise typer.Exit(2)
    audit_rows = _audit_rows_for_reset(discard_audit)
    if audit_rows and not discard_audit:
        raise InputError(
            f"审计记录中有 {audit_rows} 条，重置会将其删除",
            f"the audit trail holds {audit_rows} rows; a reset deletes them",
            file=str(cluster.home),
            fix_zh="先用 blockline db dump 备份；确认删除请加 --yes --discard-audit",
            fix_en="back it up with blockline db dump first; to delete it, add --yes --discard-audit",
        )
    close_store(settings())
    cluster.reset()
    cluster.start()
    engine(prove=False)
    err.print("已重置 / reset")


def _audit_rows_for_reset(discard_audit: bool) -> int:
    """The audit trail's length, once the acting user is shown to be an admin (anyone in setup mode).

    A store that cannot be opened is reset only when told to discard its audit trail, unseen.
    """
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import NotPermitted, authorize

    try:
        store = engine()
        with store.connect() as conn:
            authorize(conn, settings().user, "admin")
            return int(conn.exec_driver_sql("SELECT count(*) FROM audit").scalar_one())
    except NotPermitted:
        raise
    except (BlocklineError, DatabaseUnavailable) as exc:
        if not discard_audit:
            raise InputError(
                "无法打开数据库，无法确认审计记录与管理员身份",
                "the store cannot be opened to check its audit trail and the admin role",
                fix_zh="修复后重试；确认连同审计记录删除请加 --yes --discard-audit",
                fix_en="repair it and retry; to delete it anyway with its audit trail, add --yes --discard-audit",
            ) from exc
        return 0


@db_app.command("check-roles")
@handled
def db_check_roles(fmt: FmtOpt = Fmt.table) -> None:
    """检查应用所用数据库角色的权限（只读与追加审计）/ check the app's database role: read and append, never rewrite."""
    # lazy: geo.store imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.store import role_problems, safe_url

    store = engine(prove=False)
    with store.connect() as conn:
        role = conn.exec_driver_sql("SELECT current_user").scalar_one()
        problems = role_problems(conn)
    if fmt == Fmt.json:
        print_json(
            {
                "url": safe_url(str(store.url.render_as_string(hide_password=False))),
                "role": role,
                "ok": not problems,
                "problems": problems,
            }
        )
    elif not problems:
        out.print(
            f"角色 {role} 权限正确 / role {role} is right: reads and appends, owns nothing", highlight=False
        )
    for p in problems if fmt != Fmt.json else []:
        out.print(
            f"角色 {role} {p['zh']}：{p['objects']} / role {role} {p['en']}: {p['objects']}", highlight=False
        )
    if problems:
        raise typer.Exit(1)


@db_app.command("dump")
@handled
def db_dump(
    file: Annotated[Path, typer.Argument(help="输出文件 / the dump file (PostgreSQL custom format)")],
) -> None:
    """导出整个数据库（含审计记录）与签名清单 / dump the whole store, audit trail included, with a signed manifest."""
    # lazy: geo.backup imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.backup import dump, dump_key, manifest_path

    given = settings()
    engine()
    key = dump_key(secret=given.dump_key, home=given.home if given.embedded else None, create=True)
    owner = _owner_engine()
    try:
        size = dump(owner, file, key=key)
    finally:
        owner.dispose()
    err.print(
        f"已导出 / dumped: {file} ({size:,} bytes), 清单 / manifest: {manifest_path(file)}"
        + ("" if key else "；未签名（无 BLOCKLINE_DUMP_KEY）/ unsigned (no BLOCKLINE_DUMP_KEY)")
    )


@db_app.command("restore")
@handled
def db_restore(
    file: Annotated[Path, typer.Argument(help="blockline db dump 写出的文件 / a dump")],
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file", help="导出该文件的数据库的 dump.key / the dump.key of the store that made it"
        ),
    ] = None,
) -> None:
    """恢复到空数据库（只接受 blockline 导出且签名相符的文件）/ restore a dump blockline made into an empty store."""
    # lazy: geo.backup imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.backup import dump_key, restore, verify_dump
    from geo.queries import store_counts  # lazy: geo.queries imports geopandas: +0.4 s (CPU)

    given = settings()
    key = dump_key(secret=given.dump_key, key_file=key_file, home=given.home if given.embedded else None)
    verify_dump(file, key=key)  # before the store is even opened
    store = engine()
    store.dispose()
    owner = _owner_engine()
    try:
        app_role = store.url.username
        restore(owner, file, key=key, app_role=app_role if app_role != owner.url.username else None)
    finally:
        owner.dispose()
    err.print(f"已恢复 / restored: {store_counts(store)}")
