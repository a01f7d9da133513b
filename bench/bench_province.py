"""Whole-process benchmark of the province demo's load, with its floors in the same run.

For each size (20,000 / 200,000 / 1,000,000 parcels by default) a fresh embedded store is made, and timed as
a user runs it, under ``/usr/bin/time -v`` (wall time and peak resident memory of the whole process; the
runner of ``bench.bench_commands``, imported, not copied):

- ``blockline --help``: the floor of Python's start-up and the CLI's imports;
- ``blockline demo --region zhejiang --parcels N``: generate the province city by city and load it (boundaries,
  block lines, parcels, ratings, the map's squares) in one transaction;
- a bare ``COPY`` of the same parcel rows (every column the demo writes, geometry as hex EWKB, exported
  from the store after the load) into a table like ``parcels`` without index or constraint: the floor of
  getting the rows into PostgreSQL at all.

The load average (1 min) is read before each row: the machine is shared, and the figures mean little
without it. So the CPU time the load needs is given too, which other work moves far less than the wall
time: the command's own (user + system, from ``time -v``) and the database server's (every PostgreSQL
process of the store, its exited backends included, before and after). Each store is stopped and deleted
after its size.

Usage::

    .venv/bin/python -m bench.bench_province --sizes 20000 200000 1000000 --out bench/results_province.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_commands import BLOCKLINE, ROOT, _psql_env, _timed

__all__ = ["Result", "bench_size", "main", "table"]

#: the parcel columns the demo writes (geo.load._PARCEL_COLUMNS and the load's own)
COLUMNS = (
    "parcel_no, holder, holder_id, land_use, delivered_on, agreed_start_on, started_on, agreed_completion_on, "
    "completed_on, agreed_operation_on, operating_since, agreed_full_production_on, lease_years, "
    "planned_investment, committed_investment_per_mu, committed_tax_per_mu, committed_output_per_mu, min_far, "
    "investment, tax, output, floor_area, footprint_area, is_low_efficiency, area_mu, extra, county_code, "
    "county_shares, load_id, created_by, geom"
)


@dataclass
class Result:
    """One size: the floors and the load, each (wall s, peak RSS MB), the load average before each."""

    parcels: int
    help_s: float
    demo_s: float
    demo_mb: float
    demo_code: int
    demo_cpu_s: float
    server_cpu_s: float
    copy_s: float
    copy_mb_file: float
    loads: dict[str, float]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


_TICK = os.sysconf("SC_CLK_TCK")


def _server_cpu(home: Path) -> float:
    """CPU seconds of the store's PostgreSQL so far: the postmaster, its live children and those it reaped."""
    try:
        pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        own = int(stat.parent.name) == pid
        if own or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if own else 0)
    return total / _TICK


def _timed_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """(wall s, peak RSS MB, exit code, user + system s) of one run of ``argv`` under /usr/bin/time -v."""
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
    code = proc.returncode
    cpu = sum(
        float(re.search(rf"{what} time \(seconds\): ([\d.]+)", text).group(1))  # type: ignore[union-attr]
        for what in ("User", "System")
    )
    return wall, rss, code, cpu


def _psql(env: dict[str, str], sql: str) -> None:
    subprocess.run(
        ["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=_psql_env(env),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _bare_copy(env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Export the current parcels as CSV, then time a bare COPY of them into an unindexed table."""
    csv = folder / "parcels.csv"
    _psql(env, f"\\copy (SELECT {COLUMNS} FROM parcels WHERE valid_to IS NULL) TO '{csv}' WITH (FORMAT csv)")
    _psql(env, "DROP TABLE IF EXISTS _bench_copy; CREATE TABLE _bench_copy (LIKE parcels INCLUDING DEFAULTS)")
    t0 = time.perf_counter()
    _psql(env, f"\\copy _bench_copy ({COLUMNS}) FROM '{csv}' WITH (FORMAT csv)")
    seconds = time.perf_counter() - t0
    size_mb = csv.stat().st_size / 2**20
    _psql(env, "DROP TABLE _bench_copy")
    csv.unlink()
    return seconds, size_mb


def bench_size(parcels: int, *, folder: Path, judge: str = "wait") -> Result:
    """Make a fresh store in ``folder`` and time the floors and the province demo of ``parcels`` parcels.

    ``judge`` is the demo's ``--judge``: ``wait`` times the load and today's judgement, ``background`` the load
    alone, as the command returns (the judgement is then waited for, untimed, before the ``COPY`` floor).
    """
    home = folder / f"home{parcels}"
    env = os.environ.copy()
    env.pop("BLOCKLINE_DATABASE_URL", None)
    env.pop("BLOCKLINE_OWNER_DATABASE_URL", None)
    env.update(BLOCKLINE_HOME=str(home), BLOCKLINE_USER="bench")
    subprocess.run(
        [BLOCKLINE, "db", "up"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    loads = {"help": _load()}
    help_s, _, _ = _timed([BLOCKLINE, "--help"], env)
    loads["demo"] = _load()
    server_before = _server_cpu(home)
    demo_s, demo_mb, code, demo_cpu = _timed_cpu(
        [BLOCKLINE, "demo", "--region", "zhejiang", "--parcels", str(parcels), "--judge", judge], env
    )
    server_cpu = _server_cpu(home) - server_before
    while subprocess.run(["pgrep", "-f", "blockline.services.judged"], capture_output=True).returncode == 0:
        time.sleep(1)  # the background judgement, not timed: the COPY floor on a quiet server
    loads["copy"] = _load()
    copy_s, copy_mb = _bare_copy(env, folder)
    subprocess.run(
        [BLOCKLINE, "db", "down"], env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    shutil.rmtree(home, ignore_errors=True)
    return Result(parcels, help_s, demo_s, demo_mb, code, demo_cpu, server_cpu, copy_s, copy_mb, loads)


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| parcels | `blockline --help` | `blockline demo --region zhejiang` | CPU: command + server | peak memory | "
        "exit | bare `COPY` of the parcel rows | CSV | load average (help / demo / copy) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.parcels:,} | {r.help_s:.2f} s | **{r.demo_s:.1f} s** | {r.demo_cpu_s:.1f} + {r.server_cpu_s:.1f} s | "  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
            f"{r.demo_mb:,.0f} MB | {r.demo_code} | {r.copy_s:.1f} s | {r.copy_mb_file:,.0f} MB | "
            f"{r.loads['help']} / {r.loads['demo']} / {r.loads['copy']} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the sizes asked for and print (and with ``--out``, append) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000, 1_000_000])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default="")
    parser.add_argument("--judge", choices=["wait", "background"], default="wait", help="the demo's --judge")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-province-", dir="/tmp") as tmp:
        for n in args.sizes:
            results.append(bench_size(n, folder=Path(tmp), judge=args.judge))
            print(table(results[-1:]), flush=True)
    text = (
        f"\n### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC {args.label}\n\n"
        f"{os.cpu_count()} cores; `{Path(BLOCKLINE).relative_to(ROOT) if Path(BLOCKLINE).is_relative_to(ROOT) else BLOCKLINE}`\n\n"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        + table(results)
        + "\n"
    )
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
