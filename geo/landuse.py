"""Land-use codes: one table of what a parcel's ``land_use`` means, whichever standard the file follows.

Real files carry three classification standards, often mixed, with or without the Chinese name:

- 国土空间调查、规划、用途管制用地用海分类指南 (2023; "用地用海分类"): ``1001`` 工业用地,
  ``100101``–``100103`` 一/二/三类工业用地, ``1101`` 物流仓储用地 …;
- GB/T 21010-2017 土地利用现状分类: ``06`` 工矿仓储用地 with ``0601`` 工业, ``0602`` 采矿, ``0603`` 盐田,
  ``0604`` 仓储 …;
- GB 50137-2011 城市用地分类与规划建设用地标准: ``M``, ``M1``–``M3`` 工业, ``W`` 物流仓储 …;

and names alone (``工业用地``, ``一类工业用地``). This is data, not policy: the rules (``zoning``) ask it
what a value means and decide what to do with it.

Each entry has a *family*:

========================  ===============================================================================
``industrial``            工业用地 proper (1001, 1001xx, 0601, M, M1–M3, M0 创新型产业用地, 1901 工业用海)
``warehouse``             仓储 / 物流仓储 (11, 1101, 1101xx, 1102, 0604, W, W1–W3)
``mining``                采矿、盐田 and their sea uses (1002, 1003, 0602, 0603, 1902–1904)
``industrial_group``      a first-level class that mixes the above (10 工矿用地, 06 工矿仓储用地, 19 工矿通信用海)
``other``                 everything else (housing, commerce, public, transport, farmland, water …)
========================  ===============================================================================

Reading a value (:func:`lookup`): full-width characters, case and spaces are normalised (NFKC); a code may
stand alone, be followed by its name (``0601 工业用地``, ``M1-一类工业用地``) or follow it in brackets
(``一类工业用地（M1）``); ``工业`` is read as ``工业用地``. A code the table does not list is read as its parent
class (``0799`` → ``07`` 居住用地, ``R22`` → ``R2`` → ``R``). Where the two numeric standards give one code
two meanings (``0601`` is 工业用地 in GB/T 21010 but 乡村道路用地 in 用地用海分类; ``1001`` is 工业用地 in
用地用海分类 but 铁路用地 in GB/T 21010), a bare code is read in its industrial meaning when it has one (these
files are files of industrial land), otherwise in 用地用海分类 (the current standard); a name beside the code
that fits one of its meanings decides, and a known name that fits none of them wins over the code.

Examples
--------
>>> lookup("０６０１").name_zh, lookup("M1").family, lookup("一类工业用地（M1）").code
('工业用地', 'industrial', 'M1')
>>> [is_industrial(v) for v in ["100101", "0601", "M1", "工业用地", "0604", "W", "0701", "R2", None]]
[True, True, True, True, False, False, False, False, False]
>>> label("0601"), label("R22"), label("9999"), label("1001 铁路用地", "en")
('0601 工业用地', 'R22 二类居住用地', '9999', '1001 铁路用地 railway')
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = [
    "FAMILIES",
    "GB50137",
    "GBT21010",
    "GUIDE",
    "LOCAL",
    "TABLE",
    "LandUse",
    "in_industrial_scope",
    "industrial_land_uses",
    "industrial_values",
    "is_industrial",
    "is_warehouse",
    "label",
    "lookup",
]

GUIDE = "国土空间调查、规划、用途管制用地用海分类指南"
GBT21010 = "GB/T 21010-2017"
GB50137 = "GB 50137-2011"
LOCAL = "温政办〔2020〕53号"  # 工业用地（含用海、创新型产业用地M0）
FAMILIES = ("industrial", "warehouse", "mining", "industrial_group", "other")


@dataclass(frozen=True)
class LandUse:
    """One code of one standard: its names and what kind of land it is.

    Attributes
    ----------
    code, standard, name_zh, name_en
        The code as the standard writes it, the standard, and the names.
    family
        One of :data:`FAMILIES`.
    """

    code: str
    standard: str
    name_zh: str
    name_en: str
    family: str

    @property
    def industrial(self) -> bool:
        """工业用地 proper: fit for industry in the balance (WZ §4), industrial for every rule."""
        return self.family == "industrial"

    @property
    def warehouse(self) -> bool:
        """仓储 / 物流仓储 land."""
        return self.family == "warehouse"

    @property
    def in_scope(self) -> bool:
        """Land of the industrial/mining/warehouse classes, which the industrial-land rules judge."""
        return self.family != "other"


def _rows(standard: str, family: str, text: str) -> list[LandUse]:
    out = []
    for line in text.strip().splitlines():
        code, zh, en = (part.strip() for part in line.split("|"))
        out.append(LandUse(code, standard, zh, en, family))
    return out


_O, _I, _W, _M, _G = "other", "industrial", "warehouse", "mining", "industrial_group"

TABLE: tuple[LandUse, ...] = tuple(
    # 用地用海分类指南: first level, then the second/third level of the classes that matter here
    _rows(
        GUIDE,
        _O,
        """
        01 | 耕地 | cropland
        02 | 园地 | orchard land
        03 | 林地 | forest land
        04 | 草地 | grassland
        05 | 湿地 | wetland
        06 | 农业设施建设用地 | agricultural facilities
        0601 | 乡村道路用地 | rural roads
        07 | 居住用地 | residential
        0701 | 城镇住宅用地 | urban housing
        0702 | 城镇社区服务设施用地 | urban community services
        0703 | 农村宅基地 | rural homesteads
        0704 | 农村社区服务设施用地 | rural community services
        08 | 公共管理与公共服务用地 | public administration and services
        09 | 商业服务业用地 | commercial and business services
        0901 | 商业用地 | commercial
        0902 | 商务金融用地 | business and finance
        0903 | 娱乐用地 | entertainment
        0904 | 其他商业服务业用地 | other commercial services
        12 | 交通运输用地 | transport
        13 | 公用设施用地 | public utilities
        14 | 绿地与开敞空间用地 | green and open space
        15 | 特殊用地 | special use
        16 | 留白用地 | reserved land
        17 | 陆地水域 | inland water
        18 | 渔业用海 | fishery sea use
        1905 | 可再生能源用海 | renewable-energy sea use
        1906 | 海底电缆管道用海 | submarine cables and pipelines
        20 | 交通运输用海 | transport sea use
        21 | 游憩用海 | recreational sea use
        22 | 特殊用海 | special sea use
        23 | 其他土地 | other land
        24 | 其他海域 | other sea
    """,
    )
    + _rows(
        GUIDE,
        _G,
        """
        10 | 工矿用地 | industrial and mining
        19 | 工矿通信用海 | industrial, mining and communication sea use
    """,
    )
    + _rows(
        GUIDE,
        _I,
        """
        1001 | 工业用地 | industrial
        100101 | 一类工业用地 | class-1 industrial
        100102 | 二类工业用地 | class-2 industrial
        100103 | 三类工业用地 | class-3 industrial
        1901 | 工业用海 | industrial sea use
    """,
    )
    + _rows(
        GUIDE,
        _M,
        """
        1002 | 采矿用地 | mining
        1003 | 盐田 | salt pans
        1902 | 盐田用海 | salt-pan sea use
        1903 | 固体矿产用海 | solid-mineral sea use
        1904 | 油气用海 | oil and gas sea use
    """,
    )
    + _rows(
        GUIDE,
        _W,
        """
        11 | 仓储用地 | warehousing
        1101 | 物流仓储用地 | logistics and warehousing
        110101 | 一类物流仓储用地 | class-1 logistics and warehousing
        110102 | 二类物流仓储用地 | class-2 logistics and warehousing
        110103 | 三类物流仓储用地 | class-3 logistics and warehousing
        1102 | 储备库用地 | reserve depots
    """,
    )
    # GB/T 21010-2017 土地利用现状分类
    + _rows(
        GBT21010,
        _O,
        """
        01 | 耕地 | cropland
        02 | 园地 | orchard land
        03 | 林地 | forest land
        04 | 草地 | grassland
        05 | 商服用地 | commercial and services
        0501 | 零售商业用地 | retail
        0502 | 批发市场用地 | wholesale markets
        0503 | 餐饮用地 | catering
        0504 | 旅馆用地 | hotels
        0505 | 商务金融用地 | business and finance
        0506 | 娱乐用地 | entertainment
        0507 | 其他商服用地 | other commercial services
        07 | 住宅用地 | housing
        0701 | 城镇住宅用地 | urban housing
        0702 | 农村宅基地 | rural homesteads
        08 | 公共管理与公共服务用地 | public administration and services
        09 | 特殊用地 | special use
        0901 | 军事设施用地 | military
        10 | 交通运输用地 | transport
        1001 | 铁路用地 | railway
        11 | 水域及水利设施用地 | water and water works
        1101 | 河流水面 | rivers
        12 | 其他土地 | other land
    """,
    )
    + _rows(GBT21010, _G, "06 | 工矿仓储用地 | industrial, mining and warehousing")
    + _rows(GBT21010, _I, "0601 | 工业用地 | industrial")
    + _rows(
        GBT21010,
        _M,
        """
        0602 | 采矿用地 | mining
        0603 | 盐田 | salt pans
    """,
    )
    + _rows(GBT21010, _W, "0604 | 仓储用地 | warehousing")
    # GB 50137-2011 城市用地分类与规划建设用地标准
    + _rows(
        GB50137,
        _O,
        """
        R | 居住用地 | residential
        R1 | 一类居住用地 | class-1 residential
        R2 | 二类居住用地 | class-2 residential
        R3 | 三类居住用地 | class-3 residential
        A | 公共管理与公共服务设施用地 | public administration and services
        B | 商业服务业设施用地 | commercial and business facilities
        B1 | 商业用地 | commercial
        B2 | 商务用地 | business
        B3 | 娱乐康体用地 | entertainment and sports
        B4 | 公用设施营业网点用地 | utility service outlets
        B9 | 其他服务设施用地 | other services
        S | 道路与交通设施用地 | roads and transport facilities
        U | 公用设施用地 | public utilities
        G | 绿地与广场用地 | green space and squares
        H | 建设用地 | development land
        E | 非建设用地 | non-development land
    """,
    )
    + _rows(
        GB50137,
        _I,
        """
        M | 工业用地 | industrial
        M1 | 一类工业用地 | class-1 industrial
        M2 | 二类工业用地 | class-2 industrial
        M3 | 三类工业用地 | class-3 industrial
    """,
    )
    + _rows(
        GB50137,
        _W,
        """
        W | 物流仓储用地 | logistics and warehousing
        W1 | 一类物流仓储用地 | class-1 logistics and warehousing
        W2 | 二类物流仓储用地 | class-2 logistics and warehousing
        W3 | 三类物流仓储用地 | class-3 logistics and warehousing
    """,
    )
    # 浙江 / 温州: 工业用地（含用海、创新型产业用地M0）(WZ, preamble)
    + _rows(LOCAL, _I, "M0 | 创新型产业用地 | innovative industry")
)

# a bare code's reading: its industrial meaning first (files of industrial land), then 用地用海分类
_FAMILY_RANK = {_I: 0, _W: 1, _M: 2, _G: 3, _O: 4}
_STANDARD_RANK = {GUIDE: 0, GBT21010: 1, GB50137: 2, LOCAL: 3}


def _rank(entry: LandUse) -> tuple[int, int]:
    return _FAMILY_RANK[entry.family], _STANDARD_RANK[entry.standard]


def _index() -> tuple[dict[str, list[LandUse]], dict[str, list[LandUse]]]:
    by_code: dict[str, list[LandUse]] = {}
    by_name: dict[str, list[LandUse]] = {}
    for entry in TABLE:
        by_code.setdefault(entry.code, []).append(entry)
        by_name.setdefault(entry.name_zh, []).append(entry)
    for d in (by_code, by_name):
        for key in d:
            d[key].sort(key=_rank)
    return by_code, by_name


_BY_CODE, _BY_NAME = _index()
_CODE = r"\d{2,6}|[A-Z]\d{0,2}"
_CODE_FIRST = re.compile(rf"^(?P<code>{_CODE})(?:[\s\-_:.、/]+|(?=[^\x00-\x7f])|$)(?P<name>.*)$")
_NAME_FIRST = re.compile(rf"^(?P<name>[^()]*?)\s*\((?P<code>{_CODE})\)$")


def _normalise(value: object) -> str | None:
    """NFKC (full-width → ASCII), upper case, inner whitespace collapsed; None for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip().upper()
    return text or None


