"""Starting the app's server from a script: a free local port, and waiting until Streamlit answers.

Used by the end-to-end tests, the browser benchmark and the README's screenshots, which all start
``blockline app`` (or a bare ``streamlit run``) and must wait for it before opening a browser.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

__all__ = ["NotServing", "free_port", "is_healthy", "wait_healthy", "wait_warm"]


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
    """Wait until blockline's server at ``url`` has finished its warm-up (``/_blockline/ready``, see
    ``blockline/server.py``) and return what it did; ``{}`` from a server without that route.

    Raises
    ------
    NotServing
        After ``timeout_s`` seconds.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
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
