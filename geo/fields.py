"""Parcel attributes: the canonical names of CLI.md, the Chinese headers recognised for them, and typing.

Examples
--------
>>> mapping = map_columns(["宗地编号", "权利人", "备注"], field_map={})
>>> mapping.rename
{'宗地编号': 'parcel_no', '权利人': 'holder'}
>>> mapping.unknown
['备注']
>>> map_columns(["约定开工日"], field_map={}).rename  # cut to 10 bytes by the shapefile format
{'约定开工日': 'agreed_start_on'}
>>> parse_date("2021年3月5日")
datetime.date(2021, 3, 5)
>>> parse_bool("是")
True
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import InputError, Problem
from geo.fixes import fix
from geo.parcel_fields import PARCEL_FIELDS

__all__ = [
    "PARCEL_FIELDS",
    "ALIASES",
    "AREA_HEADERS",
    "ESRI_GEOMETRY_FIELDS",
    "DATE_MIN",
    "DATE_MAX",
    "ColumnMapping",
    "map_columns",
    "parse_field_map",
    "parse_date",
    "parse_number",
    "parse_bool",
    "coerce_parcel_columns",
]

#: header (as written in planners' files) → canonical field. Matching ignores case, spaces and brackets.
ALIASES: dict[str, str] = {
    "宗地编号": "parcel_no",
    "宗地代码": "parcel_no",
    "不动产单元号": "parcel_no",
    "宗地号": "parcel_no",
    "地块编号": "parcel_no",
    "zdbh": "parcel_no",
    "zddm": "parcel_no",
    "权利人": "holder",
    "使用权人": "holder",
    "企业名称": "holder",
    "土地使用权人": "holder",
    "qlr": "holder",
    "统一社会信用代码": "holder_id",
    "社会信用代码": "holder_id",
    "信用代码": "holder_id",
    "土地用途": "land_use",
    "用途": "land_use",
    "地类": "land_use",
    "用地性质": "land_use",
    "地类编码": "land_use",
    "tdyt": "land_use",
    "dlbm": "land_use",
    "行政区代码": "county_code",
    "行政区划代码": "county_code",
    "县级行政区代码": "county_code",
    "xzqdm": "county_code",
    "adcode": "county_code",
    "交地日期": "delivered_on",
    "交付日期": "delivered_on",
    "约定开工日期": "agreed_start_on",
    "合同约定开工日期": "agreed_start_on",
    "实际开工日期": "started_on",
    "开工日期": "started_on",
    "约定竣工日期": "agreed_completion_on",
    "合同约定竣工日期": "agreed_completion_on",
    "实际竣工日期": "completed_on",
    "竣工日期": "completed_on",
    "约定投产日期": "agreed_operation_on",
    "实际投产日期": "operating_since",
    "投产日期": "operating_since",
    "约定达产日期": "agreed_full_production_on",
    "出让年限": "lease_years",
    "使用年限": "lease_years",
    "计划总投资": "planned_investment",
    "约定总投资": "planned_investment",
    "约定投资强度": "committed_investment_per_mu",
    "约定亩均税收": "committed_tax_per_mu",
    "约定亩均产值": "committed_output_per_mu",
    "约定容积率": "min_far",
    "容积率下限": "min_far",
    "实际投资": "investment",
    "实际总投资": "investment",
    "年度税收": "tax",
    "税收": "tax",
    "年度产值": "output",
    "产值": "output",
    "建筑面积": "floor_area",
    "建筑占地面积": "footprint_area",
    "低效用地": "is_low_efficiency",
    "是否低效": "is_low_efficiency",
}

#: headers that hold the file's own idea of the area (kept for comparison, never used as area_mu)
AREA_HEADERS = ("用地面积", "宗地面积", "土地面积", "面积", "出让面积", "area", "mj", "zdmj")

#: fields Esri software computes from the geometry (Shapefile ``Shape_Area``/``Shape_Leng``, FileGDB
#: ``SHAPE_Area``/``SHAPE_Length``, enterprise ``st_area(shape)``), in m² and m of the layer's own CRS: never a
#: parcel attribute (the area is computed from the geometry), never compared as 用地面积, never stored
ESRI_GEOMETRY_FIELDS = (
    "shape_area",
    "shape_leng",
    "shape_length",
    "shape_len",
    "st_area(shape)",
    "st_length(shape)",
    "shape.starea()",
    "shape.stlength()",
)

#: the dates the store accepts (a date outside is refused, saying so): no land-use right in the files predates 1949
DATE_MIN = dt.date(1949, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)


def _key(header: str) -> str:
    return re.sub(r"[\s_()（）\[\]【】]", "", str(header)).lower()


_ALIAS_KEYS = {_key(k): v for k, v in ALIASES.items()} | {_key(k): k for k in PARCEL_FIELDS}


def _truncated_alias(key: str) -> str | None:
    """The field a header names when a shapefile cut it to 10 bytes (约定开工日期 → 约定开工日)."""
    if len(key) < 3 or key.isascii():
        return None
    targets = {v for k, v in _ALIAS_KEYS.items() if k.startswith(key)}
    return targets.pop() if len(targets) == 1 else None


@dataclass(frozen=True)
class ColumnMapping:
    """How a file's columns map to canonical fields."""

    rename: dict[str, str]
    unknown: list[str]
    area_column: str | None
    problems: list[Problem] = field(default_factory=list)
    geometry_fields: list[str] = field(default_factory=list)


