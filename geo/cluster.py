"""The embedded PostgreSQL + PostGIS cluster: private, on a Unix socket inside ``BLOCKLINE_HOME``, no TCP.

The cluster is made from the PostgreSQL server binaries installed on the machine (Debian:
``postgresql-15-postgis-3``). PostgreSQL refuses to run as root; when blockline runs as root, the
server runs in a user namespace in which it is an ordinary user (``unshare --user --map-user``), so that
its files stay owned by the same account and nothing outside ``BLOCKLINE_HOME`` changes. Where user
namespaces are not allowed, the server runs as the ``postgres`` system user instead.

Examples
--------
>>> c = EmbeddedCluster(Path("/tmp/blockline-doc"))
>>> c.socket_dir.name
'run'
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg

from geo.cluster_host import _machine_runner, _processes_in, _zombie, find_bindir
from geo.errors import BlocklineError, DatabaseUnavailable

__all__ = ["EmbeddedCluster", "ClusterStatus", "find_bindir", "OWNER_ROLE", "APP_ROLE"]

#: the role that owns the schema and runs the migrations (no superuser, no CREATEROLE, no CREATEDB)
OWNER_ROLE = "blockline_owner"
#: the role the app and the command connect as: reads and writes rows, owns nothing, may not empty the audit
APP_ROLE = "blockline_app"
#: no statement of the app's role runs longer than this (issue 19: one runaway query must not hold a connection
#: for ever); far above the longest honest statement (a 1,000,000-parcel load's COPY takes under a minute), and
#: map tiles set their own, shorter limit per query (``BLOCKLINE_TILE_TIMEOUT_MS``)
APP_STATEMENT_TIMEOUT = "10min"
_provisioned: set[Path] = set()  # data folders whose roles this process has checked

_PORT = 5432  # only names the socket file: the cluster listens on no TCP port
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; ".s.PGSQL.5432" is appended


@dataclass(frozen=True)
class ClusterStatus:
    """What ``blockline db status`` reports."""

    home: str
    initialised: bool
    running: bool
    pid: int | None
    socket_dir: str
    bindir: str | None
    runs_as: str

    def as_dict(self) -> dict[str, object]:
        """The status as plain data (what ``blockline db status --json`` prints)."""
        return dict(self.__dict__)


#: objects of the public schema the superuser made (stores from before the roles) go to the owner role
_HAND_OVER = f"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass::text AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                              ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner = current_user::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype IN ('e', 'a', 'i'))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {OWNER_ROLE}', r.kind, r.name);
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO {OWNER_ROLE}', r.name);
    END LOOP;
END $$"""


