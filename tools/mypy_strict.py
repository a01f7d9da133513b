"""Issue 14: mypy as if the pyproject baseline were empty, errors shown for the files named.

The baseline is the list under "issue 14: modules mypy still finds errors in"; default: all files.

    python3 tools/mypy_strict.py geo/load.py blockline/ui/

Exits 1 if mypy finds an error in a named file. Used while the baseline is burnt down; when it is empty,
``mypy geo zoning blockline`` in ``./dev.sh test`` says the same.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run mypy with the baseline removed; print the errors in ``argv``'s files; 1 if any."""
    text = Path("pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r"# issue 14: modules mypy still finds.*?ignore_errors = true\n", "", text, flags=re.S)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(text)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", config.name, "geo", "zoning", "blockline"],
        capture_output=True,
        text=True,
        check=False,
    )
    Path(config.name).unlink()
    wanted = [a.rstrip("/") for a in argv]
    errors = [
        line
        for line in run.stdout.splitlines()
        if ": error:" in line and (not wanted or any(line.startswith(w) for w in wanted))
    ]
    print("\n".join(errors))
    print(f"{len(errors)} error(s) in the files named", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
