"""The translation table is complete, every key the app asks for exists, pages hard-code no words."""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from blockline.ui.data import KINDS
from blockline.ui.i18n import (
    LANG_NAMES,
    LANGS,
    error_text,
    fmt_date,
    fmt_ha,
    fmt_int,
    fmt_mu,
    fmt_mu_ha,
    land_use_label,
    translate,
)
from blockline.ui.maps import BASEMAPS, COLOR_BY, LAYER_KEYS

ROOT = Path(__file__).resolve().parents[2]
APP_FILES = [
    ROOT / "app.py",
    *sorted((ROOT / "blockline" / "app_pages").glob("*.py")),
    *sorted((ROOT / "blockline" / "ui").glob("*.py")),
]
PAGE_FILES = [ROOT / "app.py", *sorted((ROOT / "blockline" / "app_pages").glob("*.py"))]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_key_in_both_languages() -> None:
    assert set(LANGS) == set(LANG_NAMES) == {"zh", "en"}
    assert set(LANGS["zh"]) == set(LANGS["en"])
    for lang, table in LANGS.items():
        empty = [k for k, v in table.items() if not v.strip()]
        assert not empty, f"empty texts in {lang}: {empty}"


def test_placeholders_match_between_languages() -> None:
    differ = {
        k: (_fields(LANGS["zh"][k]), _fields(LANGS["en"][k]))
        for k in LANGS["zh"]
        if _fields(LANGS["zh"][k]) != _fields(LANGS["en"][k])
    }
    assert not differ


def test_chinese_is_chinese_and_english_is_not() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert cjk.search(translate("nav.map", "zh"))
    # English texts may quote Chinese terms (亩, 宗地编号) but are not the Chinese text copied over.
    same = [k for k in LANGS["zh"] if LANGS["zh"][k] == LANGS["en"][k] and cjk.search(LANGS["zh"][k])]
    assert not same, f"untranslated: {same}"


def _keys_used(path: Path) -> set[str]:
    """Literal keys passed to t(...) or translate(...) in a file."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in ("t", "translate") and isinstance(node.args[0].value, str):
                keys.add(node.args[0].value)
    return keys


def test_every_key_the_app_uses_exists() -> None:
    used = set().union(*(_keys_used(p) for p in APP_FILES))
    assert len(used) > 50  # the scan found the calls
    # Keys the app builds from its choices (t(f"basemap.{b}"), t(f"kind.{k}") ...).
    used |= {f"basemap.{b}" for b in BASEMAPS} | {f"kind.{k}" for k in KINDS}
    used |= {f"color.{c}" for c in (*COLOR_BY, "none")} | set(LAYER_KEYS)
    used |= {f"col.{c}" for c in ("county", "name", "level1_mu", "level2_mu", "parcels", "parcels_mu")}
    used |= {f"nav.{p.stem}" for p in (ROOT / "blockline" / "app_pages").glob("*.py") if p.stem != "__init__"}
    missing = sorted(used - set(LANGS["zh"]))
    assert not missing


_DISPLAY_CALLS = {
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "write",
    "text",
    "info",
    "warning",
    "error",
    "success",
    "metric",
    "button",
    "download_button",
    "selectbox",
    "multiselect",
    "radio",
    "text_input",
    "text_area",
    "date_input",
    "file_uploader",
    "expander",
    "Page",
    "toast",
    "checkbox",
    "number_input",
    "progress",
}


def test_pages_hard_code_no_user_facing_text() -> None:
    found = []
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for path in PAGE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _DISPLAY_CALLS
            ):
                args = [
                    *node.args[:1],
                    *[k.value for k in node.keywords if k.arg in ("label", "body", "text", "title")],
                ]
                found += [
                    f"{path.name}:{node.lineno}"
                    for a in args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.strip()
                ]
        # Chinese words belong in the translation table (docstrings aside).
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(n)
        }
        found += [
            f"{path.name}:{n.lineno} {n.value!r}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and cjk.search(n.value)
            and id(n) not in docstrings
        ]
    assert not found


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        translate("no.such.key", "zh")


def test_t_follows_the_language_in_session_state() -> None:
    def script() -> None:
        import streamlit as st

        from blockline.ui.i18n import t

        st.markdown(t("nav.map"))
        st.markdown(t("overview.level1", n=3))

    at = AppTest.from_function(script, default_timeout=30).run()
    assert [m.value for m in at.markdown] == ["一张图", "一级线（3 块）"]
    at.session_state["lang"] = "en"
    at.run()
    assert [m.value for m in at.markdown] == ["One map", "Level-1 block lines (3)"]


def test_fmt_mu() -> None:
    assert fmt_mu(1234.5) == "1,234.50 亩"
    assert fmt_mu(15) == "15.00 亩"
    assert fmt_mu(0.004) == "0.00 亩"
    assert fmt_mu(-0.004) == "0.00 亩"  # no "-0.00"
    assert fmt_mu(-7.5) == "-7.50 亩"
    assert fmt_mu(1_234_567.891) == "1,234,567.89 亩"
    assert fmt_mu(None) == fmt_mu(float("nan")) == "—"


def test_hectares_are_fifteen_mu() -> None:
    assert fmt_ha(15) == "1.00 公顷"
    assert fmt_ha(1234.5) == "82.30 公顷"
    assert fmt_mu_ha(15) == "15.00 亩（1.00 公顷）"
    assert fmt_mu_ha(None) == "—"


def test_fmt_date_and_int() -> None:
    assert fmt_date(dt.date(2026, 1, 2)) == "2026-01-02"
    assert fmt_date(dt.datetime(2026, 1, 2, 23, 59)) == "2026-01-02"
    assert fmt_date(pd.Timestamp("2026-01-02 08:00")) == "2026-01-02"
    assert fmt_date("2026-01-02T08:00:00+08:00") == "2026-01-02"
    assert fmt_date(None) == fmt_date(pd.NaT) == "—"
    assert fmt_int(1234567) == "1,234,567"


def test_land_use_label() -> None:
    assert land_use_label("100101", "zh") == "100101 一类工业用地"
    assert land_use_label("100101", "en") == "100101 class-1 industrial"
    assert land_use_label("9999", "zh") == "9999"
    assert land_use_label(None, "zh") == "—"


def test_error_text_in_each_language() -> None:
    from geo.errors import InputError

    err = InputError(
        "文件没有坐标系", "the file has no CRS", file="a.shp", fix_zh="填写坐标系", fix_en="give the CRS"
    )
    assert error_text(err.as_dict(), "zh") == "a.shp: 文件没有坐标系\n\n处理：填写坐标系"
    assert error_text(err.as_dict(), "en") == "a.shp: the file has no CRS\n\nFix: give the CRS"
