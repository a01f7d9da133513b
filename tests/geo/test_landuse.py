"""Every land-use code of the three standards, read by geo.landuse, against meanings written down by hand.

The expected names and kinds below are copied from the standards themselves (用地用海分类指南 2023,
GB/T 21010-2017, GB 50137-2011) and WZ's preamble (工业用地含用海、创新型产业用地M0), not from the module.
Kinds: I 工业用地 (industrial for every rule), W 仓储 (not fit for industry in the balance), M 采矿/盐田,
G a first-level class mixing these, O other land.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo.landuse import (
    GB50137,
    GBT21010,
    GUIDE,
    LOCAL,
    TABLE,
    in_industrial_scope,
    is_industrial,
    is_warehouse,
    label,
    lookup,
)
from zoning.findings import industrial_scope

KIND = {"I": "industrial", "W": "warehouse", "M": "mining", "G": "industrial_group", "O": "other"}

# (standard, code, name, kind)
GUIDE_CODES = [
    ("01", "耕地", "O"),
    ("02", "园地", "O"),
    ("03", "林地", "O"),
    ("04", "草地", "O"),
    ("05", "湿地", "O"),
    ("06", "农业设施建设用地", "O"),
    ("0601", "乡村道路用地", "O"),
    ("07", "居住用地", "O"),
    ("0701", "城镇住宅用地", "O"),
    ("0702", "城镇社区服务设施用地", "O"),
    ("0703", "农村宅基地", "O"),
    ("0704", "农村社区服务设施用地", "O"),
    ("08", "公共管理与公共服务用地", "O"),
    ("09", "商业服务业用地", "O"),
    ("0901", "商业用地", "O"),
    ("0902", "商务金融用地", "O"),
    ("0903", "娱乐用地", "O"),
    ("0904", "其他商业服务业用地", "O"),
    ("10", "工矿用地", "G"),
    ("1001", "工业用地", "I"),
    ("100101", "一类工业用地", "I"),
    ("100102", "二类工业用地", "I"),
    ("100103", "三类工业用地", "I"),
    ("1002", "采矿用地", "M"),
    ("1003", "盐田", "M"),
    ("11", "仓储用地", "W"),
    ("1101", "物流仓储用地", "W"),
    ("110101", "一类物流仓储用地", "W"),
    ("110102", "二类物流仓储用地", "W"),
    ("110103", "三类物流仓储用地", "W"),
    ("1102", "储备库用地", "W"),
    ("12", "交通运输用地", "O"),
    ("13", "公用设施用地", "O"),
    ("14", "绿地与开敞空间用地", "O"),
    ("15", "特殊用地", "O"),
    ("16", "留白用地", "O"),
    ("17", "陆地水域", "O"),
    ("18", "渔业用海", "O"),
    ("19", "工矿通信用海", "G"),
    ("1901", "工业用海", "I"),
    ("1902", "盐田用海", "M"),
    ("1903", "固体矿产用海", "M"),
    ("1904", "油气用海", "M"),
    ("1905", "可再生能源用海", "O"),
    ("1906", "海底电缆管道用海", "O"),
    ("20", "交通运输用海", "O"),
    ("21", "游憩用海", "O"),
    ("22", "特殊用海", "O"),
    ("23", "其他土地", "O"),
    ("24", "其他海域", "O"),
]
GBT_CODES = [
    ("01", "耕地", "O"),
    ("02", "园地", "O"),
    ("03", "林地", "O"),
    ("04", "草地", "O"),
    ("05", "商服用地", "O"),
    ("0501", "零售商业用地", "O"),
    ("0502", "批发市场用地", "O"),
    ("0503", "餐饮用地", "O"),
    ("0504", "旅馆用地", "O"),
    ("0505", "商务金融用地", "O"),
    ("0506", "娱乐用地", "O"),
    ("0507", "其他商服用地", "O"),
    ("06", "工矿仓储用地", "G"),
    ("0601", "工业用地", "I"),
    ("0602", "采矿用地", "M"),
    ("0603", "盐田", "M"),
    ("0604", "仓储用地", "W"),
    ("07", "住宅用地", "O"),
    ("0701", "城镇住宅用地", "O"),
    ("0702", "农村宅基地", "O"),
    ("08", "公共管理与公共服务用地", "O"),
    ("09", "特殊用地", "O"),
    ("0901", "军事设施用地", "O"),
    ("10", "交通运输用地", "O"),
    ("1001", "铁路用地", "O"),
    ("11", "水域及水利设施用地", "O"),
    ("1101", "河流水面", "O"),
    ("12", "其他土地", "O"),
]
GB50137_CODES = [
    ("R", "居住用地", "O"),
    ("R1", "一类居住用地", "O"),
    ("R2", "二类居住用地", "O"),
    ("R3", "三类居住用地", "O"),
    ("A", "公共管理与公共服务设施用地", "O"),
    ("B", "商业服务业设施用地", "O"),
    ("B1", "商业用地", "O"),
    ("B2", "商务用地", "O"),
    ("B3", "娱乐康体用地", "O"),
    ("B4", "公用设施营业网点用地", "O"),
    ("B9", "其他服务设施用地", "O"),
    ("M", "工业用地", "I"),
    ("M1", "一类工业用地", "I"),
    ("M2", "二类工业用地", "I"),
    ("M3", "三类工业用地", "I"),
    ("W", "物流仓储用地", "W"),
    ("W1", "一类物流仓储用地", "W"),
    ("W2", "二类物流仓储用地", "W"),
    ("W3", "三类物流仓储用地", "W"),
    ("S", "道路与交通设施用地", "O"),
    ("U", "公用设施用地", "O"),
    ("G", "绿地与广场用地", "O"),
    ("H", "建设用地", "O"),
    ("E", "非建设用地", "O"),
]
LOCAL_CODES = [("M0", "创新型产业用地", "I")]

ALL = (
    [(GUIDE, *c) for c in GUIDE_CODES]
    + [(GBT21010, *c) for c in GBT_CODES]
    + [(GB50137, *c) for c in GB50137_CODES]
    + [(LOCAL, *c) for c in LOCAL_CODES]
)


def test_the_table_is_the_list_checked_here() -> None:
    """Every code in the table is tested below, and nothing tested is missing from the table."""
    assert sorted((e.standard, e.code, e.name_zh, e.family) for e in TABLE) == sorted(
        (s, c, n, KIND[k]) for s, c, n, k in ALL
    )


@pytest.mark.parametrize(
    ("standard", "code", "name", "kind"), ALL, ids=[f"{s[:6]}-{c}" for s, c, _, _ in ALL]
)
def test_every_code_with_its_name(standard: str, code: str, name: str, kind: str) -> None:
    """Code and name together name one entry of one standard, also full-width and in every spelling."""
    for value in (
        f"{code} {name}",
        f"{code}{name}",
        f"{name}（{code}）",
        f"{code}-{name}",
        f" {code}　{name} ".translate(
            str.maketrans("0123456789MWRABSUGHE", "０１２３４５６７８９ＭＷＲＡＢＳＵＧＨＥ")
        ),
    ):
        entry = lookup(value)
        assert entry is not None, value
        assert (entry.code, entry.name_zh, entry.family) == (code, name, KIND[kind]), value
        # 01 耕地, 0701 城镇住宅用地 … mean the same in both numeric standards: either reading is right
        assert entry.standard in {s for s, c, n, _ in ALL if (c, n) == (code, name)}, value
    assert is_industrial(f"{code} {name}") is (kind == "I")
    assert is_warehouse(f"{code} {name}") is (kind == "W")
    assert in_industrial_scope(f"{code} {name}") is (kind != "O")
    assert label(f"{code} {name}") == f"{code} {name}"


# a bare code: where the two numeric standards disagree, its industrial meaning; else 用地用海分类
BARE = {
    # the codes issue 11 names
    "1001": ("工业用地", "I"),
    "100101": ("一类工业用地", "I"),
    "100102": ("二类工业用地", "I"),
    "100103": ("三类工业用地", "I"),
    "0601": ("工业用地", "I"),
    "0602": ("采矿用地", "M"),
    "0603": ("盐田", "M"),
    "0604": ("仓储用地", "W"),
    "06": ("工矿仓储用地", "G"),
    "10": ("工矿用地", "G"),
    "11": ("仓储用地", "W"),
    "1101": ("物流仓储用地", "W"),
    "M": ("工业用地", "I"),
    "M1": ("一类工业用地", "I"),
    "M2": ("二类工业用地", "I"),
    "M3": ("三类工业用地", "I"),
    "M0": ("创新型产业用地", "I"),
    "W": ("物流仓储用地", "W"),
    "0701": ("城镇住宅用地", "O"),
    "0901": ("商业用地", "O"),
    "R2": ("二类居住用地", "O"),
    "B1": ("商业用地", "O"),
    "05": ("湿地", "O"),
    "12": ("交通运输用地", "O"),
    # codes the table does not list: their parent class
    "100199": ("工业用地", "I"),
    "0799": ("居住用地", "O"),
    "R22": ("二类居住用地", "O"),
    "M11": ("一类工业用地", "I"),
    "1004": ("工矿用地", "G"),
    "A33": ("公共管理与公共服务设施用地", "O"),
    # names alone, with or without 用地
    "工业用地": ("工业用地", "I"),
    "一类工业用地": ("一类工业用地", "I"),
    "工业": ("工业用地", "I"),
    "三类工业": ("三类工业用地", "I"),
    "仓储用地": ("仓储用地", "W"),
    "物流仓储": ("物流仓储用地", "W"),
    "城镇住宅用地": ("城镇住宅用地", "O"),
    "商业用地": ("商业用地", "O"),
    # a known name that fits none of the code's meanings wins; an unknown name leaves the code to decide
    "0601 商业用地": ("商业用地", "O"),
    "1001 铁路用地": ("铁路用地", "O"),
    "0601 厂房": ("工业用地", "I"),
    # case and full width
    "m1": ("一类工业用地", "I"),
    "Ｍ１": ("一类工业用地", "I"),
    "１００１０１": ("一类工业用地", "I"),
}


@pytest.mark.parametrize("value", list(BARE))
def test_a_bare_code_or_name(value: str) -> None:
    name, kind = BARE[value]
    entry = lookup(value)
    assert entry is not None and (entry.name_zh, entry.family) == (name, KIND[kind])
    assert is_industrial(value) is (kind == "I")
    assert industrial_scope(pd.DataFrame({"land_use": [value]})).tolist() == [kind != "O"]


@pytest.mark.parametrize("value", [None, float("nan"), "", "  ", "9999", "XY", "办公楼", "商住混合"])
def test_unknown_is_judged_but_not_industrial(value: object) -> None:
    """Nothing passes unseen: an unknown land use is in the idle scope, and not fit for industry."""
    assert lookup(value) is None
    assert not is_industrial(value) and not is_warehouse(value)
    assert industrial_scope(pd.DataFrame({"land_use": [value]})).tolist() == [True]


def test_label_names_the_code_once() -> None:
    assert label("0601") == "0601 工业用地" and label("0601 工业用地") == "0601 工业用地"
    assert label("M1", "en") == "M1 class-1 industrial" and label("9999") == "9999" and label(None) == "—"
    assert label("Ｍ１") == "Ｍ１ 一类工业用地"
