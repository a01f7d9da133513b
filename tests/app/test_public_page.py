"""The public list page (YW §17) at /public: no sign-in, the list and its downloads, nothing else.

The small city of test_pages.py (three 15 亩 parcels), with users (setup mode over) and two parcels given a
lifecycle agreement by hand: P-001 (鹿城区, 100101) agreed tax 20 万元/亩 with full production in 2099 → not yet
due; P-003 (瓯海区, 100101) agreed FAR 1.2, completed 2020-01-01 with 5,000 m² on 10,000 m² → FAR 0.5, not met.
P-002 has no agreement and is not listed. Every parcel also carries a credit code, actual tax and an internal
note that must not show.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from geo.auth import add_user
from geo.settings import get_settings
from tests.app.apptest import download, record_media
from tests.app.test_pages import APP, HOSTILE, TIMEOUT, fill_small_city, texts

HEADERS = [
    "宗地编号",
    "县（市、区）",
    "面积（亩）",
    "权利人",
    "用途",
    "约定投资强度（万元/亩）",
    "约定亩均税收（万元/亩）",
    "约定容积率",
    "投资强度是否达到",
    "亩均税收是否达到",
    "容积率是否达到",
]
KEYS = [
    "parcel_no",
    "county_name",
    "area_mu",
    "holder",
    "land_use",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "min_far",
    "investment_met",
    "tax_met",
    "far_met",
]
SECRETS = ("91330300MA2ABCDE1X", "内部备注", "12345")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setenv("BLOCKLINE_TILES", "1")
    get_settings.cache_clear()  # the settings read BLOCKLINE_TILES


@pytest.fixture
def published(engine: Engine) -> Engine:
    fill_small_city(engine)
    add_user(engine, "admin", "correct horse battery", roles=["admin"], by="installer")
    with engine.begin() as conn:
        conn.execute(
            sa.text("""UPDATE parcels SET holder_id = '91330300MA2ABCDE1X', tax = 12345,
                                extra = '{"备注": "内部备注：拟收回"}'::jsonb""")
        )
        conn.execute(
            sa.text("""UPDATE parcels SET committed_tax_per_mu = 20, agreed_full_production_on = '2099-01-01'
                                WHERE parcel_no = 'P-001'""")
        )
        conn.execute(
            sa.text("""UPDATE parcels SET min_far = 1.2, completed_on = '2020-01-01', floor_area = 5000
                                WHERE parcel_no = 'P-003'""")
        )
    return engine


def _public() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert "登录" in [e.value for e in at.title]  # users exist: the app itself asks to sign in
    at.switch_page("blockline/app_pages/public.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_public_page_shows_the_list_without_sign_in_and_nothing_else(
    published: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    managers = record_media(monkeypatch)
    at = _public()
    assert [e.value for e in at.title] == ["全生命周期管理工业用地清单"]
    assert len(at.dataframe) == 1
    frame = at.dataframe[0].value
    assert list(frame.columns) == HEADERS
    assert list(frame["宗地编号"]) == ["P-001", "P-003"]
    rows = frame.set_index("宗地编号")
    assert rows.loc["P-001", "县（市、区）"] == "鹿城区" and rows.loc["P-001", "用途"] == "一类工业用地"
    assert (
        rows.loc["P-001", "亩均税收是否达到"] == "未到期" and rows.loc["P-003", "容积率是否达到"] == "未达到"
    )
    assert rows.loc["P-003", "面积（亩）"] == pytest.approx(15.0)
    shown = texts(at) + frame.to_string()
    assert HOSTILE not in shown and not any(s in shown for s in SECRETS)
    # nothing of the staff's app: no sidebar figures, buttons or links, no widget but the language
    assert not at.sidebar.caption and not at.sidebar.button and not at.get("page_link")
    assert [w.key for w in at.radio] == ["lang"] and not at.text_input and not at.selectbox
    # the three downloads: exactly the public columns
    xlsx = pd.read_excel(io.BytesIO(download(at, managers, "public_xlsx")))
    csv = pd.read_csv(io.BytesIO(download(at, managers, "public_csv")), encoding="utf-8-sig")
    body = json.loads(download(at, managers, "public_json"))
    assert list(xlsx.columns) == HEADERS and list(csv.columns) == HEADERS
    assert body["columns"] == KEYS and all(list(p) == KEYS for p in body["parcels"])
    assert [p["parcel_no"] for p in body["parcels"]] == ["P-001", "P-003"]


def test_from_the_public_page_no_other_page_is_registered(published: Engine) -> None:
    """The public page registers itself alone (hidden navigation): no address of the staff's pages is reachable."""
    at = _public()
    for page in (
        "blockline/app_pages/overview.py",
        "blockline/app_pages/data.py",
        "blockline/app_pages/lifecycle.py",
    ):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at = AppTest.from_file(
        str(APP), default_timeout=TIMEOUT
    ).run()  # the app's own address still asks to sign in
    assert "登录" in [e.value for e in at.title] and not at.dataframe
