"""Every ``>>>`` example in the code runs (issue 14): a broken example fails the suite like a broken test.

The modules are found on disk, so a new module with examples is run without being listed here. Pages are left
out (a page module draws its page when imported), and so are migrations (alembic runs them).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: folders at the root that hold no importable code of the application (or hold scripts, not modules)
_NOT_CODE = {"tests", "bench", "docs", "notebooks", "data", "tools", "static"}
_SKIP_PARTS = {"app_pages", "migrations"}


def _modules_with_examples() -> list[str]:
    names = []
    for folder in sorted(
        p for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in _NOT_CODE
    ):
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(ROOT)
            if _SKIP_PARTS & set(rel.parts) or ">>>" not in path.read_text(encoding="utf-8"):
                continue
            names.append(".".join(rel.with_suffix("").parts).removesuffix(".__init__"))
    return names


MODULES = _modules_with_examples()


def test_the_examples_are_found() -> None:
    # the modules the issue counted (about 30) are all there, wherever the move put them
    assert len(MODULES) >= 30
    assert {"geo.area", "zoning.lifecycle", "zoning.findings"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE, report=False
    )
    assert result.attempted > 0, f"{name}: no example ran"
    assert result.failed == 0, (
        f"{name}: {result.failed} of {result.attempted} examples failed (run pytest -s)"
    )