def parse_field_map(items: Iterable[str]) -> dict[str, str]:
    """Parse ``--field-map SRC=DST`` options."""
    out: dict[str, str] = {}
    for item in items:
        src, sep, dst = item.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InputError(
                f"字段映射“{item}”格式不对", f"field map '{item}' is not SRC=DST", **fix("field_map_format")
            )
        if dst.strip() not in PARCEL_FIELDS:
            raise InputError(
                f"“{dst}”不是标准字段名",
                f"'{dst}' is not a canonical field",
                fix_zh="可用字段：" + ", ".join(PARCEL_FIELDS),
                fix_en="valid: " + ", ".join(PARCEL_FIELDS),
            )
        out[src.strip()] = dst.strip()
    return out


def map_columns(columns: Iterable[str], *, field_map: Mapping[str, str]) -> ColumnMapping:
    """Map a file's headers to canonical names: ``field_map`` first, then the recognised aliases."""
    rename: dict[str, str] = {}
    unknown: list[str] = []
    area_column = None
    taken: dict[str, str] = {}
    problems: list[Problem] = []
    area_keys = {_key(h) for h in AREA_HEADERS}
    esri_keys = {_key(h) for h in ESRI_GEOMETRY_FIELDS}
    geometry_fields: list[str] = []
    columns = list(columns)
    mapped_by_user = {field_map[c] for c in columns if c in field_map}
    for col in columns:
        if col == "geometry":
            continue
        target = field_map.get(col)
        if target is None and _key(col) in esri_keys:
            geometry_fields.append(
                col
            )  # the geometry's own area/length, in the layer's CRS: not an attribute
            continue
        if target is None:
            target = _ALIAS_KEYS.get(_key(col)) or _truncated_alias(_key(col))
            if target in mapped_by_user:
                target = None  # --field-map named another column for this field: it wins
        if target is None:
            if area_column is None and (
                _key(col) in area_keys
                or _key(col).split("亩")[0] in area_keys
                or re.sub(r"平方米|m2|㎡|公顷|ha|亩", "", _key(col)) in area_keys
            ):
                area_column = col
            unknown.append(col)
            continue
        if target in taken:
            problems.append(
                Problem(
                    None,
                    None,
                    f"字段“{col}”与“{taken[target]}”都对应 {target}",
                    f"columns '{col}' and '{taken[target]}' both map to {target}",
                )
            )
            continue
        taken[target] = col
        rename[col] = target
    return ColumnMapping(rename, unknown, area_column, problems, geometry_fields)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object) -> dt.date | None:
    """A date from what planners' files hold: ISO, 2021/3/5, 2021.3.5, 2021年3月5日, 20210305, Excel serials.

    Returns None for blanks; raises ``ValueError`` for anything else that is not a date.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        if 19000101 <= number <= 21001231 and number.is_integer():
            return parse_date(str(int(number)))
        if 1 <= number <= 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(number))
        raise ValueError(f"not a date: {value!r}")
    text = str(value).strip()
    if text in ("", "-", "—", "/", "无", "null", "NULL", "None", "nan", "NaT"):
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(f"not a date: {value!r}")


def parse_number(value: object) -> float | None:
    """A number from ``1,234.5``, `` 12 ``, ``—``; None for blanks; ``ValueError`` otherwise."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise ValueError(f"not a finite number: {value!r}")
        return number
    text = str(value).strip().replace(",", "").replace("，", "")
    if text in ("", "-", "—", "/", "无", "null", "NULL", "None", "nan"):
        return None
    number = float(text)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


