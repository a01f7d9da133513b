"""Dump and restore the store with PostgreSQL's own tools (``pg_dump -Fc`` / ``pg_restore``).

A dump is PostgreSQL's custom format: compressed, complete (schema, data, the audit trail and its
triggers) and restorable into any PostgreSQL with PostGIS. Restoring goes into an *empty* store only (a
fresh ``BLOCKLINE_HOME`` or an empty database): it never overwrites a store that holds data, so a restore
cannot silently replace the city's records.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from geo.cluster import find_bindir
from geo.errors import BlocklineError, InputError

__all__ = ["dump", "libpq_url", "restore"]

_MAGIC = b"PGDMP"  # the first bytes of a custom-format dump


def libpq_url(engine: Engine) -> str:
    """The engine's database as a libpq connection string (what pg_dump and pg_restore take)."""
    url = make_url(str(engine.url.render_as_string(hide_password=False))).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(args: list[str], *, what_zh: str, what_en: str, file: Path) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BlocklineError(f"{what_zh}失败：{' '.join(tail)}", f"{what_en} failed: {' '.join(tail)}", file=str(file),
                             fix_zh="检查文件路径、磁盘空间与数据库状态（blockline db status）",
                             fix_en="check the path, the free disk space and the database (blockline db status)")


def dump(engine: Engine, path: Path) -> int:
    """Write the whole store to ``path`` (custom format); returns its size in bytes."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError(f"目录不存在：{path.parent}", f"no such folder: {path.parent}", file=str(path),
                         fix_zh="先建立目录", fix_en="create the folder first")
    tmp = path.with_name(path.name + ".part")
    _run([str(find_bindir() / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}",
          libpq_url(engine)], what_zh="导出", what_en="the dump", file=path)
    tmp.replace(path)  # a dump that failed half-way never takes the name of a good one
    return path.stat().st_size


def restore(engine: Engine, path: Path) -> None:
    """Restore a dump into this store, which must hold no data; all or nothing (one transaction)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到文件：{path}", f"no such file: {path}", file=str(path), fix_zh="检查路径",
                         fix_en="check the path")
    with path.open("rb") as f:
        if f.read(5) != _MAGIC:
            raise InputError("不是 blockline db dump 导出的文件（PostgreSQL 自定义格式）",
                             "not a file written by blockline db dump (PostgreSQL custom format)", file=str(path),
                             fix_zh="用 blockline db dump 导出的文件", fix_en="use a file written by blockline db dump")
    with engine.connect() as conn:
        held = conn.execute(sa.text("""SELECT (SELECT count(*) FROM loads) + (SELECT count(*) FROM adjustments)
                                              + (SELECT count(*) FROM admin_areas) + (SELECT count(*) FROM audit)""")).scalar_one()
    if held:
        raise InputError("目标数据库已有数据，拒绝覆盖", "the target store already holds data; it will not be overwritten",
                         file=str(path), fix_zh="恢复到新的 BLOCKLINE_HOME 或空数据库",
                         fix_en="restore into a new BLOCKLINE_HOME or an empty database")
    engine.dispose()  # the migrated empty schema is replaced by the dump's own
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    _run([str(find_bindir() / "pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={libpq_url(engine)}", str(path)],
         what_zh="恢复", what_en="the restore", file=path)
    engine.dispose()
