"""Dump and restore the store with PostgreSQL's own tools (``pg_dump -Fc`` / ``pg_restore``).

A dump is PostgreSQL's custom format: compressed, complete (schema, data, the audit trail and its
triggers) and restorable into any PostgreSQL with PostGIS. Restoring goes into an *empty* store only (a
fresh ``BLOCKLINE_HOME`` or an empty database): it never overwrites a store that holds data, so a restore
cannot silently replace the city's records.

**A dump is code.** It holds functions and triggers that run inside the database when it is restored and
used (a crafted dump once ran a shell command through a CHECK constraint). So ``dump`` writes a manifest
next to the dump (``FILE.manifest.json``): its size and sha256, the schema revision, and an HMAC-SHA256 of
all of these under a secret key (``BLOCKLINE_DUMP_KEY``, or the embedded store's ``dump.key``, made at the
first dump). ``restore`` checks the manifest before anything runs and refuses a dump without one, altered
since, or signed with another key; then it restores as the schema's owner, never as a superuser, leaving out
what only a superuser could do (the PostGIS extension, which the target already has).

The checksum shows that the file is the one the manifest describes (no accident, no edit that did not also
rewrite the manifest). The MAC shows that whoever wrote the manifest held the key: this installation's
blockline, or anyone who can read the key (on the embedded store, the operating-system user that runs it).
Neither shows that the content is what the store held, nor protects against a holder of the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from geo.cluster import find_bindir
from geo.errors import BlocklineError, InputError
from geo.store import grant_sql, schema_revision

__all__ = ["dump", "dump_key", "libpq_url", "manifest_path", "restore", "verify_dump"]

_MAGIC = b"PGDMP"  # the first bytes of a custom-format dump


def libpq_url(engine: Engine) -> str:
    """The engine's database as a libpq connection string (what pg_dump and pg_restore take)."""
    url = make_url(str(engine.url.render_as_string(hide_password=False))).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(args: list[str], *, what_zh: str, what_en: str, file: Path) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BlocklineError(
            f"{what_zh}失败：{' '.join(tail)}",
            f"{what_en} failed: {' '.join(tail)}",
            file=str(file),
            fix_zh="检查文件路径、磁盘空间与数据库状态（blockline db status）",
            fix_en="check the path, the free disk space and the database (blockline db status)",
        )


def manifest_path(path: Path) -> Path:
    """Where the manifest of the dump ``path`` is written: ``FILE.manifest.json`` next to it."""
    return Path(path).with_name(Path(path).name + ".manifest.json")