_TRUE = {"是", "yes", "y", "true", "t", "1", "低效"}
_FALSE = {"否", "no", "n", "false", "f", "0", "非低效", "不是"}


def parse_bool(value: object) -> bool | None:
    """是/否, yes/no, true/false, 1/0 (None for blanks)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("", "-", "—", "nan", "none"):
        return None
    if text in _TRUE or text in {"1.0"}:
        return True
    if text in _FALSE or text in {"0.0"}:
        return False
    raise ValueError(f"not yes/no: {value!r}")


_PARSERS = {"date": parse_date, "number": parse_number, "nonneg": parse_number, "bool": parse_bool}
_KIND_NAMES = {
    "date": ("日期", "a date"),
    "number": ("数值", "a number"),
    "nonneg": ("非负数值", "a non-negative number"),
    "bool": ("是/否", "yes/no"),
    "code6": ("6 位行政区代码", "a 6-digit area code"),
}


def _text(value: object) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # a parcel number read as 1234.0 from Excel is "1234"
    text = str(value).strip()
    return text or None


def _text_column(column: pd.Series) -> pd.Series:
    """Text values, stripped, blanks as None; whole floats (1234.0, as Excel gives numbers) as "1234"."""
    if pd.api.types.is_string_dtype(column) and not column.map(type).isin([float, int]).any():
        stripped = column.astype("string").str.strip()
        return stripped.astype(object).where(stripped.notna() & (stripped != ""), None)
    uniques = pd.unique(column.astype(object))
    mapping = {u: _text(u) for u in uniques if not _isna_key(u)}
    return column.astype(object).map(mapping).astype(object).where(lambda v: v.notna(), None)


def _parse_column(
    column: pd.Series, kind: str, *, min_year: int, max_year: int
) -> tuple[pd.Series, np.ndarray]:
    """The typed column and a mask of the values that do not parse (or are out of range)."""
    if (
        kind in ("number", "nonneg")
        and pd.api.types.is_numeric_dtype(column)
        and not pd.api.types.is_bool_dtype(column)
    ):
        values = column.astype(float)
        bad = np.isinf(values.to_numpy())
        if kind == "nonneg":
            bad |= values.to_numpy() < 0
        return values.where(~bad, np.nan), bad
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(column):
        years = column.dt.year
        bad = (column.notna() & ((years < min_year) | (years > max_year))).to_numpy()
        dates = column.dt.date.astype(object)
        return dates.where(column.notna().to_numpy() & ~bad, None), bad
    parser = _PARSERS[kind]
    objects = column.astype(object)
    parsed: dict[object, object] = {}
    bad_values: set[object] = set()
    for u in pd.unique(objects):
        if _isna_key(u):
            continue
        try:
            value = parser(u)
        except (ValueError, TypeError, OverflowError):
            bad_values.add(u)
            continue
        early_or_late = isinstance(value, dt.date) and not min_year <= value.year <= max_year
        negative = kind == "nonneg" and isinstance(value, float) and value < 0
        if (kind == "date" and early_or_late) or negative:
            bad_values.add(u)
        else:
            parsed[u] = value
    bad = objects.isin(list(bad_values)).to_numpy() if bad_values else np.zeros(len(objects), dtype=bool)
    # NaN never equals itself and is not a key: blanks map to missing, as every parser reads a blank.
    mapped = objects.map(parsed)
    if kind in ("bool", "date"):
        return mapped.astype(object).where(mapped.notna(), None), bad
    return pd.to_numeric(mapped, errors="coerce").astype(float), bad


def coerce_parcel_columns(
    df: pd.DataFrame,
    *,
    labels: list[str] | None = None,
    min_year: int = DATE_MIN.year,
    max_year: int = DATE_MAX.year,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type the canonical columns of ``df`` (a new frame); every value that does not parse is a Problem.

    Vectorised over each column (values are parsed once per distinct value), so 200,000 rows take well
    under a second.
    """
    out = pd.DataFrame(index=df.index)
    problems: list[Problem] = []
    for name, kind in PARCEL_FIELDS.items():
        if name not in df.columns:
            continue
        column = df[name]
        if kind in ("text", "code6"):
            values = _text_column(column)
            if kind == "code6":
                present = values.notna().to_numpy()
                ok = (
                    values.astype("string")
                    .str.fullmatch(r"\d{6}(0{3}|0{6})?")
                    .fillna(False)
                    .to_numpy(dtype=bool)
                )
                for pos in np.flatnonzero(present & ~ok):
                    problems.append(_bad(int(pos), labels, name, kind, values.iloc[pos]))
                values = values.where(~(present & ok), values.astype("string").str[:6].astype(object))
            out[name] = values.astype(object)
            continue
        typed, bad = _parse_column(column, kind, min_year=min_year, max_year=max_year)
        for pos in np.flatnonzero(bad):
            value = column.iloc[pos]
            early_late = (
                _out_of_range(value, min_year=min_year, max_year=max_year) if kind == "date" else None
            )
            problems.append(
                _bad(int(pos), labels, name, kind, value)
                if early_late is None
                else _bad_date_range(int(pos), labels, name, early_late, min_year, max_year)
            )
        out[name] = typed.set_axis(df.index)
    return out, problems


