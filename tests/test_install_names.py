"""``pip install .`` puts only ``blockline``, ``geo`` and ``zoning`` at the top of site-packages (issue 14).

The project is installed as a user would (``pip install .``, a real wheel built from a copy of the tree), into
a folder of its own (``--target``, ``--no-deps``: the dependencies are not what is counted), and the names at
the top of that folder are listed, as are the ``top_level`` names of the distribution's own file list.
The data the installed packages read (profiles, migrations, national rules) is there too.

(Kept in ``tools/`` until ``tools/house_move.py move`` moves the shell; the move puts it in ``tests/``.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: not part of what is built: the store, virtual environments, caches, earlier builds
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".blockline",
    "__pycache__",
    "build",
    "dist",
    "*.egg-info",
    ".hypothesis",
    ".pytest_cache",
    "out",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``pip install --target`` filled from a copy of the source tree."""
    base = tmp_path_factory.mktemp("install")
    source, target = base / "source", base / "site"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_only_the_three_packages_are_installed(installed: Path) -> None:
    """No ``cli``, ``server``, ``ui``, ``services``, ``reports`` or ``app_pages`` beside everything else."""
    names = {
        p.name
        for p in installed.iterdir()
        if not p.name.endswith((".dist-info", ".egg-info")) and p.name not in {"bin", "__pycache__"}
    }
    assert names == {"blockline", "geo", "zoning"}
    records = [
        line.split(",")[0]
        for p in installed.glob("blockline-*.dist-info")
        for line in (p / "RECORD").read_text(encoding="utf-8").splitlines()
    ]
    tops = {r.split("/")[0] for r in records if r and ".dist-info/" not in r and not r.startswith("..")}
    assert tops == {"blockline", "geo", "zoning"}


def test_the_installed_package_carries_its_data(installed: Path) -> None:
    """The files the packages read at run time are installed with them."""
    for part in (
        "blockline/reports/national.toml",
        "zoning/profiles/wenzhou-2020.toml",
        "geo/migrations/env.py",
        "geo/migrations/script.py.mako",
    ):
        assert (installed / part).is_file(), part
    scripts = {p.name for p in (ROOT / "blockline" / "ui" / "maps" / "js").glob("*.js")}
    assert (
        scripts and {p.name for p in (installed / "blockline" / "ui" / "maps" / "js").glob("*.js")} == scripts
    )
    migrations = {p.name for p in (ROOT / "geo" / "migrations" / "versions").glob("*.py")}
    assert {p.name for p in (installed / "geo" / "migrations" / "versions").glob("*.py")} == migrations


def test_the_console_script_is_the_packaged_command(installed: Path) -> None:
    """``blockline`` runs the command of the package, not a module called ``cli``."""
    points = next(installed.glob("blockline-*.dist-info")) / "entry_points.txt"
    assert "blockline = blockline.cli:main" in points.read_text(encoding="utf-8")