def _split(text: str) -> tuple[str | None, str]:
    """(code, name) of a normalised value; either may be missing."""
    m = _NAME_FIRST.match(text) or _CODE_FIRST.match(text)
    if m:
        return m.group("code"), m.group("name").strip(" -_:.、/")
    return None, text


def _by_code(code: str) -> list[LandUse]:
    """The entries of ``code``, or of its nearest listed parent class."""
    while code:
        if code in _BY_CODE:
            return _BY_CODE[code]
        code = code[:-2] if code.isdigit() else code[:-1]
        if code.isdigit() and len(code) < 2:
            break
    return []


def _by_name(name: str) -> list[LandUse]:
    name = name.replace(" ", "")
    return _BY_NAME.get(name) or _BY_NAME.get(f"{name}用地") or []


@lru_cache(maxsize=4096)
def _lookup(text: str) -> LandUse | None:
    code, name = _split(text)
    coded = _by_code(code) if code else []
    if not name:
        return coded[0] if coded else None
    named = _by_name(name)
    both = [e for e in coded if e in named]
    found = both or named or coded
    return found[0] if found else None


def lookup(value: object) -> LandUse | None:
    """The table's entry for a ``land_use`` value (code, code and name, or name), None when unknown.

    Examples
    --------
    >>> lookup("100102").name_en, lookup("0799").code, lookup("住宅").code, lookup("办公楼") is None
    ('class-2 industrial', '07', '07', True)
    """
    text = _normalise(value)
    return None if text is None else _lookup(text)


