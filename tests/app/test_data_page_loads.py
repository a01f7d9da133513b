"""数据: the layer picker of a multi-layer file (the command's --layer) and a 台账 joined by parcel number.

The small city of tests/app/test_pages.py: 鹿城区 and 瓯海区, three 100 m × 100 m parcels P-001…P-003.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.app.apptest import texts
from tests.app.test_pages import fill_small_city, open_page
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


@pytest.fixture
def city(engine: Engine) -> Engine:
    fill_small_city(engine)
    return engine


def _current(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""SELECT parcel_no, tax, ST_AsBinary(geom) FROM parcels
                                       WHERE valid_to IS NULL ORDER BY 1""")
        ).all()
    return {r[0]: (r[1], bytes(r[2])) for r in rows}


def test_a_multi_layer_geopackage_asks_for_its_layer(city: Engine, tmp_path: Path) -> None:
    path = tmp_path / "宗地.gpkg"
    gpd.GeoDataFrame({"宗地编号": ["L19-1"]}, geometry=[square(X + 700, Y + 700)], crs="EPSG:4549").to_file(
        path, layer="宗地2019", engine="pyogrio"
    )
    gpd.GeoDataFrame(
        {"宗地编号": ["L20-1", "L20-2"]},
        geometry=[square(X + 700, Y + 700), square(X + 900, Y + 700)],
        crs="EPSG:4549",
    ).to_file(path, layer="宗地2020", engine="pyogrio")
    at = open_page("blockline/app_pages/data.py")
    at.file_uploader[0].upload("宗地.gpkg", path.read_bytes()).run()
    assert not at.exception
    picker = at.selectbox(key="data_layer")
    assert picker.options == ["宗地2019", "宗地2020"] and picker.value is None
    assert "2 个图层" in texts(at) and [b.key for b in at.main.button] == []  # nothing to load before a pick
    picker.set_value("宗地2020").run()
    assert not at.exception and "检查通过" in texts(at)
    assert {m.label: m.value for m in at.metric}["要素数"] == "2"
    at.button(key="data_import").click().run()
    assert not at.exception and "新增 2" in texts(at)
    assert sorted(_current(city)) == ["L20-1", "L20-2", "P-001", "P-002", "P-003"]


def test_a_ledger_updates_attributes_by_number_from_the_page(city: Engine, tmp_path: Path) -> None:
    before = _current(city)
    ledger = tmp_path / "台账.xlsx"
    pd.DataFrame({"宗地编号": ["P-001", "P-404"], "年度税收": [88.5, 1.0]}).to_excel(ledger, index=False)
    at = open_page("blockline/app_pages/data.py")
    at.selectbox(key="data_kind").set_value("ledger").run()
    at.file_uploader[0].upload("台账.xlsx", ledger.read_bytes()).run()
    assert not at.exception and "检查通过" in texts(at)
    mapping = at.dataframe[1].value
    assert dict(zip(mapping["文件字段"], mapping["标准字段"], strict=False)) == {
        "宗地编号": "parcel_no",
        "年度税收": "tax",
    }
    at.button(key="data_import").click().run()
    assert not at.exception
    shown = texts(at)
    assert "更新 1 宗" in shown and "未找到 1" in shown and "P-404" in shown
    after = _current(city)
    assert after["P-001"] == (88.5, before["P-001"][1])  # the value updated, the shape byte for byte the same
    assert after["P-002"] == before["P-002"] and after["P-003"] == before["P-003"]


def test_a_ledger_with_a_bad_value_cannot_be_loaded(city: Engine, tmp_path: Path) -> None:
    ledger = tmp_path / "台账.csv"
    pd.DataFrame({"宗地编号": ["P-001", "P-002"], "年度税收": ["1", "十万"]}).to_csv(ledger, index=False)
    at = open_page("blockline/app_pages/data.py")
    at.selectbox(key="data_kind").set_value("ledger").run()
    at.file_uploader[0].upload("台账.csv", ledger.read_bytes()).run()
    errors = " ".join(e.value for e in at.error)
    assert "十万" in errors and "第 3 行" in errors
    assert at.button(key="data_import").disabled