def _isna_key(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _bad(pos: int, labels: list[str] | None, name: str, kind: str, value: object) -> Problem:
    zh, en = _KIND_NAMES[kind]
    shown = str(value)[:60]
    return Problem(
        pos + 1,
        labels[pos] if labels else None,
        f"字段 {name} 的值“{shown}”不是有效的{zh}",
        f"field {name}: '{shown}' is not {en}",
    )


def _out_of_range(value: object, *, min_year: int, max_year: int) -> dt.date | None:
    """The date ``value`` names when it is a real date outside the years the store accepts; else None."""
    try:
        date = parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if date is None or min_year <= date.year <= max_year:
        return None
    return date


def _bad_date_range(
    pos: int, labels: list[str] | None, name: str, date: dt.date, min_year: int, max_year: int
) -> Problem:
    """A real date the store does not accept: say which end of the range it misses, and the range."""
    first, last = dt.date(min_year, 1, 1).isoformat(), dt.date(max_year, 12, 31).isoformat()
    early = date.year < min_year
    return Problem(
        pos + 1,
        labels[pos] if labels else None,
        f"字段 {name} 的日期 {date.isoformat()} {'早于' if early else '晚于'}数据库接受的日期范围"
        f"（{first} 至 {last}）",
        f"field {name}: {date.isoformat()} is {'before' if early else 'after'} the range of dates the "
        f"store accepts ({first} to {last})",
    )
