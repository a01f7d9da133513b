"""Issue 14, the house's bar, checked: what a newcomer reading the application should not meet.

Run from the repository's root::

    python3 tools/house_check.py                  # the whole application (geo/, zoning/, blockline/, app.py)
    python3 tools/house_check.py geo/load.py ...  # some files or folders only

It reports, and exits 1 if it found any:

- a file of the application over 500 lines;
- a function over 80 lines (its whole span, docstring included) without a ``# long: <why>`` comment on the
  line just above its ``def`` (or above its first decorator);
- a function-local ``import`` without a ``# lazy: <what it saves>`` comment on the import's line or the line
  above (function-local imports are kept only where they are measured to matter for start-up time);
- a ``# noqa`` marker left by the house move (``issue 14: left``).

Complexity over 12 is ruff's C901 (``./dev.sh test`` runs it); a ``# noqa: C901`` must carry its reason in the
same comment. ``tests/test_house.py`` runs this check over the whole application, so ``./dev.sh test`` fails on it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

APPLICATION = ("geo", "zoning", "blockline", "app.py")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
LEFT_MARKER = "issue 14: left"


def application_files(paths: Iterable[str] = APPLICATION, root: Path = Path(".")) -> Iterator[Path]:
    """Yield the Python files under ``paths`` (files or folders), sorted."""
    for name in paths:
        path = root / name
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.suffix == ".py" and path.exists():
            yield path


def _comment_above(lines: list[str], lineno: int, tag: str) -> bool:
    """Whether the 1-based line ``lineno`` or the comment lines just above it carry ``# tag``."""
    if f"# {tag}" in lines[lineno - 1]:
        return True
    i = lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        if lines[i].strip().startswith(f"# {tag}"):
            return True
        i -= 1
    return False


def findings_in(path: Path) -> list[str]:
    """What the house's bar finds in one file, one line each (``path:line: what``)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    if len(lines) > MAX_FILE_LINES:
        found.append(f"{path}:1: file has {len(lines)} lines (over {MAX_FILE_LINES})")
    for i, line in enumerate(lines, 1):
        if LEFT_MARKER in line:
            found.append(f"{path}:{i}: noqa marker left by the house move")
    tree = ast.parse(text, filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        span = (node.end_lineno or node.lineno) - node.lineno + 1
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        if span > MAX_FUNCTION_LINES and not _comment_above(lines, first, "long:"):
            found.append(
                f"{path}:{node.lineno}: function {node.name} has {span} lines (over {MAX_FUNCTION_LINES})"
            )
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom) and not _comment_above(
                lines, inner.lineno, "lazy:"
            ):
                found.append(f"{path}:{inner.lineno}: import inside function {node.name} without '# lazy: …'")
    return found


def main(argv: list[str]) -> int:
    """Check the files named in ``argv`` (default: the whole application); print findings, return 1 if any."""
    found = [f for path in application_files(argv or APPLICATION) for f in findings_in(path)]
    for line in found:
        print(line)
    print(f"{len(found)} finding(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
