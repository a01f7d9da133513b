"""Faults and load: real processes against the real database (the session cluster, or a private one).

The city here is hand-built so that every number can be written down in advance: five counties as
2 km × 2 km boxes in a row near Wenzhou (EPSG:4549), each with one level-1 line of 600 m × 600 m
(540 亩) at [x+100, x+700] × [Y+100, Y+700] of its box. A 100 m × 100 m box is 15 亩; a 100 m × 60 m
strip is 9 亩.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box

from geo.settings import PROJECT_ROOT
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y

#: 鹿城, 龙湾, 瓯海, 洞头, 永嘉: county i spans [X + 2000 i, X + 2000 (i+1)] × [Y, Y + 2000]
COUNTIES = ("330302", "330303", "330304", "330305", "330324")
NAMES = ("鹿城区", "龙湾区", "瓯海区", "洞头区", "永嘉县")


def county_x(code: str) -> float:
    """The west edge of county ``code``'s box."""
    return X + 2000 * COUNTIES.index(code)


def load_five_county_city(engine: sa.Engine, folder: Path) -> None:
    """The five counties and their level-1 lines, loaded as planners' files through the loaders."""
    from geo.load import load_blocklines, load_boundaries

    gpd.GeoDataFrame(
        {"code": list(COUNTIES), "name": list(NAMES)},
        geometry=[box(county_x(c), Y, county_x(c) + 2000, Y + 2000) for c in COUNTIES],
        crs="EPSG:4549",
    ).to_file(folder / "counties.gpkg", engine="pyogrio")
    load_boundaries(engine, folder / "counties.gpkg", user="test")
    gpd.GeoDataFrame(
        {"名称": [f"{n}一级" for n in NAMES]},
        geometry=[box(county_x(c) + 100, Y + 100, county_x(c) + 700, Y + 700) for c in COUNTIES],
        crs="EPSG:4549",
    ).to_file(folder / "level1.gpkg", engine="pyogrio")
    load_blocklines(engine, folder / "level1.gpkg", level=1, user="test")


def write_grid_parcels(
    path: Path, n: int, *, prefix: str, size_m: float = 30.0, per_row: int = 100, y0: float = Y + 800
) -> Path:
    """``n`` square parcels of ``size_m`` in rows of ``per_row`` from (X, y0), numbered ``prefix``-00001 …"""
    geoms = [
        box(
            X + (i % per_row) * size_m,
            y0 + (i // per_row) * size_m,
            X + (i % per_row + 1) * size_m,
            y0 + (i // per_row + 1) * size_m,
        )
        for i in range(n)
    ]
    gpd.GeoDataFrame(
        {
            "宗地编号": [f"{prefix}-{i:05d}" for i in range(1, n + 1)],
            "权利人": [f"企业{i % 97}" for i in range(n)],
            "土地用途": ["工业用地"] * n,
        },
        geometry=geoms,
        crs="EPSG:4549",
    ).to_file(path, engine="pyogrio")
    return path


def python_m(module: str, *args: str) -> list[str]:
    """A command line running ``python -m module args`` with the test's interpreter."""
    return [sys.executable, "-m", module, *args]


def child_env(**extra: str) -> dict[str, str]:
    """The test process's environment (BLOCKLINE_HOME of the session cluster, or its URL) for a child."""
    env = dict(os.environ)
    env.update(extra)
    return env


def spawn(args: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a child process from the project folder, its output captured."""
    return subprocess.Popen(
        list(args),
        cwd=PROJECT_ROOT,
        env=env or child_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[str], *, timeout_s: float = 120) -> tuple[int, str, str]:
    """Wait for a child: (exit code, stdout, stderr)."""
    out, err = proc.communicate(timeout=timeout_s)
    return proc.returncode, out, err


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, what: str, interval_s: float = 0.02) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval_s)


@pytest.fixture
def five_counties(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    load_five_county_city(engine, tmp_path)
    return engine
