"""People and land use: the right holders (权利人), their names and 统一社会信用代码, and what each one's land is for.

Neighbouring parcels of one block often share a holder; each holder gets one land use (国土空间调查、规划、用途
管制用地用海分类指南), a unique and plausible enterprise name (温州市瓯海宏达机械有限公司) and a 统一社会信用代码
with valid check characters (GB 32100-2015, GB 11714).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from blockline.demo._arrays import BoolArray, IntArray, StrArray

__all__ = ["Holders", "assign_holders", "cn_number", "short_name"]

_CITY = "温州市"
_TRADE_CHARS = list(
    "宏达鑫泰华盛恒兴瑞丰源通昌隆嘉和永新正东海金信安德利成富顺力远明光天宇星振伟豪博创精诚越康荣威邦凯联锦晨辉晟旺益鸿腾佳"
)
# 国土空间调查、规划、用途管制用地用海分类指南: 100101/100102/100103 一/二/三类工业, 1101 仓储, 0701 城镇住宅, 0901 商业
_LAND_USES = np.array(["100101", "100102", "100103", "1101", "0701", "0901"])
_LAND_USE_P = np.array([0.40, 0.38, 0.07, 0.10, 0.02, 0.03])
_INDUSTRIES = (
    ("电子", "科技", "智能装备", "眼镜", "服饰", "光电", "新材料", "医疗器械", "制笔", "工艺品"),
    (
        "机械",
        "阀门",
        "泵业",
        "电气",
        "汽车部件",
        "鞋业",
        "五金",
        "塑业",
        "包装",
        "印刷",
        "模具",
        "锁业",
        "紧固件",
    ),
    ("化工", "电镀", "合成革", "印染", "铸造"),
    ("物流", "仓储", "供应链管理"),
    ("置业", "房地产开发"),
    ("商贸", "商业管理", "酒店管理"),
)
_INDUSTRY_COUNT = np.array([len(i) for i in _INDUSTRIES])
_INDUSTRY_TABLE = np.array(
    [list(i) + [""] * (max(_INDUSTRY_COUNT) - len(i)) for i in _INDUSTRIES], dtype=object
)
_FORMS = np.array(["有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"])
_CN_DIGITS = "零一二三四五六七八九"

# GB 32100-2015 (统一社会信用代码) and GB 11714 (组织机构代码) check characters
_USCC_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


def short_name(name: str) -> str:
    """A county's name without its 区/县/市 (瓯海区 → 瓯海), unless that leaves one character."""
    return name[:-1] if len(name) > 2 and name[-1] in "区县市" else name


