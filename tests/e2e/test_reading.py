"""The reading test (issue 16): every page read as a planner reads it, in each language.

In Chinese mode no Latin word may show that is not a code, a unit, a file name or a proper name (one
allow-list, ``_ALLOWED``); in English mode no Chinese may show outside data values (names and place names,
which come from the store: ``_DATA``). Text is what a person sees: ``innerText`` of the page, without
Material icon ligatures (drawn as pictures), code spans (commands and paths, quoted as they are typed) and
the cells of data tables, plus the captions a stylesheet adds (``::after``; the keyboard's skip link is read
by its caption, its own text being set to size 0). Pages are reached by clicking
the sidebar, the language by clicking its switch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.app_driver import assert_no_exception, choose, draw_rectangle, drawn_mu, open_page, settle
from tests.e2e.test_drawing import Site, _pick_role, _rectangle, _wait_for_metric, _zoom_to, site  # noqa: F401

PAGES = ["概览", "一张图", "占补平衡", "连片开发", "低效与闲置用地", "全生命周期", "审计", "数据"]
PAGES_EN = [
    "Overview",
    "One map",
    "Occupy & replace",
    "Consolidation zones",
    "Idle & low-efficiency land",
    "Lifecycle",
    "Audit",
    "Data",
]

#: Latin words allowed in Chinese mode: units, codes, formats and proper names
_ALLOWED = re.compile(
    r"""^(?:
    m|km|m²|MB|KB|mu|EPSG|MVT|GCJ|CGCS\d*|WGS\d*|UTF|GBK|GB\d+|BIG\d|SIG|ZIP|zip|GPKG|gpkg|GeoJSON|geojson|JSON|json
    |KML|kml|KMZ|kmz|CSV|csv|FGB|fgb|SHP|shp|shx|dbf|prj|cpg|XLSX|xlsx|Excel|Word|Shapefile|GeoPackage|WKT|PostGIS
    |PostgreSQL|postgresql|psycopg|QGIS|OSM|OpenStreetMap|AMap|Gaode|blockline|Streamlit|gcj\d*|Gauss|Kruger|CM|E|N
    |degree|Gauss-Kruger|[a-z]+-\d{4}
    |parcel_no|[a-z]+(?:_[a-z0-9]+)+|[A-Z]{1,4}\d*|[A-Z0-9]+(?:-[A-Z0-9]+)+
)$""",
    re.X,
)
#: Chinese allowed in English mode besides data values: the units the app keeps in both languages
_UNITS_HAN = re.compile(r"亩|万元")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[-:][A-Za-z0-9_]+)*")
_HAN = re.compile(r"[\u3400-\u9fff]")
_FILE = re.compile(r"\S+\.(?:zip|gpkg|geojson|json|kml|kmz|csv|fgb|shp|xlsx|png|docx|pdf)\b", re.I)

_VISIBLE_JS = """() => {
    const skip = '[data-testid*="Icon"], code, [data-testid="stSkipToContent"], [data-testid="stSidebar"] [data-testid="stRadio"], [data-testid="stDataFrame"], [data-testid="stTable"], iframe';
    const copy = document.querySelector('[data-testid="stApp"]').cloneNode(true);
    copy.querySelectorAll(skip).forEach(e => e.remove());
    document.body.appendChild(copy);
    copy.style.position = 'absolute'; copy.style.left = '-99999px';
    const text = copy.innerText;
    copy.remove();
    const after = [...document.querySelectorAll('[data-testid="stApp"] *')]
        .map(e => getComputedStyle(e, '::after').content)
        .filter(c => c && c.startsWith('"') && c.length > 2).map(c => c.slice(1, -1));
    return text + '\\n' + after.join('\\n');
}"""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line


_URL = re.compile(r"\S+://\S+")

#: what reads like a log, not a page (issue 18, item 8): a missing value spelled by the program, raw JSON, a
#: field's code name (snake_case; a planner reads labels) — in the text and in the visible cells of every table
_RAW = re.compile(
    r"\b(?:None|empty|nan|NaN|NaT|null|undefined)\b|[{\[]\s*\"\w+\"\s*:|\b[a-z]+(?:_[a-z0-9]+)+\b"
)
#: the code names a page may show on purpose: the fields a file's columns are mapped to on 数据 (the loader's
#: own names, which its field-map option takes)
_CODES_SHOWN = {
    "parcel_no",
    "holder_id",
    "land_use",
    "delivered_on",
    "lease_years",
    "area_mu",
    "county_code",
    "approval_doc",
    "agreed_full_production_on",
}
_CELLS_JS = """() => [...document.querySelectorAll('[role="gridcell"], [role="columnheader"]')]
    .map(e => e.textContent).filter(t => t && t.trim()).join('\\n')"""


def _raw_words(page: Page, text: str) -> list[str]:
    """Words of ``text`` and of the visible table cells that read like a log (``_RAW``)."""
    text = _FILE.sub(" ", _URL.sub(" ", text + "\n" + page.evaluate(_CELLS_JS)))
    text = re.sub(r"`[^`]*`", " ", text)  # commands quoted as typed
    return sorted({m for m in _RAW.findall(text) if m not in _CODES_SHOWN})


def _latin_words(text: str) -> list[str]:
    text = _FILE.sub(" ", _URL.sub(" ", text))
    return sorted(
        {w for w in _WORD.findall(text) if not _ALLOWED.match(w) and not _ALLOWED.match(w.split(":")[0])}
    )


def _visible(page: Page) -> str:
    settle(page)
    assert_no_exception(page)
    return page.evaluate(_VISIBLE_JS)


def _visit(page: Page, link: str) -> str:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(link, exact=True).click()
    settle(page)
    return _visible(page)


def _wrong_crs_file(folder: Path) -> Path:
    import geopandas as gpd

    from tests.files import WENZHOU_X0 as X
    from tests.files import WENZHOU_Y0 as Y
    from tests.files import square

    path = folder / "宗地.gpkg"
    gpd.GeoDataFrame({"宗地编号": ["READ-001"]}, geometry=[square(X, Y)], crs="EPSG:4547").to_file(path)
    return path


def test_chinese_mode_shows_no_english(page: Page, tmp_path: Path) -> None:
    open_page(page, "")
    found: dict[str, list[str]] = {}
    for name in PAGES:
        text = _visit(page, name)
        found[name] = _latin_words(text)
        found[f"{name} raw"] = _raw_words(page, text)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        _wrong_crs_file(tmp_path)
    )
    expect(page.get_by_text("预览（尚未写入数据库）")).to_be_visible(timeout=60_000)
    found["数据 preview"] = _latin_words(text := _visible(page))
    found["数据 preview raw"] = _raw_words(page, text)
    bad = tmp_path / "坏文件.geojson"
    bad.write_text("这不是 GeoJSON", encoding="utf-8")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(bad)
    expect(page.locator('[data-testid="stAlertContentError"]').first).to_be_visible(timeout=60_000)
    found["数据 error"] = _latin_words(text := _visible(page))
    found["数据 error raw"] = _raw_words(page, text)
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def _english(page: Page) -> None:
    open_page(page, "")
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    settle(page)


def _data_values(engine: sa.Engine) -> list[str]:
    """Names and place names from the store: shown as they are in either language (longest first)."""
    with engine.connect() as conn:
        values = {
            str(v)
            for (v,) in conn.execute(
                sa.text(
                    "SELECT holder FROM parcels WHERE holder IS NOT NULL UNION SELECT name FROM admin_areas "
                    "UNION SELECT approval_doc FROM adjustments"
                )
            )
        }
    return sorted(values, key=len, reverse=True)


def test_english_mode_shows_no_chinese_outside_data(
    page: Page, e2e_engine: sa.Engine, tmp_path: Path
) -> None:
    values = _data_values(e2e_engine)
    _english(page)
    found: dict[str, list[str]] = {}
    for name in PAGES_EN:
        try:
            text = _visit(page, name)
        except Exception as exc:  # noqa: BLE001 - report the link that is missing
            found[name] = [f"no link: {exc.__class__.__name__}"]
            continue
        if raw := _raw_words(page, text):
            found[f"{name} raw"] = raw
        for value in values:
            text = text.replace(value, " ")
        lines = [ln for ln in text.splitlines() if _HAN.search(_UNITS_HAN.sub("", ln))]
        if lines:
            found[name] = lines
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        _wrong_crs_file(tmp_path)
    )
    expect(page.get_by_text("Preview (nothing written yet)")).to_be_visible(timeout=60_000)
    text = _FILE.sub(" ", _visible(page))
    lines = [ln for ln in text.splitlines() if _HAN.search(_UNITS_HAN.sub("", ln))]
    if lines:
        found["Data preview"] = lines
    bad = tmp_path / "bad.geojson"
    bad.write_text("not GeoJSON at all", encoding="utf-8")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(bad)
    expect(page.locator('[data-testid="stAlertContentError"]').first).to_be_visible(timeout=60_000)
    text = _FILE.sub(" ", _visible(page))
    lines = [ln for ln in text.splitlines() if _HAN.search(_UNITS_HAN.sub("", ln))]
    if lines:
        found["Data error"] = lines
    if raw := _raw_words(page, text):
        found["Data error raw"] = raw
    assert not found, found


def _english_lines(page: Page, text: str, values: list[str]) -> list[str]:
    for value in values:
        text = text.replace(value, " ")
    return [ln for ln in text.splitlines() if _HAN.search(_UNITS_HAN.sub("", ln))]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unbalanced_drawing_reads_in_the_page_s_language(
    page: Page,
    site: Site,  # noqa: F811 the fixture imported from test_drawing, asked for by name
    e2e_engine: sa.Engine,
    lang: str,
) -> None:
    """占补平衡 after drawing a removal only: the shortfall, the warnings and the record form with its pickers."""
    words = {
        "zh": ("县（市、区）", "调出范围", "占用一级线", "县域内还差"),
        "en": ("County", "removal", "Level 1 occupied", "short: add land"),
    }[lang]
    if lang == "en":
        _english(page)  # a new address would start a new session, in Chinese: the sidebar leads on
        _visit(page, "Occupy & replace")
    else:
        open_page(page, "balance")
    choose(page, words[0], f"{site.county} {site.name}")
    _pick_role(page, words[1])
    corners = _rectangle(*_zoom_to(page, site.in_level1))
    removal_mu = drawn_mu(page, corners, epsg=site.srid)
    draw_rectangle(page, corners[0], corners[2])
    _wait_for_metric(page, words[2], removal_mu)
    expect(page.get_by_text(words[3], exact=False).first).to_be_visible()
    text = _visible(page)
    found = {
        "words": _latin_words(text) if lang == "zh" else _english_lines(page, text, _data_values(e2e_engine)),
        "raw": _raw_words(page, text),
    }
    assert not any(found.values()), found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_drawn_zone_reads_in_the_page_s_language(
    page: Page,
    site: Site,  # noqa: F811 the fixture imported from test_drawing, asked for by name
    e2e_engine: sa.Engine,
    lang: str,
) -> None:
    """连片开发 after drawing a zone: its area, its assessment and the form to save it."""
    area, assessment = {"zh": ("片区面积", "片区评估"), "en": ("Zone area", "Assessment")}[lang]
    if lang == "en":
        _english(page)
        _visit(page, "Consolidation zones")
    else:
        open_page(page, "zones")
    corners = _rectangle(*_zoom_to(page, site.in_level1))
    zone_mu = drawn_mu(page, corners, epsg=site.srid)
    draw_rectangle(page, corners[0], corners[2])
    _wait_for_metric(page, area, zone_mu)
    expect(page.get_by_text(assessment, exact=True)).to_be_visible()
    text = _visible(page)
    found = {
        "words": _latin_words(text) if lang == "zh" else _english_lines(page, text, _data_values(e2e_engine)),
        "raw": _raw_words(page, text),
    }
    assert not any(found.values()), found