def dump_key(
    *, secret: str | None = None, key_file: Path | None = None, home: Path | None = None, create: bool = False
) -> bytes | None:
    """The key that signs dumps; None when there is none.

    ``secret`` (``BLOCKLINE_DUMP_KEY``), else ``key_file``, else ``home``'s ``dump.key`` (made, readable by its
    owner only, when ``create``).
    """
    if secret:
        return secret.encode("utf-8")
    if key_file is not None:
        try:
            return Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(
                f"无法读取密钥文件：{exc}",
                f"cannot read the key file: {exc}",
                file=str(key_file),
                fix_zh="给出导出该文件的数据库目录中的 dump.key",
                fix_en="give the dump.key of the store that made the dump",
            ) from exc
    if home is None:
        return None
    path = Path(home) / "dump.key"
    if not path.exists() and create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip() if path.exists() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mac(key: bytes, fields: dict[str, object]) -> str:
    body = json.dumps({k: v for k, v in fields.items() if k != "mac"}, sort_keys=True, ensure_ascii=False)
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def dump(engine: Engine, path: Path, *, key: bytes | None = None) -> int:
    """Write the whole store to ``path`` (custom format) and its manifest (signed with ``key`` when given).

    Returns the dump's size in bytes. ``engine`` connects as the schema's owner.
    """
    path = Path(path)
    if not path.parent.exists():
        raise InputError(
            f"目录不存在：{path.parent}",
            f"no such folder: {path.parent}",
            file=str(path),
            fix_zh="先建立目录",
            fix_en="create the folder first",
        )
    tmp = path.with_name(path.name + ".part")
    _run(
        [
            str(find_bindir() / "pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={tmp}",
            libpq_url(engine),
        ],
        what_zh="导出",
        what_en="the dump",
        file=path,
    )
    with engine.connect() as conn:
        revision = schema_revision(conn)
    fields: dict[str, object] = {
        "made_by": "blockline db dump",
        "format": 1,
        "file": path.name,
        "bytes": tmp.stat().st_size,
        "sha256": _sha256(tmp),
        "schema_revision": revision,
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    fields["mac"] = _mac(key, fields) if key else None
    manifest_path(path).write_text(json.dumps(fields, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a dump that failed half-way never takes the name of a good one
    return path.stat().st_size


def _refuse(path: Path, zh: str, en: str) -> InputError:
    return InputError(
        f"拒绝恢复：{zh}",
        f"restore refused: {en}",
        file=str(path),
        fix_zh="只恢复 blockline db dump 导出且未被改动的文件；密钥见 BLOCKLINE_DUMP_KEY 或 --key-file",
        fix_en="restore only a file written by blockline db dump and not altered since; "
        "give its key with BLOCKLINE_DUMP_KEY or --key-file",
    )


def verify_dump(path: Path, *, key: bytes | None) -> dict[str, object]:
    """The dump's manifest, once the dump is shown to be the one it describes and signed with ``key``.

    Raises
    ------
    InputError
        No such file, no manifest, a checksum or size that does not match, no key, or another key's MAC.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"找不到文件：{path}",
            f"no such file: {path}",
            file=str(path),
            fix_zh="检查路径",
            fix_en="check the path",
        )
    try:
        manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _refuse(
            path,
            f"没有可读的清单 {manifest_path(path).name}（不是 blockline db dump 导出的）",
            f"no readable manifest {manifest_path(path).name} (not written by blockline db dump)",
        ) from None
    if not isinstance(manifest, dict) or manifest.get("made_by") != "blockline db dump":
        raise _refuse(
            path, "清单不是 blockline db dump 写的", "the manifest was not written by blockline db dump"
        )
    with path.open("rb") as f:
        if f.read(5) != _MAGIC:
            raise _refuse(path, "不是 PostgreSQL 自定义格式", "not PostgreSQL's custom format")
    if manifest.get("bytes") != path.stat().st_size or manifest.get("sha256") != _sha256(path):
        raise _refuse(
            path,
            "文件与清单的校验和不符（导出后被改动）",
            "the file does not match its manifest's checksum (altered since the dump)",
        )
    if key is None:
        raise _refuse(path, "没有密钥，无法确认导出者", "no key to check who made it")
    if not isinstance(manifest.get("mac"), str) or not hmac.compare_digest(
        manifest["mac"], _mac(key, manifest)
    ):
        raise _refuse(
            path,
            "清单的签名（MAC）与密钥不符：不是用此密钥导出的，或清单被改动",
            "the manifest's MAC does not match the key: made with another key, or the manifest was altered",
        )
    return manifest


#: entries of a dump the owner role may not (and need not) restore: PostGIS is the target's own
_LEAVE_OUT = (
    " EXTENSION ",
    " COMMENT - EXTENSION ",
    " SCHEMA - public ",
    " COMMENT - SCHEMA public ",
    " TABLE DATA public spatial_ref_sys ",
    " ACL ",
    " DEFAULT ACL ",
)


def _restore_list(path: Path, folder: Path) -> Path:
    """The dump's table of contents without what only a superuser may restore (``pg_restore -l``/``-L``)."""
    proc = subprocess.run(
        [str(find_bindir() / "pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise _refuse(path, "无法读取其目录", "its table of contents cannot be read")
    keep = [
        ln
        for ln in proc.stdout.splitlines()
        if ln.startswith(";") or not any(part in f" {ln} " for part in _LEAVE_OUT)
    ]
    listing = folder / (path.name + ".list")
    listing.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return listing


def restore(engine: Engine, path: Path, *, key: bytes | None, app_role: str | None = None) -> None:
    """Restore a dump blockline made into this store, which must hold no data; all or nothing.

    ``engine`` connects as the schema's owner (not a superuser): the dump's functions run with no more
    rights than the schema's own. The manifest is checked (:func:`verify_dump`) before anything runs.
    ``app_role``, when given, is granted what the app needs on the restored tables.
    """
    path = Path(path)
    verify_dump(path, key=key)
    with engine.connect() as conn:
        held = conn.execute(
            sa.text("""SELECT (SELECT count(*) FROM loads) + (SELECT count(*) FROM adjustments)
                                              + (SELECT count(*) FROM admin_areas) + (SELECT count(*) FROM audit)""")
        ).scalar_one()
    if held:
        raise InputError(
            "目标数据库已有数据，拒绝覆盖",
            "the target store already holds data; it will not be overwritten",
            file=str(path),
            fix_zh="恢复到新的 BLOCKLINE_HOME 或空数据库",
            fix_en="restore into a new BLOCKLINE_HOME or an empty database",
        )
    listing = _restore_list(path, path.parent if os.access(path.parent, os.W_OK) else Path("/tmp"))
    engine.dispose()  # the migrated empty schema is replaced by the dump's own
    try:
        _restore_as_one_transaction(engine, path, listing, app_role=app_role)
    finally:
        listing.unlink(missing_ok=True)
    engine.dispose()


def _restore_as_one_transaction(engine: Engine, path: Path, listing: Path, *, app_role: str | None) -> None:
    """Drop the schema's objects, replay the dump and grant the app's role, all in one transaction.

    ``pg_restore`` writes the dump as SQL, ``psql`` runs it; a restore that fails leaves the store as it was.
    """
    bindir = find_bindir()
    script = subprocess.Popen(
        [
            str(bindir / "pg_restore"),
            "--no-owner",
            "--no-privileges",
            f"--use-list={listing}",
            "--file=-",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    grants = (
        ["-c", "SET search_path = public;" + grant_sql(app_role)] if app_role else []
    )  # the dump empties it
    try:
        proc = subprocess.run(
            [
                str(bindir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-c",
                "DROP OWNED BY CURRENT_USER",
                "-f",
                "-",
                *grants,
                "-d",
                libpq_url(engine),
            ],
            stdin=script.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if script.stdout is not None:
            script.stdout.close()
        script_err = script.communicate()[1].decode("utf-8", errors="replace")
    if proc.returncode != 0 or script.returncode != 0:
        said = (proc.stderr + script_err).strip().splitlines()
        tail = " ".join([ln for ln in said if "ERROR:" in ln or "error:" in ln][:2] or said[-3:])
        raise BlocklineError(
            f"恢复失败，数据库保持原样：{tail}",
            f"the restore failed and the store is as it was: {tail}",
            file=str(path),
            fix_zh="检查文件与数据库状态（blockline db status）",
            fix_en="check the file and the database (blockline db status)",
        )
