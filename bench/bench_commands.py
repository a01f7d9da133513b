"""Whole-process benchmark of the ``blockline`` commands a user runs, with their floors in the same run.

Each command is run as a user runs it, from the shell, under ``/usr/bin/time -v`` (wall time and peak
resident memory of the whole process), ``--runs`` times; the table gives the median and every run, and the
load average before each row (the machine is shared). The floors, timed in the same run:

- ``blockline --help``: Python's start-up and the CLI's imports;
- a bare ``psql -c "COPY (SELECT …) TO STDOUT"`` of the parcel columns the rules read, to ``/dev/null``.

``idle`` and ``lifecycle`` are timed three ways: "nothing stored" after the stored judgements are deleted
(what a caller pays when no load and no server judged: read, judge, store), "first after a load" right after
``blockline load ratings`` of one rating (the load judges today's city after its commit, timed in its own
row) and "again" (every later caller: read back). The app is timed as ``./dev.sh app`` starts it
(``blockline app``): from the start to ``/_blockline/ready``, and the server's resident memory then, after a
restart with the data unchanged and with nothing stored (its warm-up judges).

Usage (``--parcels N`` loads the demo city with N parcels first when the store holds another count)::

    BLOCKLINE_HOME=/tmp/bench/home .venv/bin/python -m bench.bench_commands --parcels 200000 --runs 3 \\
        --label "after" --out bench/results_commands.md
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKLINE = os.environ.get(
    "BENCH_BLOCKLINE", str(ROOT / ".venv" / "bin" / "blockline")
)  # another build to compare
AS_OF = "2026-11-01"
#: the office's clock of every command here (BLOCKLINE_NOW): "today" is AS_OF for the loads and the app
NOW = f"{AS_OF}T09:00:00+08:00"

#: the parcel columns the idle, lifecycle and low-efficiency rules read (geo.queries.RULE_COLUMNS)
RULE_SQL = (
    "SELECT parcel_no, holder_id, land_use, delivered_on, agreed_start_on, started_on, agreed_completion_on, "
    "completed_on, agreed_operation_on, operating_since, agreed_full_production_on, lease_years, "
    "planned_investment, committed_investment_per_mu, committed_tax_per_mu, committed_output_per_mu, min_far, "
    "investment, tax, output, floor_area, footprint_area, is_low_efficiency, area_mu "
    "FROM parcels WHERE valid_to IS NULL ORDER BY parcel_no"
)


@dataclass
class Row:
    """One timed command: its runs (wall s, peak RSS MB, exit code) and the load average before it."""

    name: str
    walls: list[float]
    peaks: list[float]
    codes: list[int]
    load: str


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit code) of one run of ``argv`` under /usr/bin/time -v, output discarded."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", "-o", t.name, *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        text = Path(t.name).read_text()
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", text)
    assert m, text
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024  # type: ignore[union-attr]
    return wall, rss, proc.returncode


def _psql_env(env: dict[str, str]) -> dict[str, str]:
    home = Path(env["BLOCKLINE_HOME"])
    return env | {"PGHOST": str(home / "run"), "PGUSER": "blockline", "PGDATABASE": "blockline"}


def _forget(env: dict[str, str]) -> None:
    """Delete the stored judgements (when the table exists), so the next call judges again."""
    subprocess.run(
        ["psql", "-qc", "DELETE FROM judgements"],
        env=_psql_env(env),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _adjustment(env: dict[str, str], folder: Path) -> list[str]:
    """--remove/--add files for ``balance check``: a parcel's envelope out, the same box 500 m east in."""
    out = (
        subprocess.run(
            [
                "psql",
                "-Atc",
                """
        SELECT county_code, ST_SRID(geom), ST_XMin(geom), ST_YMin(geom) FROM parcels
        WHERE valid_to IS NULL ORDER BY parcel_no LIMIT 1""",
            ],
            env=_psql_env(env),
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .split("|")
    )
    county, srid, x, y = out[0], out[1], float(out[2]), float(out[3])
    files = []
    for name, dx in (("remove", 0.0), ("add", 500.0)):
        ring = [[x + dx, y], [x + dx + 100, y], [x + dx + 100, y + 100], [x + dx, y + 100], [x + dx, y]]
        path = folder / f"{name}.geojson"
        path.write_text(
            '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:%s"}},'  # noqa: UP031 - the GeoJSON braces read clearer with %
            '"features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon",'
            '"coordinates":[%s]}}]}' % (srid, ring)
        )
        files += [f"--{name}", str(path)]
    return ["--county", county, *files]


def _one_rating(env: dict[str, str]) -> list[str]:
    """argv of ``blockline load ratings`` of one new rating of the first parcel (new data: a new version)."""
    no = subprocess.run(
        ["psql", "-Atc", "SELECT min(parcel_no) FROM parcels WHERE valid_to IS NULL"],
        env=_psql_env(env),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = Path(tempfile.mkdtemp(prefix="bench-ratings-")) / "one.csv"
    atexit.register(shutil.rmtree, path.parent, True)  # the folder goes when the bench ends
    path.write_text(f"parcel_no,year,grade\n{no},2025,B\n", encoding="utf-8")
    return [BLOCKLINE, "load", "ratings", str(path)]


def _load_one_rating(env: dict[str, str]) -> None:
    """A new load before the timed command (it judges today's city itself)."""
    subprocess.run(
        _one_rating(env), env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _run(name: str, argv: list[str], env: dict[str, str], runs: int, *, before: object = None) -> Row:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    walls, peaks, codes = [], [], []
    for _ in range(runs):
        if callable(before):
            before(env)
        w, p, c = _timed(argv, env)
        walls.append(w)
        peaks.append(p)
        codes.append(c)
    row = Row(name, walls, peaks, codes, load)
    print(
        f"{name}: median {statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)}), "
        f"peak {max(peaks):.0f} MB, exit {codes}, load {load}",
        file=sys.stderr,
        flush=True,
    )
    return row


def bench(env: dict[str, str], runs: int) -> list[Row]:
    """Time the floors and the commands, in that order, in one run."""
    bl = [BLOCKLINE]
    asof = ["--as-of", AS_OF]
    with tempfile.TemporaryDirectory() as tmp:
        adjust = _adjustment(env, Path(tmp))
        rows = [
            _run("floor: `blockline --help` (start-up + imports)", [*bl, "--help"], env, runs),
            _run(
                "floor: `blockline db status` (imports + open the store + counts)",
                [*bl, "db", "status"],
                env,
                runs,
            ),
            _run(
                "floor: `psql COPY` of the rule columns to /dev/null",
                ["sh", "-c", f'psql -c "COPY ({RULE_SQL}) TO STDOUT" > /dev/null'],
                _psql_env(env),
                runs,
            ),
            _run("`load ratings` of one rating (load + judge today + store)", _one_rating(env), env, runs),
            _run(
                "`idle --format json` first after a load (the load judged)",
                [*bl, "idle", *asof, "--format", "json"],
                env,
                runs,
                before=_load_one_rating,
            ),
            _run(
                "`idle --format json` nothing stored (judge + store)",
                [*bl, "idle", *asof, "--format", "json"],
                env,
                runs,
                before=_forget,
            ),
            _run("`idle --format json` again (stored)", [*bl, "idle", *asof, "--format", "json"], env, runs),
            _run(
                "`lifecycle --format json` first after a load (the load judged)",
                [*bl, "lifecycle", *asof, "--format", "json"],
                env,
                runs,
                before=_load_one_rating,
            ),
            _run(
                "`lifecycle --format json` nothing stored (judge + store)",
                [*bl, "lifecycle", *asof, "--format", "json"],
                env,
                runs,
                before=_forget,
            ),
            _run(
                "`lifecycle --format json` again (stored)",
                [*bl, "lifecycle", *asof, "--format", "json"],
                env,
                runs,
            ),
            _run(
                "`zones detect --format json` (judgement stored)",
                [*bl, "zones", "detect", *asof, "--format", "json"],
                env,
                runs,
            ),
            _run(
                "`balance check --format json`",
                [*bl, "balance", "check", *adjust, "--format", "json"],
                env,
                runs,
            ),
        ]
    return rows


def _app(env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    """Start the app as ``./dev.sh app`` does (``blockline app``): seconds to ready, server RSS MB, warm-up."""
    import time

    import psutil

    from blockline.ui.serving import free_port, wait_healthy, wait_warm

    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [BLOCKLINE, "app", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc=proc)
        said = wait_warm(f"http://127.0.0.1:{port}", timeout_s=300)
        seconds = time.perf_counter() - start
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20  # blockline app execs the server in place
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return seconds, rss, said


def bench_app(env: dict[str, str], runs: int) -> list[Row]:
    """The app's warm-up: after a restart with the data unchanged, and with nothing stored."""
    rows = []
    for name, before in (
        ("app warm-up, restart with unchanged data (judgement stored)", None),
        ("app warm-up, nothing stored (the warm-up judges)", _forget_all),
    ):
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        walls, peaks = [], []
        for _ in range(runs):
            if before is not None:
                before(env)
            seconds, rss, said = _app(env)
            walls.append(seconds)
            peaks.append(rss)
            print(
                f"{name}: {seconds:.1f} s, server RSS {rss:.0f} MB, warm-up {said}",
                file=sys.stderr,
                flush=True,
            )
        rows.append(Row(name + " — ready s; server RSS MB after", walls, peaks, [0] * runs, load))
    return rows


def _forget_all(env: dict[str, str]) -> None:
    """Delete the stored judgements and the map's marks (what a load that did not judge leaves)."""
    subprocess.run(
        ["psql", "-qc", "DELETE FROM judgements; DELETE FROM parcel_marks"],
        env=_psql_env(env),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ensure_demo(env: dict[str, str], parcels: int) -> Row | None:
    """Load the demo city of ``parcels`` parcels unless the store holds that many; the load's timed row."""
    held = subprocess.run(
        ["psql", "-Atc", "SELECT count(*) FROM parcels WHERE valid_to IS NULL"],
        env=_psql_env(env),
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    count = int(held or 0)
    if count == parcels:
        return None
    subprocess.run([BLOCKLINE, "db", "up"], env=env, check=True, stdout=subprocess.DEVNULL)
    return _run(
        f"`demo --parcels {parcels}` (load + judge today + store)",
        [BLOCKLINE, "demo", "--parcels", str(parcels)],
        env,
        1,
    )


def table(rows: list[Row], *, label: str, parcels: str) -> str:
    """The rows as a Markdown table, with a header naming the run."""
    lines = [
        f"### {label} — {parcels} parcels, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs",
        "",
        "| command | wall s (median) | runs s | peak RSS MB (max) | exit | load average before |",
        "|---|---:|---|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {statistics.median(r.walls):.2f} | {', '.join(f'{w:.2f}' for w in r.walls)} | "
            f"{max(r.peaks):.0f} | {','.join(map(str, sorted(set(r.codes))))} | {r.load} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--label", default="run")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--parcels",
        type=int,
        help="the demo city's size (20000, 200000, 1000000): loaded when the store holds another count",
    )
    ap.add_argument("--no-app", action="store_true", help="leave out the app's warm-up")
    args = ap.parse_args()
    env = dict(os.environ) | {"BLOCKLINE_NOW": NOW}
    if "BLOCKLINE_HOME" not in env:
        sys.exit("set BLOCKLINE_HOME to the store to bench (a new folder: --parcels N loads the demo city)")
    rows = []
    if args.parcels:
        loaded = ensure_demo(env, args.parcels)
        rows += [loaded] if loaded else []
    count = subprocess.run(
        ["psql", "-Atc", "SELECT count(*) FROM parcels WHERE valid_to IS NULL"],
        env=_psql_env(env),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    rows += bench(env, args.runs)
    if not args.no_app:
        rows += bench_app(env, args.runs)
    text = table(rows, label=args.label, parcels=f"{int(count):,}")
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
