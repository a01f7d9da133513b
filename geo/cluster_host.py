"""What the machine offers the embedded cluster: PostgreSQL's binaries, a way to run them, its processes.

PostgreSQL refuses to run as root; as root, the server runs in a user namespace in which it is an ordinary
user (``unshare --user --map-user``), or, where user namespaces are not allowed, as the ``postgres`` system
user.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from geo.errors import BlocklineError

__all__ = ["find_bindir"]


def _version_key(path: Path) -> float:
    """The PostgreSQL version of a ``/usr/lib/postgresql/<version>/bin`` folder (0 when it names none)."""
    try:
        return float(path.parent.name)
    except ValueError:
        return 0.0


def _zombie(pid: int) -> bool:
    """True for a process that has exited but not been reaped: it still has a pid and nothing else."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()  # "pid (name) state ...": the name may hold ")"
    return bool(fields) and fields[0] == "Z"


def _processes_in(folder: Path) -> list[int]:
    """Live ``postgres`` processes whose working directory is ``folder``.

    A server changes into its data folder, and so do all its backends; other clusters, in other folders, are
    never listed.
    """
    target = folder.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (
                Path(os.readlink(entry / "cwd")) != target
                or Path(os.readlink(entry / "exe")).name != "postgres"
            ):
                continue
        except OSError:
            continue  # gone, or not ours to look at
        if not _zombie(int(entry.name)):
            found.append(int(entry.name))
    return found


def find_bindir(explicit: Path | None = None) -> Path:
    """The folder of the PostgreSQL server binaries, preferring a version that has PostGIS.

    Raises
    ------
    BlocklineError
        When no PostgreSQL server is installed.
    """
    if explicit is not None:
        if (explicit / "postgres").exists():
            return explicit
        raise BlocklineError(
            f"BLOCKLINE_PG_BINDIR 指向的目录 {explicit} 中没有 postgres 程序",
            f"BLOCKLINE_PG_BINDIR={explicit} has no postgres binary",
            fix_zh="改正该设置，或删除它让 blockline 自动查找",
            fix_en="correct the setting, or unset it to let blockline find the binaries",
        )
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    with_postgis = [
        c
        for c in candidates
        if (Path("/usr/share/postgresql") / c.parent.name / "extension" / "postgis.control").exists()
    ]
    for c in with_postgis + candidates:
        if (c / "postgres").exists():
            return c
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).resolve().parent
    raise BlocklineError(
        "本机没有安装 PostgreSQL 服务器，无法启动内置数据库",
        "no PostgreSQL server is installed, so the embedded database cannot start",
        fix_zh="运行 ./dev.sh setup（或 apt-get install postgresql-15-postgis-3），或设置 BLOCKLINE_DATABASE_URL",
        fix_en="run ./dev.sh setup (or apt-get install postgresql-15-postgis-3), or set BLOCKLINE_DATABASE_URL",
    )


@functools.cache
def _machine_runner() -> tuple[list[str], str]:
    """How to run a server command on this machine: directly, or, as root, inside a user namespace or as postgres.

    Probed once per process (the probe runs ``unshare``): the store is opened on every tile request.
    """
    if os.geteuid() != 0:
        return [], "current user"
    unshare = shutil.which("unshare")
    if unshare:
        probe = [unshare, "--user", "--map-user=1000", "--map-group=1000", "--", "true"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return probe[:-1], "root, mapped to an unprivileged user in a user namespace"
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        runuser = None
    if runuser:
        return [runuser, "-u", "postgres", "--"], "postgres system user"
    raise BlocklineError(
        "以 root 身份运行时无法启动内置数据库（PostgreSQL 拒绝以 root 运行，且无法切换用户）",
        "cannot start the embedded database as root: PostgreSQL refuses root and no user switch works",
        fix_zh="以普通用户运行，或设置 BLOCKLINE_DATABASE_URL 指向已有的 PostGIS 数据库",
        fix_en="run as an ordinary user, or set BLOCKLINE_DATABASE_URL to an existing PostGIS database",
    )