class EmbeddedCluster:
    """A private PostgreSQL cluster under ``home``: data in ``pgdata/``, socket in ``run/``, log in ``log/``."""

    def __init__(self, home: Path, *, bindir: Path | None = None, database: str = "blockline") -> None:
        self.home = Path(home).absolute()
        self._explicit_bindir = bindir
        self.database = database
        self.data_dir = self.home / "pgdata"
        self.socket_dir = self.home / "run"
        self.log_file = self.home / "log" / "postgres.log"
        self.superuser = "blockline"

    # -- facts -------------------------------------------------------------------------------------------
    @cached_property
    def bindir(self) -> Path:
        """The folder of the server binaries (``find_bindir``), looked up once."""
        return find_bindir(self._explicit_bindir)

    def _url(self, role: str) -> str:
        return f"postgresql+psycopg://{role}@/{self.database}?host={self.socket_dir}&port={_PORT}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's database for the app and the command (the least-privileged role)."""
        return self._url(APP_ROLE)

    @property
    def owner_url(self) -> str:
        """SQLAlchemy URL as the schema's owner: migrations, dump and restore."""
        return self._url(OWNER_ROLE)

    @property
    def superuser_url(self) -> str:
        """SQLAlchemy URL as the cluster's superuser: only to make roles, databases and extensions."""
        return self._url(self.superuser)

    @property
    def initialised(self) -> bool:
        """Whether the data folder holds a cluster (``initdb`` ran to the end)."""
        return (self.data_dir / "PG_VERSION").exists()

    def _pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        if _zombie(pid):
            return None  # killed, not yet reaped by its parent (a container's init can take seconds): gone
        return pid

    @property
    def running(self) -> bool:
        """Whether the server runs and its socket is there for clients."""
        return self._pid() is not None and (self.socket_dir / f".s.PGSQL.{_PORT}").exists()

    @property
    def _runner(self) -> tuple[list[str], str]:
        """How to run a server command: directly, or, as root, inside a user namespace or as postgres."""
        return _machine_runner()

    def status(self) -> ClusterStatus:
        """What ``blockline db status`` reports; never raises for a missing server or binaries."""
        try:
            bindir: str | None = str(self.bindir)
        except BlocklineError:
            bindir = None
        try:
            runs_as = self._runner[1]
        except BlocklineError as exc:
            runs_as = f"unavailable: {exc.en}"
        return ClusterStatus(
            home=str(self.home),
            initialised=self.initialised,
            running=self.running,
            pid=self._pid(),
            socket_dir=str(self.socket_dir),
            bindir=bindir,
            runs_as=runs_as,
        )

    # -- actions -----------------------------------------------------------------------------------------
    def _server_cmd(self, *args: str) -> list[str]:
        prefix, how = self._runner
        return [*prefix, *args]

    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def _server_said(self, since: int) -> list[str]:
        """The server's own FATAL/PANIC lines (with DETAIL/HINT) logged after byte ``since``.

        pg_ctl only says "could not start server, examine the log", while the reason (data folder permissions,
        no space left, a lock file it cannot write) is there.
        """
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(since)
                text = fh.read(200_000).decode("utf-8", errors="replace")
        except OSError:
            return []
        keep = [ln.strip() for ln in text.splitlines() if re.search(r"\b(FATAL|PANIC|DETAIL|HINT):", ln)]
        return keep[-4:]

    def _run(
        self, args: list[str], *, what: str, log_since: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._server_cmd(*args), capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
            if log_since is not None:
                tail = "\n".join([tail, *self._server_said(log_since)])
            raise DatabaseUnavailable(
                f"内置数据库{what}失败：{tail}",
                f"embedded database: {what} failed: {tail}",
                file=str(self.home),
                fix_zh=f"查看日志 {self.log_file}；检查 {self.home} 可写且磁盘有空间",
                fix_en=f"read the log {self.log_file}; check that {self.home} is writable and the disk has space",
            )
        return proc

    def _prepare_home(self) -> None:
        if len(str(self.socket_dir / f".s.PGSQL.{_PORT}")) > _SOCKET_PATH_MAX + 14:
            raise BlocklineError(
                f"BLOCKLINE_HOME 路径过长（{self.home}），Unix 套接字路径超过系统上限",
                f"BLOCKLINE_HOME is too long ({self.home}): the Unix socket path would exceed the system limit",
                fix_zh="把 BLOCKLINE_HOME 设为较短的路径，例如 ~/.blockline",
                fix_en="set BLOCKLINE_HOME to a shorter path, such as ~/.blockline",
            )
        try:
            for d in (self.home, self.socket_dir, self.log_file.parent):
                d.mkdir(parents=True, exist_ok=True)
            self.home.chmod(0o700)
            self.socket_dir.chmod(0o700)
        except OSError as exc:
            raise BlocklineError(
                f"无法创建或写入内置数据库目录：{exc}",
                f"cannot create or write the embedded database folder: {exc}",
                file=str(self.home),
                fix_zh="检查该目录的权限与磁盘空间，或设置 BLOCKLINE_HOME 到可写目录",
                fix_en="check the folder's permissions and free disk space, or set BLOCKLINE_HOME to a writable folder",
            ) from exc
        prefix, _ = self._runner
        if prefix and prefix[0].endswith("runuser"):
            pw = pwd.getpwnam("postgres")
            for d in (self.home, self.socket_dir, self.log_file.parent):
                os.chown(d, pw.pw_uid, pw.pw_gid)

    def init(self) -> bool:
        """Create the cluster if it does not exist; True when it was created now."""
        self._prepare_home()
        if self.initialised:
            return False
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise BlocklineError(
                f"{self.data_dir} 已存在但不是完整的数据库目录（可能是上次初始化中断）",
                f"{self.data_dir} exists but is not a complete cluster (perhaps an interrupted initialisation)",
                fix_zh="确认其中没有需要的数据后运行 blockline db reset --yes",
                fix_en="if it holds nothing you need, run blockline db reset --yes",
            )
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.superuser,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            what="初始化/initdb",
        )
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as fh:
            fh.write(
                "\n# blockline: private cluster, Unix socket only\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "unix_socket_permissions = 0700\n"
                "max_connections = 50\n"
                "shared_buffers = 256MB\n"
                "work_mem = 64MB\n"
                "maintenance_work_mem = 256MB\n"
                "max_wal_size = 4GB\n"  # a 200,000-parcel load without a forced checkpoint in the middle
                "checkpoint_completion_target = 0.9\n"
                "fsync = on\n"
                "timezone = 'Asia/Shanghai'\n"
            )
        return True

    def start(self, *, timeout_s: float = 60) -> bool:
        """Start the server if it is not running; True when it was started now."""
        self.init()
        if self.running:
            if self.data_dir not in _provisioned:
                self._ensure_database()  # a server started by an older version, or by another process
            return False
        if self._pid() is not None:
            # The server runs but its socket file is gone (removed by a /tmp cleaner, say): no client can
            # reach it, and a second server would refuse the data directory. Restart it.
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                what="重启/restart",
            )
        stale = self.data_dir / "postmaster.pid"
        if stale.exists() and self._pid() is None:
            # Backends of a killed postmaster run on until they notice (a long query does not look): they hold
            # the shared memory, and a new postmaster refuses to start ("pre-existing shared memory block is
            # still in use"). End those of this data folder, and only those.
            self._end_orphans()
            stale.unlink()  # left by a killed server; PostgreSQL would also detect it, but say nothing
            # So is the socket's lock file, which PostgreSQL would take for a live server while the killed one
            # is a zombie (its pid still exists until reaped). The socket folder is this cluster's alone.
            (self.socket_dir / f".s.PGSQL.{_PORT}.lock").unlink(missing_ok=True)
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(timeout_s)),
                "start",
            ],
            what="启动/start",
            log_since=self._log_size(),
        )
        deadline = time.monotonic() + timeout_s
        while not self.running:
            if time.monotonic() > deadline:
                raise DatabaseUnavailable(
                    "内置数据库启动超时",
                    "the embedded database did not come up in time",
                    file=str(self.log_file),
                    fix_zh="查看日志",
                    fix_en="read the log",
                )
            time.sleep(0.1)
        self._ensure_database()
        return True

    def _ensure_database(self) -> None:
        """Make the database, its owner and app roles and PostGIS (as the superuser).

        Hands over what the superuser made in stores of older versions. Once per process and data folder.
        """
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.database):
            raise BlocklineError("数据库名不合法", "invalid database name", file=self.database)
        conninfo = f"host={self.socket_dir} port={_PORT} user={self.superuser} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_advisory_lock(726355)"
            )  # one process at a time: catalog rows race otherwise
            for role in (OWNER_ROLE, APP_ROLE):
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(
                        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                        "NOBYPASSRLS"
                    )
            conn.execute(f"ALTER ROLE {APP_ROLE} SET statement_timeout = '{APP_STATEMENT_TIMEOUT}'")
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if owner is None:
                conn.execute(f'CREATE DATABASE "{self.database}" OWNER {OWNER_ROLE}')
            elif owner[0] != OWNER_ROLE:
                conn.execute(f'ALTER DATABASE "{self.database}" OWNER TO {OWNER_ROLE}')
            with psycopg.connect(
                conninfo.replace("dbname=postgres", f"dbname={self.database}"), autocommit=True
            ) as db:
                db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                db.execute(_HAND_OVER)
        _provisioned.add(self.data_dir)

    def orphans(self) -> list[int]:
        """Server processes still running in this data folder (their working directory) with no live postmaster.

        Empty while the postmaster lives: a running cluster's backends are never anyone's orphans.
        """
        if self._pid() is not None:
            return []
        return _processes_in(self.data_dir)

    def _end_orphans(self, *, grace_s: float = 2.0, timeout_s: float = 10.0) -> None:
        """Wait ``grace_s`` for orphaned backends to notice their postmaster is gone, then end them.

        First SIGQUIT (the server's own "exit now"), then SIGKILL; raise when one is still there after
        ``timeout_s``.
        """
        deadline = time.monotonic() + grace_s
        while self.orphans() and time.monotonic() < deadline:
            time.sleep(0.05)
        for sig, wait_s in ((signal.SIGQUIT, timeout_s / 2), (signal.SIGKILL, timeout_s / 2)):
            left = self.orphans()
            if not left:
                return
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait_s
            while self.orphans() and time.monotonic() < deadline:
                time.sleep(0.05)
        left = self.orphans()
        if left:
            raise DatabaseUnavailable(
                f"上次被强行终止的数据库仍有进程未退出：{left}",
                f"processes of the killed database server are still running: {left}",
                file=str(self.data_dir),
                fix_zh="以运行 blockline 的同一用户结束这些进程后重试",
                fix_en="end these processes as the same user, then retry",
            )

    def stop(self) -> bool:
        """Stop the server if it runs; True when it was stopped now."""
        if not self.initialised or self._pid() is None:
            return False
        self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            what="停止/stop",
        )
        return True

    def reset(self) -> None:
        """Stop the server and delete the cluster with all its data."""
        self.stop()
        _provisioned.discard(self.data_dir)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
