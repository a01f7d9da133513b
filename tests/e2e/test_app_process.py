"""``blockline app`` is the server itself: a stop signal to the process a user (or a service manager, or the
benchmark) started ends the server, and no server is left answering on the port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from blockline.ui.serving import free_port, is_healthy, wait_healthy
from tests.e2e.conftest import BLOCKLINE


def test_a_stop_signal_to_blockline_app_stops_the_server(e2e_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ.copy()
    env.update(BLOCKLINE_DATABASE_URL=e2e_url, BLOCKLINE_USER="e2e")
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BLOCKLINE), "app", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_healthy(url, proc=proc)
        proc.send_signal(signal.SIGTERM)  # to this process only, not its group
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while is_healthy(url) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not is_healthy(url), "a server still answers after blockline app was stopped"
    finally:
        if _group_alive(proc.pid):  # the server, or (before the fix) the server left behind by its parent
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
