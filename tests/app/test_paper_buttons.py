"""The document buttons beside the pages' results (issue 15): each offers the Word and PDF file of the same
document as ``blockline report``, with the page's figures in it.

占补平衡 on the two-county city (tests.files): removing 600 m × 100 m of 鹿城's level 1 (90 亩) and adding
550 m × 100 m (82.5 亩) leaves the county 7.5 亩 short. 全生命周期 and 低效与闲置用地 on the demo city.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from geo import clock
from tests.app.apptest import download, record_media
from tests.app.test_balance_page import ADDITION, REMOVAL, drawn, keep
from tests.files import load_two_county_city

PAGES = Path(__file__).resolve().parents[2] / "blockline" / "app_pages"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    return record_media(monkeypatch)


def _open(page: str, *, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _docx_text(body: bytes) -> str:
    d = docx.Document(io.BytesIO(body))
    return "\n".join(
        [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
    )


def _pdf_text(body: bytes, tmp: Path) -> str:
    path = tmp / "doc.pdf"
    path.write_bytes(body)
    out = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return "".join(out.split())


def test_the_balance_page_offers_the_paper_of_what_is_drawn(
    engine: sa.Engine, tmp_path: Path, media: list[object]
) -> None:
    load_two_county_city(engine, tmp_path)
    sketch = keep(engine, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    at = _open("balance.py", query={"sketch": sketch})
    word = _docx_text(download(at, media, "balance_paper_docx"))
    assert "占补平衡调整论证材料" in word and "90.00 亩" in word and "82.50 亩" in word and "-7.50 亩" in word
    pdf = _pdf_text(download(at, media, "balance_paper_pdf"), tmp_path)
    assert "占补平衡调整论证材料" in pdf and "-7.50亩" in pdf and "WZ" in pdf


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    from blockline.demo import load_demo

    load_demo(engine, user="test", n_parcels=300, seed=5)
    return engine


def test_the_lifecycle_page_offers_the_contract_letter_of_the_parcel(
    demo: sa.Engine, media: list[object]
) -> None:
    from geo.queries import read_parcels, read_ratings
    from zoning.lifecycle import lifecycle_findings
    from zoning.policy import get_profile

    found = lifecycle_findings(
        read_parcels(demo, geometry=False),
        read_ratings(demo),
        as_of=clock.today(),
        profile=get_profile("wenzhou-2020"),
    )
    short = found[found["category"] == "tax_shortfall"].iloc[0]
    at = _open("lifecycle.py")
    at.text_input(key="lifecycle_search").input(short["parcel_no"]).run()
    assert at.selectbox(key="lifecycle_parcel").value == short["parcel_no"]
    word = _docx_text(download(at, media, "lifecycle_paper_docx"))
    assert "履约核查函" in word and short["parcel_no"] in word
    assert f"违约金 {short['penalty_wan']:,.2f} 万元" in word and short["article"] in word


def test_the_idle_page_offers_the_notice_and_the_decision_of_the_picked_parcel(
    demo: sa.Engine, tmp_path: Path, media: list[object]
) -> None:
    from geo.queries import read_parcels
    from zoning.idle import idle_findings
    from zoning.policy import get_profile

    found = idle_findings(
        read_parcels(demo, geometry=False), as_of=clock.today(), profile=get_profile("wenzhou-2020")
    )
    idle = found[found["category"] == "idle"].iloc[0]
    at = _open("idle.py")
    at.selectbox(key="idle_focus").set_value(idle["parcel_no"]).run()
    assert not at.exception, [e.value for e in at.exception]
    notice = _pdf_text(download(at, media, "idle_paper_notice_pdf"), tmp_path)
    assert "闲置土地调查通知书" in notice and idle["parcel_no"] in notice
    assert "".join(idle["article"].split()) in notice
    decision = _docx_text(download(at, media, "idle_paper_decision_docx"))
    assert "闲置土地认定书" in decision and idle["detail"] in decision


def test_the_zones_page_offers_the_plan_of_the_opened_zone(
    engine: sa.Engine, tmp_path: Path, media: list[object]
) -> None:
    from tests.app.test_zones_page import ZONE, fill_parcels
    from tests.app.test_zones_page import drawn as drawn_zone

    load_two_county_city(engine, tmp_path)
    fill_parcels(engine)
    at, _ = drawn_zone(engine, ZONE)  # 250 m × 250 m = 93.75 亩, by hand
    at.text_input(key="zones_name").input("滨江片区")
    at.button(key="zones_save").click().run()
    at.selectbox(key="zones_open").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    word = _docx_text(download(at, media, "zones_paper_docx"))
    assert "连片开发片区方案" in word and "滨江片区" in word and "93.75 亩" in word
    for no in ("A1", "A2", "A3", "A4", "H1"):  # the parcels the page's assessment takes (test_zones_page)
        assert no in word
    pdf = _pdf_text(download(at, media, "zones_paper_pdf"), tmp_path)
    assert "93.75亩" in pdf and "WZ§12" in pdf
