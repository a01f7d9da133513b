"""``blockline app``: the Streamlit app, served on the same database."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from blockline.cli._shared import engine, given_env, handled, settings
from geo.settings import PROJECT_ROOT

__all__ = ["app_cmd"]


@handled
def app_cmd(
    port: Annotated[int, typer.Option("--port")] = 8501,
    address: Annotated[
        str, typer.Option("--address", help="监听地址，默认仅本机 / bind address")
    ] = "127.0.0.1",
) -> None:
    """启动网页应用 / run the Streamlit app on the same database."""
    store = engine()  # start and migrate the database before the app's first page needs it
    given = settings()
    env = {**os.environ, **given_env()}  # --db and --user reach the app as the environment it reads
    if given.embedded:
        env["BLOCKLINE_HOME"] = str(given.home)  # the app runs from the project folder (its .streamlit/)
    # blockline/server.py serves app.py plus the vector tiles of its maps (one process, one origin)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "blockline/server.py"),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    # today's judgement, when missing, started now rather than by the server's warm-up 2 s from now (it adopts it)
    from blockline.judging import hand_over  # lazy: the marks' and profiles' modules, for this command only

    hand_over(store, env, policy=given.policy)
    # The server takes this process's place: a stop signal (Ctrl-C, a service manager's SIGTERM) reaches it,
    # rather than ending a parent and leaving the server running on its own.
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, cmd, env)
