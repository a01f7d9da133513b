"""``blockline app`` starts the judging child before it becomes the server, and the server adopts it.

A process here does what ``blockline app`` does (``blockline.judging.hand_over``, then ``os.execve``) and the
program it becomes adopts the child and waits for its line, as the server's warm-up does: the judgement stored
is that child's (``judgements.judged_by``), the child's parent is the process after the exec, and the child is
reaped (no zombie) once it has written the documents.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
import sqlalchemy as sa

from blockline.demo import load_demo
from blockline.judging import HANDED_OVER, adopt

#: what runs in the process ``hand_over`` hands the child to: adopt it, wait for its line, wait for its end
_ADOPTER = """
import json, logging, os, sys
from blockline.judging import adopt, finish
logging.basicConfig(level=logging.INFO, stream=sys.stderr)  # finish logs what the child said, as the server's
judging = adopt()
ppid = int(open(f"/proc/{judging.pid}/stat").read().rsplit(")", 1)[1].split()[1])
finish(judging)
code = judging.wait()
print(json.dumps({"me": os.getpid(), "child": judging.pid, "parent": ppid, "code": code,
                  "left": HANDED in os.environ}))
""".replace("HANDED", repr(HANDED_OVER))

#: ``blockline app``'s part: hand the child over, then become the adopter (the same pid)
_LAUNCHER = """
import os, sys
from blockline.judging import hand_over
from geo.store import open_store
env = dict(os.environ)
hand_over(open_store(), env, policy="wenzhou-2020")
print("launcher", os.getpid(), env.get(HANDED, ""), flush=True)
os.execve(sys.executable, [sys.executable, "-c", sys.argv[1]], env)
""".replace("HANDED", repr(HANDED_OVER))


def test_the_server_adopts_the_child_blockline_app_started(engine: sa.Engine) -> None:
    load_demo(engine, user="test", n_parcels=300, seed=5)
    with engine.begin() as conn:  # nothing judged: the child has work to do
        conn.execute(sa.text("DELETE FROM judgements"))
        conn.execute(sa.text("DELETE FROM parcel_marks"))
    env = {**os.environ, "BLOCKLINE_NOW": "2026-11-01T09:00:00+08:00", "BLOCKLINE_POLICY": "wenzhou-2020"}
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, _ADOPTER],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    launcher, adopter = done.stdout.strip().splitlines()
    _, launcher_pid, handed = launcher.split(" ")
    said = json.loads(adopter)
    assert said["me"] == int(launcher_pid)  # the same process, after the exec
    assert handed.startswith(f"{said['child']}:")  # the child it named
    assert said["parent"] == said["me"] and said["code"] == 0 and not said["left"]
    # its line, logged by finish as the server's warm-up logs it (exit None: still writing its documents)
    assert re.search(
        r"judged in a child process \(exit (None|0)\) 2026-11-01 wenzhou-2020: judged \(", done.stderr
    )
    with engine.connect() as conn:
        judged_by, documents = conn.execute(sa.text("SELECT judged_by, documents FROM judgements")).one()
    assert judged_by.endswith(f":{said['child']}") and documents is True  # its judgement, documents and all
    with pytest.raises(FileNotFoundError):  # reaped: no zombie left
        open(f"/proc/{said['child']}/stat").close()


@pytest.mark.parametrize("given", ["", "garbage", "1:2", "123:{fd}:{wrong}"])
def test_a_handover_that_does_not_name_an_open_child_file_is_ignored(
    given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryFile() as f:
        fd = f.fileno()
        monkeypatch.setenv(HANDED_OVER, given.format(fd=fd, wrong=os.fstat(fd).st_ino + 1))
        assert adopt() is None
        assert HANDED_OVER not in os.environ  # once
        os.fstat(fd)  # the descriptor named was left alone (still open)