def cn_number(k: int) -> str:
    """``k`` (0–99) in Chinese numerals: 二, 十二, 二十."""
    if k < 10:
        return _CN_DIGITS[k]
    tens, ones = divmod(k, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def _uscc(county_codes: StrArray, serial: IntArray, offset: IntArray) -> StrArray:
    """统一社会信用代码: 9 (工商) 1 (企业) + 行政区划码 + 组织机构代码 (GB 11714) + check (GB 32100)."""
    n = serial.size
    if n == 0:
        return np.empty(0, dtype="U18")
    body = (offset + serial * 7_654_321) % 100_000_000  # a permutation of the 8-digit bodies: no repeats
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    org = 11 - (digits @ _ORG_WEIGHTS) % 11
    org_value = np.where(org == 11, 0, np.where(org == 10, 28, org))  # 28 is "X" in the USCC alphabet
    region = np.char.encode(county_codes.astype("U6"), "ascii").view("S1").reshape(n, 6).astype(np.int64)
    values = np.column_stack([np.full(n, 9), np.full(n, 1), region, digits, org_value])
    check = (31 - (values @ _USCC_WEIGHTS) % 31) % 31
    chars = _USCC_ALPHABET[np.column_stack([values, check])]
    return np.ascontiguousarray(chars).view("U18").ravel()


def _holder_names(
    rng: np.random.Generator,
    *,
    prefix: StrArray,
    category: IntArray,
) -> StrArray:
    """Unique enterprise names like 温州市瓯海宏达机械有限公司, one per holder."""
    n = prefix.size
    names = np.empty(n, dtype=object)
    todo = np.arange(n)
    n_chars = len(_TRADE_CHARS)
    chars = np.array(_TRADE_CHARS)
    for attempt in range(40):
        k = todo.size
        a = rng.integers(0, n_chars, k)
        b = (a + rng.integers(1, n_chars, k)) % n_chars
        trade = np.char.add(chars[a], chars[b])
        cat = category[todo]
        industry = _INDUSTRY_TABLE[cat, rng.integers(0, 60, k) % _INDUSTRY_COUNT[cat]]
        form = _FORMS[rng.integers(0, len(_FORMS), k)]
        if attempt >= 20:  # a crowded name space: add a branch number, still a plausible name
            form = np.char.add(np.char.add("第", np.array([cn_number(int(i) % 99 + 1) for i in todo])), "厂")
        names[todo] = prefix[todo].astype(object) + trade.astype(object) + industry + form.astype(object)
        dup = pd.Series(names).duplicated(keep="first").to_numpy()
        todo = np.flatnonzero(dup)
        if todo.size == 0:
            break
    if todo.size:
        names[todo] = names[todo] + np.array([f"（{i}）" for i in todo], dtype=object)
    return names.astype(str)


@dataclass(frozen=True)
class Holders:
    """The right holders, and each parcel's holder and land use."""

    holder_of: IntArray  # by parcel
    n_holders: int
    holder_category: IntArray  # by holder: the position of its land use in the land uses
    category: IntArray  # by parcel: its holder's
    names: StrArray  # by holder
    ids: StrArray  # by holder: 统一社会信用代码
    land_use: StrArray  # by parcel
    industrial: BoolArray  # by parcel: industrial land (1001xx) or 仓储 (1101), which carry contracts


def _prefixes(counties: gpd.GeoDataFrame, names: StrArray) -> StrArray:
    """Each county's enterprise-name prefix: 温州市瓯海 (city and short county name), or 乐清市 for a city."""
    city_names = (
        counties["city_name"].astype(str).to_numpy()
        if "city_name" in counties.columns
        else np.full(len(names), _CITY)
    )
    return np.array(
        [
            names[c] if names[c].endswith("市") else city_names[c] + short_name(names[c])
            for c in range(len(names))
        ]
    )


def assign_holders(
    rng: np.random.Generator, *, block: IntArray, county_of: IntArray, counties: gpd.GeoDataFrame
) -> Holders:
    """Holders for the parcels (a parcel shares its block neighbour's holder one time in five), with names and ids."""
    n = block.size
    codes = counties["code"].astype(str).to_numpy()
    names = counties["name"].astype(str).to_numpy()
    same_block_as_prev = np.concatenate([[False], block[1:] == block[:-1]])
    new_holder = ~same_block_as_prev | (rng.random(n) >= 0.2)
    holder_of = np.cumsum(new_holder) - 1
    n_holders = int(holder_of[-1]) + 1 if n else 0
    holder_county = county_of[np.flatnonzero(new_holder)]
    holder_category = rng.choice(len(_LAND_USES), size=n_holders, p=_LAND_USE_P)
    category = holder_category[holder_of]
    prefix = _prefixes(counties, names)
    holder_names = _holder_names(rng, prefix=prefix[holder_county], category=holder_category)
    serial_in_county = np.zeros(n_holders, dtype=np.int64)
    for c in np.unique(holder_county):
        mine = np.flatnonzero(holder_county == c)
        serial_in_county[mine] = np.arange(mine.size)
    county_offset = rng.integers(0, 100_000_000, len(codes))
    return Holders(
        holder_of=holder_of,
        n_holders=n_holders,
        holder_category=holder_category,
        category=category,
        names=holder_names,
        ids=_uscc(codes[holder_county], serial_in_county, county_offset[holder_county]),
        land_use=_LAND_USES[category],
        industrial=category <= 3,
    )
