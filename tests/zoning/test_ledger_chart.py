"""The ledger's chart by date (issue 16): a step of the city's level-1 total per adjustment, its 文号 on hover.

Counties and lines as in test_balance: 鹿城 level 1 is 600 m × 600 m = 540 亩, 瓯海 level 1 also 540 亩, so
the city loads 1080 亩; a 100 m × 100 m addition is 15 亩.
"""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import box

from blockline.services.balance import ledger
from blockline.services.ledger_record import record_adjustment
from blockline.ui.balance_view import balances_chart, history_chart, history_points
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.zoning.conftest import LC, OH, WZ


def test_no_adjustment_gives_no_chart(city: sa.Engine) -> None:
    book = ledger(city)
    assert book["level1_history"]  # the load of lines is there ...
    assert history_chart(book, "zh") is None  # ... but a flat line alone is no chart


def test_each_adjustment_is_a_step_and_a_point_with_its_document(city: sa.Engine) -> None:
    record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="瓯政〔2026〕2号",
        user="approver",
        profile=WZ,
    )  # +15 亩
    record_adjustment(
        city,
        county=LC,
        addition=box(X + 800, Y + 800, X + 1000, Y + 900),
        approval_doc="温政函〔2026〕5号",
        user="approver",
        profile=WZ,
    )  # +30 亩
    book = ledger(city)
    points = history_points(book)
    assert list(points["level1_mu"]) == pytest.approx([1080.0, 1095.0, 1125.0])
    assert list(points["approval_doc"]) == ["", "瓯政〔2026〕2号", "温政函〔2026〕5号"]
    spec = history_chart(book, "zh").to_dict()
    line, dots = spec["layer"]
    assert line["mark"]["interpolate"] == "step-after"
    assert (
        line["encoding"]["x"]["type"] == "temporal" and line["encoding"]["x"]["axis"]["format"] == "%Y-%m-%d"
    )
    dot_rows = spec["datasets"][dots["data"]["name"]]
    assert [r["approval_doc"] for r in dot_rows] == ["瓯政〔2026〕2号", "温政函〔2026〕5号"]
    assert dots["encoding"]["tooltip"][0]["title"] == "批复文号"
    bars = balances_chart(book, "zh").to_dict()
    rows = {r["county"].split()[0]: r["balance_mu"] for r in bars["datasets"][bars["data"]["name"]]}
    assert rows[OH] == pytest.approx(15.0) and rows[LC] == pytest.approx(30.0)
    assert isinstance(points["at"].iloc[0], pd.Timestamp)
    with city.connect() as conn:  # the chart's times are Beijing's wall time of each change, by PostgreSQL
        beijing = conn.execute(
            sa.text("SELECT recorded_at AT TIME ZONE 'Asia/Shanghai' FROM adjustments ORDER BY id")
        ).scalars()
        assert list(points["at"].iloc[1:]) == [pd.Timestamp(b) for b in beijing]
