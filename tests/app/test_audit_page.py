"""审计 reads as sentences (issue 18, item 8): action names, phrases, formatted figures; no code, JSON, None or empty.

A real store: the demo city loaded (60 parcels), an admin added, a zone of 600 m × 100 m (90 亩) saved with one
requirement, and the admin signed in; the page is run with AppTest and its two tables read back.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from shapely import box
from sqlalchemy.engine import Engine

from blockline.demo import load_demo
from blockline.services.zones_store import save_zone
from geo.auth import add_user
from geo.settings import get_settings
from tests.app.test_sign_in import PASSWORD, sign_in
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y

#: what a cell of a planner's table must never read as
_RAW = re.compile(r"^(None|nan|NaN|NaT|empty|null|)$|^[a-z_]+\.[a-z_]+$|^[\[{]")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setenv("BLOCKLINE_TILES", "1")
    get_settings.cache_clear()  # the settings read BLOCKLINE_TILES


@pytest.fixture
def audited(engine: Engine) -> tuple[Engine, int, int]:
    load = load_demo(engine, user="installer", n_parcels=60).load_id
    add_user(engine, "admin", PASSWORD, roles=["admin", "planner"], by="installer")
    zone = save_zone(
        engine,
        name="北片",
        geometry=box(X + 800, Y + 800, X + 1400, Y + 900),
        assessment={"area_mu": 90.0},
        requirements={"investment_per_mu_wan": 300},
        user="admin",
        county_code="330302",
    )
    return engine, int(load), zone


def _cells(frame: object) -> list[str]:
    return [str(v) for v in frame.to_numpy().ravel()]  # type: ignore[attr-defined]


def test_the_trail_and_the_users_read_as_sentences(audited: tuple[Engine, int, int]) -> None:
    engine, load, zone = audited
    at = sign_in("admin")
    at.switch_page("blockline/app_pages/audit.py").run()
    assert not at.exception
    trail = at.dataframe[0].value
    assert {"载入示范数据", "新建用户", "保存片区", "登录"} <= set(trail["操作"])
    demo = trail[trail["对象"] == f"第 {load} 次导入：示范城市（随机种子 2020，宗地 60 宗）"]
    assert demo["操作"].tolist() == ["载入示范数据"]
    assert demo.iloc[0]["之后"].startswith("新增：60；更新：0；关闭旧版本：0")
    saved = trail[trail["对象"] == f"片区 {zone}：北片"].iloc[0]  # the trail is newest first
    assert (
        saved["之后"] == "面积：90.00 亩；县（市、区）：330302 鹿城区；片区要求：亩均投资强度（万元/亩） 300"
    )
    assert saved["批复文号"] == "—"
    added = trail[trail["操作"] == "新建用户"].iloc[0]
    assert added["对象"] == "admin" and added["之后"] == "角色：系统管理、规划编制；限定区县：全部；姓名：—"
    assert trail[trail["操作"] == "登录"].iloc[0]["之前"] == "—"
    raw = [c for c in _cells(trail) if _RAW.search(c)]
    assert not raw, raw
    users = at.dataframe[1].value
    assert users.set_index("用户名").loc["admin", ["姓名", "角色", "限定区县", "已停用"]].tolist() == [
        "—",
        "系统管理、规划编制",
        "全部",
        "否",
    ]
    raw = [c for c in _cells(users) if _RAW.search(c)]
    assert not raw, raw


def test_the_trail_reads_in_english_and_filters_by_action_name(audited: tuple[Engine, int, int]) -> None:
    engine, load, _ = audited
    at = sign_in("admin")
    at.radio(key="lang").set_value("en").run()
    at.switch_page("blockline/app_pages/audit.py").run()
    assert not at.exception
    trail = at.dataframe[0].value
    assert {"Demo city loaded", "User added", "Zone saved"} <= set(trail["Action"])
    demo = trail[trail["Action"] == "Demo city loaded"].iloc[0]
    assert demo["Target"] == f"load {load}: demo city (seed 2020, 60 parcels)"
    assert demo["After"].startswith("inserted: 60; updated: 0; old versions closed: 0")
    at.selectbox(key="audit_action").set_value("zone.save").run()
    with engine.connect() as conn:
        saved = conn.execute(sa.text("SELECT count(*) FROM audit WHERE action = 'zone.save'")).scalar_one()
    assert set(at.dataframe[0].value["Action"]) == {"Zone saved"} and len(at.dataframe[0].value) == saved >= 1
