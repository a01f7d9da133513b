"""Child processes for the fault tests: the real CLI or loader, with a rendezvous where a test needs one.

``python -m tests.faults.workers record DIR PARTIES -- ARGS...``
    Runs ``blockline ARGS...`` (the real CLI, its exit code and messages), with every
    ``record_adjustment`` made to wait, once it has read the balances and before it writes, until
    PARTIES processes have got that far (``DIR`` holds one file per arrived process). This is the
    ``on_checked`` hook of blockline.services.ledger_record, which tests/zoning/test_balance.py uses between threads.
``python -m tests.faults.workers load FILE DIR``
    Loads FILE with geo.load.load_parcels; once every row is written but before the commit it creates
    ``DIR/written`` and waits for ``DIR/seen`` (a reader has looked at the store in between).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

_TIMEOUT_S = 60


def _rendezvous(folder: Path, parties: int) -> None:
    import os

    (folder / f"arrived-{os.getpid()}").touch()
    deadline = time.monotonic() + _TIMEOUT_S
    while len(list(folder.glob("arrived-*"))) < parties:
        if time.monotonic() > deadline:
            sys.stderr.write("rendezvous timed out\n")
            raise SystemExit(97)
        time.sleep(0.01)


def record(folder: Path, parties: int, args: list[str]) -> None:
    from blockline.services import ledger_record as balance

    original = balance.record_adjustment

    def with_rendezvous(*a: object, **kw: object) -> object:
        waited: list[bool] = []

        def on_checked() -> None:
            if not waited:  # the first attempt only: a retry after a lost conflict runs alone
                waited.append(True)
                _rendezvous(folder, parties)

        return original(*a, on_checked=on_checked, **kw)

    balance.record_adjustment = with_rendezvous  # cli.balance_record imports it when it runs
    from blockline.cli import app

    app(args, prog_name="blockline")


def load(path: Path, folder: Path) -> None:
    import json

    from geo.load import load_parcels
    from geo.settings import get_settings
    from geo.store import open_store

    def progress(stage: str, done: int, total: int) -> None:
        if stage.startswith("地图汇总") and done == 0:  # every parcel written, nothing committed
            (folder / "written").touch()
            deadline = time.monotonic() + _TIMEOUT_S
            while not (folder / "seen").exists():
                if time.monotonic() > deadline:
                    raise SystemExit(97)
                time.sleep(0.01)

    result = load_parcels(open_store(), path, user=get_settings().user, progress=progress)
    sys.stdout.write(json.dumps({"load_id": result.load_id, "inserted": result.inserted}) + "\n")


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    if cmd == "record":
        folder, parties, sep, *cli_args = rest
        assert sep == "--"
        record(Path(folder), int(parties), cli_args)
    elif cmd == "load":
        load(Path(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(f"unknown worker {cmd}")