def is_industrial(value: object) -> bool:
    """Whether a ``land_use`` value is 工业用地 (any standard); unknown and missing values are not."""
    entry = lookup(value)
    return entry is not None and entry.industrial


def is_warehouse(value: object) -> bool:
    """Whether a ``land_use`` value is 仓储 / 物流仓储 land."""
    entry = lookup(value)
    return entry is not None and entry.warehouse


def in_industrial_scope(value: object) -> bool:
    """Whether the industrial-land rules judge a parcel of this land use.

    Industrial, warehouse, mining and mixed 工矿 classes are judged, and so is a missing or unknown value
    (nothing passes unseen); only land the table knows to be of another kind (housing, commerce …) is not.
    """
    entry = lookup(value)
    return entry is None or entry.in_scope


def industrial_values(values: Iterable[object]) -> list[str]:
    """The distinct values among ``values`` that are industrial, as given (for ``= ANY(:industrial)`` in SQL).

    Examples
    --------
    >>> industrial_values(["0601", "M1", "R2", "工业用地", "0601", None])
    ['0601', 'M1', '工业用地']
    """
    seen: dict[str, None] = {}
    for v in values:
        if v is not None and str(v) not in seen and is_industrial(v):
            seen[str(v)] = None
    return list(seen)


def industrial_land_uses(conn: Connection) -> list[str]:
    """The ``land_use`` values of the current parcels in the store that are industrial, as stored.

    The SQL of the balance and the suggestions matches ``p.land_use = ANY(:industrial)`` against this list,
    so the reading of codes lives in this module only.
    """
    rows = conn.execute(
        sa.text("SELECT DISTINCT land_use FROM parcels WHERE valid_to IS NULL AND land_use IS NOT NULL")
    ).scalars()
    return industrial_values(rows)


def label(value: object, lang: str = "zh") -> str:
    """A land-use value with the table's name beside it: ``0601 工业用地`` (the value alone when unknown).

    A value that already carries the name is not repeated; in English the English name follows the value.
    """
    text = _normalise(value)
    if text is None:
        return "—"
    entry = _lookup(text)
    raw = str(value).strip()
    if entry is None:
        return raw
    if lang == "en":
        return f"{raw} {entry.name_en}"
    return raw if entry.name_zh in raw else f"{raw} {entry.name_zh}"
