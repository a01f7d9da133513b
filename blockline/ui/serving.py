"""Starting the app's server from a script: a free local port, and waiting until Streamlit answers.

Used by the end-to-end tests, the browser benchmark and the README's screenshots, which all start
``blockline app`` (``start_app``, or a bare ``streamlit run`` with ``start_server``), wait for it before opening
a browser and stop it afterwards (``stop_server``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

__all__ = [
    "NotServing",
    "app_command",
    "free_port",
    "is_healthy",
    "start_app",
    "start_server",
    "stop_server",
    "wait_healthy",
    "wait_warm",
]

#: the ``blockline`` command of the Python running this (the project's virtual environment)
BLOCKLINE = Path(sys.executable).with_name("blockline")


class NotServing(RuntimeError):
    """The server exited, or did not answer its health check in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check now."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def wait_healthy(url: str, *, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 90) -> None:
    """Return once ``{url}/_stcore/health`` answers ``ok``.

    Raises
    ------
    NotServing
        When ``proc`` (the server's process, if given) exits first, or after ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise NotServing(f"the server exited with {proc.returncode} before serving {url}")
        if is_healthy(url):
            return
        time.sleep(0.3)
    raise NotServing(f"the server did not answer {url}/_stcore/health within {timeout_s:g} s")


def wait_warm(url: str, *, timeout_s: float = 120) -> dict[str, object]:
    """Wait until blockline's server at ``url`` has finished its warm-up and return what it did.

    The warm-up answers at ``/_blockline/ready`` (see ``blockline/server.py``); ``{}`` from a server without
    that route.

    Raises
    ------
    NotServing
        After ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_blockline/ready", timeout=2) as r:
                return dict(json.load(r))
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                return {}
        except OSError:
            pass
        time.sleep(0.2)
    raise NotServing(f"the server at {url} did not finish its warm-up within {timeout_s:g} s")


def app_command(port: int) -> list[str]:
    """The command that serves the app on ``port``: ``blockline app --port P``, as a user runs it."""
    return [str(BLOCKLINE), "app", "--port", str(port)]


def start_server(
    command: Sequence[str],
    url: str,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    output: IO[bytes] | int | None = None,
    timeout_s: float = 90,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own and return its process once ``url`` answers its health check.

    ``output`` is where its stdout and stderr go (None: this process's own).

    Raises
    ------
    NotServing
        When the server exits first or does not answer within ``timeout_s`` seconds (it is stopped then).
    """
    proc = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,
    )
    try:
        wait_healthy(url, proc=proc, timeout_s=timeout_s)
    except NotServing:
        stop_server(proc)
        raise
    return proc


def start_app(
    port: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    output: IO[bytes] | int | None = None,
    timeout_s: float = 90,
) -> subprocess.Popen[bytes]:
    """``start_server`` of ``blockline app`` on ``port`` (http://127.0.0.1:``port``)."""
    return start_server(
        app_command(port), f"http://127.0.0.1:{port}", cwd=cwd, env=env, output=output, timeout_s=timeout_s
    )


def stop_server(proc: subprocess.Popen[bytes], *, grace_s: float = 30) -> None:
    """Stop a server ``start_server`` started, with all its children: SIGTERM, then SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
