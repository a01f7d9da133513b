"""The map's JavaScript: files in ``js/`` beside this module, read once and inlined into the page.

Inlined rather than loaded by URL, so a map saved as one HTML file (a notebook's, a test's) still works; each
file is one JavaScript function whose header comment says what it is called with (the comment stays out of
the page).

Examples
--------
>>> script("facts").startswith("function (feature, layer) {")
True
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["script"]


@cache
def script(name: str) -> str:
    """The function in ``js/<name>.js``, without its header comment."""
    text = (files("blockline.ui.maps") / "js" / f"{name}.js").read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and lines[0].startswith("//"):
        lines.pop(0)
    return "\n".join(lines).strip()
