"""The sidebar's icons are Streamlit's built-in Material icons, never emoji.

An emoji needs an emoji font on the reader's machine; most government intranet PCs have none and show an
empty box. A Material icon (``":material/map:"``) is drawn from the font Streamlit ships with the page.
"""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest
from streamlit.material_icon_names import ALL_MATERIAL_ICONS

APP = Path(__file__).parents[2] / "app.py"


def _icon_arguments() -> list[tuple[int, object]]:
    """(line, value) of every ``icon=`` and ``page_icon=`` keyword in app.py."""
    found = []
    for node in ast.walk(ast.parse(APP.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("icon", "page_icon"):
                    value = kw.value.value if isinstance(kw.value, ast.Constant) else ast.unparse(kw.value)
                    found.append((kw.value.lineno, value))
    return found


def test_app_sets_the_page_icon_and_an_icon_for_every_page() -> None:
    pages = APP.read_text(encoding="utf-8").count("st.Page(")
    assert pages >= 8
    assert len(_icon_arguments()) == pages + 1  # every page, and the browser tab's page_icon


@pytest.mark.parametrize(("line", "icon"), _icon_arguments())
def test_every_icon_is_a_known_material_icon(line: int, icon: object) -> None:
    assert isinstance(icon, str), f"app.py:{line}: the icon is computed ({icon}); write it out"
    assert icon.startswith(":material/") and icon.endswith(":"), (
        f"app.py:{line}: {icon!r} is not a Material icon"
    )
    assert icon[len(":material/") : -1] in ALL_MATERIAL_ICONS, f"app.py:{line}: no Material icon {icon!r}"
    symbols = [c for c in icon if unicodedata.category(c) == "So" or ord(c) > 0x2000]
    assert not symbols, f"app.py:{line}: {icon!r} holds the symbol(s) {symbols}"
