"""The child process that judges today's city for the server's warm-up (``python -m blockline.services.judged``).

The warm-up has today's judgement judged in a child process when the store holds parcels but not today's marks
(:func:`start`); its few hundred MB at city scale are returned to the system when the child ends. ``blockline
app`` starts it even before it becomes the server (:func:`hand_over`): the child's imports and first parts then
run while Streamlit starts (1.3–1.9 s sooner ready in a first try, 0.2–2.4 s in turn later, of a warm-up of
17–20 s at 200,000 parcels). The server adopts that child
(:func:`adopt`) instead of starting one; :func:`finish` waits for its line.

Light on purpose (no Streamlit, pandas or rules): ``blockline app`` imports it before it execs the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from blockline.services.marks import mark_set_name
from geo import clock
from geo.parcel_marks import has_marks
from geo.settings import PROJECT_ROOT, get_settings
from geo.store import open_store
from zoning.policy import get_profile

__all__ = ["HANDED_OVER", "Judging", "adopt", "finish", "hand_over", "start"]

_LOG = logging.getLogger("blockline.server")
#: the environment variable that hands a judging child to the server ``blockline app`` execs: "pid:fd:inode"
HANDED_OVER = "BLOCKLINE_JUDGING"
#: at most this long for the child's line, then it is killed
_LINE_S = 1800


@dataclass
class Judging:
    """A child process judging today's city, and the file its output goes to (read, never moved: it shares it).

    ``popen`` is None for a child adopted from ``blockline app``: it is this process's child all the same (the
    server took the launcher's place), waited for by its pid.
    """

    pid: int
    output: IO[str]
    popen: subprocess.Popen[str] | None = None
    _code: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def poll(self) -> int | None:
        """Its exit code, or None while it runs (from any thread: the first to see it end keeps the code)."""
        if self.popen is not None:
            return self.popen.poll()
        with self._lock:
            if self._code is None:
                self._code = _waited(self.pid)
            return self._code

    def wait(self) -> int:
        """Wait for it to end; its exit code."""
        if self.popen is not None:
            return self.popen.wait()
        while (code := self.poll()) is None:
            time.sleep(0.1)
        return code

    def kill(self) -> None:
        """Kill it."""
        with contextlib.suppress(ProcessLookupError):  # it has ended
            os.kill(self.pid, signal.SIGKILL)

    def written(self) -> str:
        """What it has written so far, read without moving the file's offset.

        The child writes at that offset (the file is its stdout): a seek here would make its next line overwrite
        the start.
        """
        fd = self.output.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", errors="replace")

    def said_judged(self) -> bool:
        """Whether it has written its line (``<date> <profile>: judged|stored (<s> s)``)."""
        return any(line.endswith(" s)") for line in self.written().splitlines())


def _waited(pid: int) -> int | None:
    """The exit code of the child ``pid`` if it has ended (reaping it), else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -1  # reaped by someone else: it has ended
    return os.waitstatus_to_exitcode(status) if done else None


def start(
    engine: Engine | None = None, *, policy: str | None = None, env: dict[str, str] | None = None
) -> Judging | None:
    """Start judging today's city in a child process, or None: no parcels, or today's marks are stored already.

    The marks are written with the judgement, so their presence says it is there. ``engine`` and ``policy``:
    the store and the deployment's profile (default the settings'); ``env``: the child's environment (default
    this process's), which must reach the same store.
    """
    engine = engine or open_store()
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM parcels WHERE valid_to IS NULL)")).scalar():
            return None
    today, policy = clock.today(), policy or get_settings().policy
    if has_marks(engine, mark_set_name(engine, as_of=today, profile=get_profile(policy))):
        return None
    # its output to a file, not a pipe: nobody reads it while the server starts, and a full pipe would stall it
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by finish
    child = subprocess.Popen(
        # its JSON documents after the line it says once the findings, marks and zones are stored: the warm-up
        # waits for that line only (the documents are for the commands, not the pages)
        [sys.executable, "-m", "blockline.services.judged", "--documents-later"],
        cwd=PROJECT_ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        env={**(os.environ if env is None else env), "BLOCKLINE_POLICY": policy},
    )
    return Judging(child.pid, output, child)


def hand_over(engine: Engine, env: dict[str, str], *, policy: str) -> None:
    """Start the child (:func:`start`) for the server this process is about to exec with ``env``; name it there.

    Its output file stays open across the exec (inheritable, and held here until then); failing to start it is
    only logged: the server's warm-up starts one then.
    """
    try:
        judging = start(engine, policy=policy, env=env)
    except Exception as exc:  # noqa: BLE001 - the warm-up tries again
        _LOG.info("judging not started before the server (%s)", exc)
        return
    if judging is not None:
        fd = judging.output.fileno()
        os.set_inheritable(fd, True)
        _HELD.append(judging)  # closed by nobody before the exec (the number must still be this file there)
        env[HANDED_OVER] = f"{judging.pid}:{fd}:{os.fstat(fd).st_ino}"


#: the child handed over, kept from the garbage collector (which would close its file) until the exec
_HELD: list[Judging] = []


def adopt() -> Judging | None:
    """The child ``blockline app`` started before it became this server (:func:`hand_over`), once; else None.

    Only when the descriptor named is still that file (the same inode): a variable inherited by another process
    is ignored.
    """
    handed = os.environ.pop(HANDED_OVER, "")
    try:
        pid, fd, inode = (int(x) for x in handed.split(":"))
        if os.fstat(fd).st_ino != inode:
            return None
    except (ValueError, OSError):
        return None
    os.set_inheritable(fd, False)  # not to the processes this server starts
    return Judging(pid, open(fd, encoding="utf-8", errors="replace", closefd=True))  # noqa: SIM115


def finish(judging: Judging | None) -> None:
    """Wait for the child to say it has stored the judgement, or to end; a failure is only logged.

    At most 30 minutes, then it is killed. It then writes the JSON documents on its own, waited for in a
    thread (no zombie), which closes its output.
    """
    if judging is None:
        return
    deadline = time.monotonic() + _LINE_S
    while judging.poll() is None and not judging.said_judged():
        if time.monotonic() > deadline:
            judging.kill()
            break
        time.sleep(0.05)
    said = judging.written().strip()[-800:]
    _LOG.info("warm-up: judged in a child process (exit %s) %s", judging.poll(), said)

    def reap() -> None:
        with judging.output:
            judging.wait()

    threading.Thread(target=reap, name="blockline-judging-reaper", daemon=True).start()
