"""A BLOCKLINE_HOME that cannot hold the database is reported by the CLI: the folder, the cause, a fix; no traceback.

What actually happens as root (how these tests run by default): permission bits do not stop root from
creating ``BLOCKLINE_HOME`` (blockline sets it to 0700 itself), so the faults that remain are the ones
the file system enforces on everyone — a path under a file, a read-only file system, a full disk — and
the ones PostgreSQL enforces on its data folder. The read-only and full file systems are real mounts,
made in a private mount namespace of the child process (``unshare --user --map-root-user --mount``), so
nothing outside the test changes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.cluster import EmbeddedCluster
from geo.settings import PROJECT_ROOT
from tests.faults.conftest import child_env, python_m

_IN_NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]


def _blockline(
    home: Path, *args: str, mount: str | None = None, at: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``blockline ARGS`` with BLOCKLINE_HOME=home, after ``mount`` (a shell command on "$0" = at) if given."""
    env = child_env(BLOCKLINE_HOME=str(home))
    env.pop(
        "BLOCKLINE_DATABASE_URL", None
    )  # the embedded cluster, even when the suite runs on another server
    cmd = python_m("blockline.cli", *args)
    if mount is not None:
        cmd = [*_IN_NAMESPACE, f'{mount} && exec "$@"', str(at), *cmd]
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _reported(proc: subprocess.CompletedProcess[str], *, code: int, folder: Path, cause: str) -> str:
    err = proc.stderr
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err and "错误 / error" in err
    assert str(folder) in err and cause in err
    assert "处理：" in err and "Fix:" in err  # a fix, in Chinese and in English
    return err


@pytest.fixture
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bl-h-", dir="/tmp"))  # short: the socket path has a length limit
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_home_under_a_file(scratch: Path) -> None:
    (scratch / "notes.txt").write_text("not a folder")
    home = scratch / "notes.txt" / "blockline"
    err = _reported(_blockline(home, "db", "up"), code=2, folder=home, cause="Not a directory")
    assert "BLOCKLINE_HOME" in err
    status = _blockline(home, "db", "status")  # status describes, it does not fail: nothing is there yet
    assert status.returncode == 0 and "initialised: False" in status.stdout and str(home) in status.stdout


def test_home_on_a_read_only_file_system(scratch: Path) -> None:
    home = scratch / "blockline"
    proc = _blockline(
        home, "db", "up", at=scratch, mount='mount --bind "$0" "$0" && mount -o remount,ro,bind "$0"'
    )
    err = _reported(proc, code=2, folder=home, cause="Read-only file system")
    assert "BLOCKLINE_HOME" in err and not home.exists()


def test_home_on_a_full_disk(scratch: Path) -> None:
    home = scratch / "blockline"
    proc = _blockline(home, "db", "up", at=scratch, mount='mount -t tmpfs -o size=24m tmpfs "$0"')
    err = _reported(proc, code=3, folder=home, cause="No space left on device")
    assert "磁盘有空间" in err and "disk has space" in err


def test_data_folder_postgresql_refuses(scratch: Path) -> None:
    """pg_ctl says only "examine the log"; the message must carry the server's own reason."""
    home = scratch / "blockline"
    EmbeddedCluster(home).init()
    (home / "pgdata").chmod(0o777)  # as a copy through a USB disk or a careless chmod -R leaves it
    err = _reported(_blockline(home, "db", "up"), code=3, folder=home, cause="has invalid permissions")
    assert "0700" in err and "postgres.log" in err
