"""Loading into the store: boundaries, block lines, parcels, ratings. Each load is one transaction.

A load reads and checks the whole file first (``geo.io``), so that a file with problems writes nothing;
then it writes in one transaction, so that a failure half-way (a constraint, a lost connection) leaves the
database exactly as it was. Parcels are bulk-copied (``COPY``) into a staging table and moved with set-based
SQL, so 200,000 parcels load in seconds. Re-loading a parcel number closes its current version
(``valid_to``) and adds the new one: history is kept, never overwritten.

Examples
--------
>>> level_of_code("330302"), level_of_code("330300"), level_of_code("330000")
('county', 'city', 'province')
>>> parent_of_code("330302"), parent_of_code("330300")
('330300', '330000')
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import M2_PER_MU, area_mu
from geo.audit import record
from geo.auth import authorize, name_of
from geo.errors import InputError, Problem, ValidationError
from geo.fields import PARCEL_FIELDS, coerce_parcel_columns, map_columns, parse_field_map
from geo.fixes import fix
from geo.io import ReadReport, read_table, read_vector
from geo.store import storage_srid, transaction

__all__ = [
    "Progress",
    "LoadResult",
    "level_of_code",
    "parent_of_code",
    "load_boundaries",
    "load_blocklines",
    "load_parcels",
    "load_parcel_attributes",
    "prepare_attributes",
    "write_attributes",
    "Attributes",
    "load_ratings",
    "prepare_parcels",
    "write_boundaries",
    "write_blocklines",
    "write_parcels",
    "write_ratings",
    "start_load",
]

#: progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]

_COPY_CHUNK = 20_000
_AREA_MISMATCH = 0.05  # a file's own area differing from the geometry's by more than this is reported


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class LoadResult:
    """What a load wrote, and what it noticed."""

    kind: str
    file: str
    load_id: int
    inserted: int = 0
    updated: int = 0
    closed: int = 0
    warnings: list[str] = field(default_factory=list)
    read: ReadReport | None = None
    #: parcels across a county line: parcel_no, county_code (the largest share) and county_shares
    across_counties: list[dict[str, object]] = field(default_factory=list)
    #: a 台账 joined by parcel number (``--join``): the key, the numbers not found, the parcels left unchanged
    join: str | None = None
    not_found: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, object]:  # noqa: D102 issue 14: left by tools/house_move.py lint, fix and drop
        d = {k: v for k, v in self.__dict__.items() if k != "read"}
        d["read"] = self.read.as_dict() if self.read else None
        return d


# -- administrative codes ---------------------------------------------------------------------------------
def level_of_code(code: str) -> str:
    """``province``, ``city`` or ``county`` from a 6-digit 行政区划代码."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parent_of_code(code: str) -> str | None:
    """The code of the unit above (county → city → province)."""
    level = level_of_code(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None


def _normalise_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    if re.fullmatch(r"\d{6}", text):
        return text
    if re.fullmatch(r"\d{6}0{3}|\d{6}0{6}", text):  # 9- and 12-digit codes of the same county
        return text[:6]
    return None


def start_load(conn: Connection, *, kind: str, source: str, user: str, report: dict | None = None) -> int:
    """Record a load and return its id (the rows it writes point to it); only a data officer may load."""
    user = authorize(conn, user, "data_officer").name
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO loads (kind, source, loaded_by, report) VALUES (:k, :s, :u, CAST(:r AS jsonb)) RETURNING id"  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
            ),
            {
                "k": kind,
                "s": source,
                "u": user,
                "r": json.dumps(report or {}, ensure_ascii=False, default=str),
            },
        ).scalar_one()
    )


def _finish_load(conn: Connection, load_id: int, result: LoadResult) -> None:
    summary = result.as_dict()
    row = conn.execute(
        sa.text(
            "UPDATE loads SET report = CAST(:r AS jsonb) WHERE id = :i RETURNING kind, source, loaded_by"
        ),
        {"i": load_id, "r": json.dumps(summary, ensure_ascii=False, default=str)},
    ).one()
    record(
        conn,
        actor=row.loaded_by,
        action=f"load.{row.kind}",
        target=f"load {load_id}: {row.source}",
        after={
            "inserted": result.inserted,
            "updated": result.updated,
            "closed": result.closed,
            "warnings": len(result.warnings),
        }
        | (
            {"join": result.join, "unchanged": result.unchanged, "not_found": len(result.not_found)}
            if result.join
            else {}
        ),
    )


def _hex(geoms: Sequence[object] | np.ndarray, srid: int) -> list[str]:
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), srid)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


#: each byte's two hexadecimal digits as one little-endian uint16, so that ``_HEX_DIGITS[data]`` spells ``data``
_HEX_DIGITS = np.frombuffer(b"".join(f"{i:02X}".encode() for i in range(256)), dtype=np.uint16)


def _multi_ewkb(geoms: np.ndarray, srid: int) -> np.ndarray:
    """EWKB (little-endian, with ``srid``) of valid Polygons and MultiPolygons, each Polygon written as a
    MultiPolygon of one part (what ``ST_Multi`` makes of it), without making a MultiPolygon object for it.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    wkb = np.asarray(
        shapely.to_wkb(shapely.set_srid(geoms, srid), include_srid=True, byte_order=1), dtype=object
    )
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        head = (
            b"\x01"
            + (6 | 0x20000000).to_bytes(4, "little")
            + int(srid).to_bytes(4, "little")
            + (1).to_bytes(4, "little")
        )
        plain = shapely.to_wkb(geoms[single], include_srid=False, byte_order=1)
        wkb[single] = [head + w for w in plain]
    return wkb


def _hex_arrow(geoms: Sequence[object] | np.ndarray, srid: int) -> object:
    """Hex EWKB of ``geoms`` with ``srid`` as an Arrow string array, with no Python string per geometry;
    Polygons are written as MultiPolygons of one part.

    Equal to ``_hex`` of the MultiPolygons (upper-case hex, as shapely writes it), about five times faster at
    200,000 parcels.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import pyarrow as pa

    wkb = _multi_ewkb(np.asarray(geoms, dtype=object), srid)
    lengths = np.fromiter(map(len, wkb), dtype=np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(2 * lengths, out=offsets[1:])
    digits = _HEX_DIGITS[np.frombuffer(b"".join(wkb), dtype=np.uint8)]
    return pa.LargeStringArray.from_buffers(len(wkb), pa.py_buffer(offsets), pa.py_buffer(digits))


def _pick(
    columns: Sequence[str], explicit: str | None, candidates: Sequence[str], *, what: str, file: str
) -> str:
    if explicit is not None:
        if explicit not in columns:
            raise InputError(
                f"没有字段“{explicit}”",
                f"no field '{explicit}'",
                file=file,
                fix_zh="现有字段：" + "、".join(columns),
                fix_en="fields: " + ", ".join(columns),
            )
        return explicit
    lower = {str(c).lower(): c for c in columns}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    raise InputError(
        f"找不到{what}字段",
        f"cannot find the {what} field",
        file=file,
        **fix("code_field" if "code" in what else "name_field", columns=columns),
    )


# -- boundaries -------------------------------------------------------------------------------------------
def write_boundaries(conn: Connection, areas: gpd.GeoDataFrame, *, load_id: int) -> tuple[int, int]:
    """Upsert administrative areas (columns code, name, level, parent_code; storage CRS). (inserted, updated)."""
    srid = storage_srid(conn)
    if areas.crs is None or areas.crs.to_epsg() != srid:
        raise ValueError(f"areas must be in EPSG:{srid}")
    rows = [
        {"code": c, "name": n, "level": lv, "parent": p or None, "geom": g, "load": load_id}
        for c, n, lv, p, g in zip(
            areas["code"],
            areas["name"],
            areas["level"],
            areas["parent_code"],
            _hex(areas.geometry.array, srid),
            strict=False,
        )
    ]
    existing = set(conn.execute(sa.text("SELECT code FROM admin_areas")).scalars())
    conn.execute(
        sa.text("""
        INSERT INTO admin_areas (code, name, level, parent_code, geom, load_id)
        VALUES (:code, :name, :level, :parent, ST_GeomFromEWKB(decode(:geom, 'hex')), :load)
        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
            parent_code = EXCLUDED.parent_code, geom = EXCLUDED.geom, load_id = EXCLUDED.load_id
    """),
        rows,
    )
    updated = sum(1 for r in rows if r["code"] in existing)
    return len(rows) - updated, updated


def load_boundaries(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    code_field: str | None = None,
    name_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load administrative boundaries (counties, cities) keyed by their 6-digit code (``layer``: which layer)."""
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    gdf, report = read_vector(
        path, storage_epsg=srid, crs=crs, encoding=encoding, display_name=name, layer=layer
    )
    code_col = _pick(
        list(gdf.columns),
        code_field,
        ["code", "adcode", "行政区代码", "行政区划代码", "xzqdm", "pac", "区划代码", "县代码"],
        what="行政区代码/code",
        file=name,
    )
    name_col = _pick(
        list(gdf.columns),
        name_field,
        ["name", "行政区名称", "xzqmc", "名称", "县名称", "区划名称"],
        what="名称/name",
        file=name,
    )
    codes = [_normalise_code(v) for v in gdf[code_col]]
    problems = [
        Problem(
            i + 1, f"{code_col}={gdf[code_col].iloc[i]}", "不是 6 位行政区划代码", "not a 6-digit area code"
        )
        for i, c in enumerate(codes)
        if c is None
    ]
    if problems:
        raise ValidationError(problems, file=name)
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": gdf[name_col].astype(str).str.strip()},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    # A county exported as several features (islands) is one area: union them per code.
    merged = frame.dissolve(by="code", aggfunc="first", as_index=False)
    merged["geometry"] = _as_multi(merged.geometry)
    merged["level"] = [level_of_code(c) for c in merged["code"]]
    merged["parent_code"] = [parent_of_code(c) for c in merged["code"]]
    result = LoadResult("boundaries", name, 0, read=report)
    if len(merged) < len(frame):
        result.warnings.append(f"{len(frame) - len(merged)} features merged into areas of the same code")
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="boundaries", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted, result.updated = write_boundaries(conn, merged, load_id=result.load_id)
        _finish_load(conn, result.load_id, result)
    return result


def _as_multi(geoms: gpd.GeoSeries) -> np.ndarray:
    from geo.validate import to_multipolygons

    fixed = np.asarray(geoms.array, dtype=object)
    invalid = ~shapely.is_valid(fixed)
    if invalid.any():
        fixed = fixed.copy()
        fixed[invalid] = shapely.make_valid(fixed[invalid], method="structure", keep_collapsed=False)
    return to_multipolygons(fixed)


# -- block lines -----------------------------------------------------------------------------------------
def write_blocklines(
    conn: Connection,
    lines: gpd.GeoDataFrame,
    *,
    level: int,
    load_id: int | None,
    user: str,
    county: str | None = None,
    source: str | None = None,
) -> tuple[int, int, list[str]]:
    """Replace the current level-``level`` lines of the counties ``lines`` covers; (inserted, closed, warnings).

    Each feature is cut along county boundaries; the parts outside every county (or outside ``county``)
    are dropped and reported. The lines they replace are closed (``valid_to``), never deleted.
    """
    if level not in (1, 2):
        raise InputError(
            f"级别须为 1 或 2，而不是 {level}", f"level must be 1 or 2, not {level}", **fix("level")
        )
    srid = storage_srid(conn)
    n_counties = conn.execute(sa.text("SELECT count(*) FROM admin_areas WHERE level = 'county'")).scalar_one()
    if n_counties == 0:
        raise InputError(
            "数据库中还没有县级行政区边界，无法按县划分区块线",
            "no county boundaries are loaded yet",
            fix_zh="先运行 blockline load boundaries 导入行政区边界",
            fix_en="load boundaries first",
        )
    if (
        county is not None
        and not conn.execute(sa.text("SELECT 1 FROM admin_areas WHERE code = :c"), {"c": county}).first()
    ):
        raise InputError(f"没有行政区代码 {county}", f"no administrative area {county}", **fix("load_county"))
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _stage_lines (n int, name text, approval_doc text, geom geometry(MultiPolygon, {srid}))
        ON COMMIT DROP""")
    )
    names = lines["name"] if "name" in lines.columns else pd.Series([None] * len(lines))
    docs = lines["approval_doc"] if "approval_doc" in lines.columns else pd.Series([None] * len(lines))
    conn.execute(
        sa.text("INSERT INTO _stage_lines VALUES (:n, :name, :doc, ST_GeomFromEWKB(decode(:g, 'hex')))"),
        [
            {"n": i, "name": _opt_text(a), "doc": _opt_text(b), "g": g}
            for i, (a, b, g) in enumerate(zip(names, docs, _hex(lines.geometry.array, srid), strict=False))
        ],
    )
    county_filter = "AND a.code = :county" if county else ""
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _pieces ON COMMIT DROP AS
        SELECT s.n, s.name, s.approval_doc, a.code AS county_code,
               ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Intersection(s.geom, a.geom)), 3)) AS geom
        FROM _stage_lines s JOIN admin_areas a ON a.level = 'county' AND s.geom && a.geom
        {county_filter}"""),
        {"county": county},
    )
    # Boxes only (&&), never ST_Intersects: GEOS's predicate can throw a TopologyException on valid but nearly
    # degenerate shapes, its overlay (ST_Intersection) does not; the empty pieces of disjoint pairs go next.
    conn.execute(sa.text("DELETE FROM _pieces WHERE ST_IsEmpty(geom) OR ST_Area(geom) < 0.01"))
    warnings: list[str] = []
    outside = conn.execute(
        sa.text("""
        SELECT s.n, ST_Area(s.geom) - coalesce((SELECT sum(ST_Area(p.geom)) FROM _pieces p WHERE p.n = s.n), 0)
        FROM _stage_lines s"""),
        {},
    ).all()
    for n, m2 in outside:
        if m2 > 1.0:
            where = (
                f"县 {county} 之外 / outside county {county}"
                if county
                else "任何县之外 / outside every county"
            )
            warnings.append(
                f"要素 {n + 1} 有 {m2 / M2_PER_MU:.2f} 亩位于{where}，未导入 / "
                f"feature {n + 1}: {m2 / M2_PER_MU:.2f} mu not loaded"
            )
    touched = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT county_code FROM _pieces"))]
    if not touched:
        raise InputError(
            "区块线与已导入的县级行政区没有重叠",
            "the block lines overlap no loaded county",
            file=source,
            **fix("load_crs_county"),
        )
    closed = conn.execute(
        sa.text("""
        UPDATE block_lines SET valid_to = now()
        WHERE valid_to IS NULL AND level = :level AND county_code = ANY(:counties)"""),
        {"level": level, "counties": touched},
    ).rowcount
    inserted = conn.execute(
        sa.text("""
        INSERT INTO block_lines (level, county_code, name, approval_doc, source, load_id, created_by, valid_from, geom)
        SELECT :level, county_code, name, approval_doc, :source, :load, :user, now(), geom FROM _pieces"""),
        {"level": level, "source": source, "load": load_id, "user": user},
    ).rowcount
    conn.execute(sa.text("DROP TABLE _pieces; DROP TABLE _stage_lines"))
    return inserted, closed, warnings


def _opt_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def load_blocklines(
    engine: Engine,
    path: Path | str,
    *,
    level: int,
    user: str,
    county: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load level-1 or level-2 industrial block lines, replacing the current ones of the counties covered.

    ``layer`` picks one layer of a multi-layer file (GeoPackage, FileGDB).
    """
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    gdf, report = read_vector(
        path, storage_epsg=srid, crs=crs, encoding=encoding, display_name=name, layer=layer
    )
    lower = {str(c).lower(): c for c in gdf.columns}
    rename = {}
    for canonical, headers in (
        ("name", ("name", "名称", "区块名称", "地块名称")),
        ("approval_doc", ("approval_doc", "批复文号", "文号")),
    ):
        found = next((lower[h] for h in headers if h in lower), None)
        if found is not None:
            rename[found] = canonical
    lines = gdf.rename(columns=rename)
    result = LoadResult("blocklines", name, 0, read=report)
    try:
        with transaction(engine) as conn:
            result.load_id = start_load(conn, kind="blocklines", source=name, user=user)
            user = name_of(user)  # the writes below record the name
            result.inserted, result.closed, result.warnings = write_blocklines(
                conn, lines, level=level, load_id=result.load_id, user=user, county=county, source=name
            )
            _finish_load(conn, result.load_id, result)
    except sa.exc.InternalError as exc:
        if "TopologyException" not in str(exc.orig):
            raise
        raise _geometry_engine_failure(exc, file=name) from exc
    return result


def _geometry_engine_failure(exc: sa.exc.InternalError, *, file: str) -> InputError:
    """PostGIS gave up on a shape (GEOS TopologyException): the user's to fix, the transaction rolled back."""
    message = str(exc.orig).strip().splitlines()[0]
    return InputError(
        f"几何运算无法处理文件中的图形（{message}），未写入任何数据",
        f"the geometry engine cannot process the shapes of the file ({message}); nothing was written",
        file=file,
        fix_zh="在桌面 GIS 中检查并清理该位置附近的图形（去除极窄的尖角和重复点）后重新导入",
        fix_en="check and clean the shapes near that location in a desktop GIS (remove slivers and "
        "repeated points), then load the file again",
    )


# -- parcels ---------------------------------------------------------------------------------------------
def _label_column(columns: Sequence[str], field_map: dict[str, str]) -> str | None:
    mapping = map_columns(columns, field_map=field_map)
    return next((src for src, dst in mapping.rename.items() if dst == "parcel_no"), None)


def _source_area_mu(values: pd.Series, header: str, computed_mu: np.ndarray) -> tuple[np.ndarray, str]:
    """A file's own area column in 亩, with the unit told from the header or, failing that, the values."""
    numbers = pd.to_numeric(values.astype(str).str.replace(",", ""), errors="coerce").to_numpy(dtype=float)
    h = header.lower()
    # "ha" as a unit only when it stands alone (面积_ha, area(ha)): not inside a word such as "shape"
    hectares = re.search(r"(?<![a-z])ha(?![a-z])", h) is not None
    factors = {"平方米": 1 / M2_PER_MU, "亩": 1.0, "公顷": 15.0}
    ok = np.isfinite(numbers) & (numbers > 0)
    with np.errstate(
        over="ignore", divide="ignore", invalid="ignore"
    ):  # absurd values (1e308, 1e-320) are allowed
        if "亩" in h:
            unit = "亩"
        elif "公顷" in h or hectares:
            unit = "公顷"
        elif "平方米" in h or "m2" in h or "㎡" in h:
            unit = "平方米"
        elif not ok.any():
            unit = "?"
        else:
            unit = min(
                factors, key=lambda u: abs(np.log(np.median(numbers[ok] * factors[u] / computed_mu[ok])))
            )
        converted = numbers * factors.get(unit, 1.0)
    return np.where(
        np.isfinite(converted), converted, np.nan
    ), unit  # infinite (or overflowing) is no area: missing


def _note_geometry_fields(report: ReadReport, columns: list[str], field_map: dict[str, str]) -> None:
    """Say in the read report that Esri's geometry fields (Shape_Area, Shape_Leng …) were left out."""
    skipped = map_columns(columns, field_map=field_map).geometry_fields
    if skipped:
        report.notes.append(
            "Esri 几何字段 " + "、".join(skipped) + " 是图形在图层坐标系中的面积/长度（平方米/米），"
            "未作为宗地属性或用地面积 / Esri geometry fields "
            + ", ".join(skipped)
            + " (the shape's area/length in m²/m of the layer's CRS) are not parcel attributes and "
            "not compared as the parcel's area"
        )


def prepare_parcels(
    gdf: gpd.GeoDataFrame,
    *,
    field_map: dict[str, str] | None = None,
    file: str = "",
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """From a file's frame (original headers, storage CRS) to canonical parcels; (parcels, warnings).

    Recognised headers are renamed, values typed, unknown columns kept in ``extra``, ``area_mu`` computed
    from the geometry and the file's own area column (if any) kept as ``source_area_mu`` and compared.
    Raises ``ValidationError`` listing every value and row that cannot be used.
    """
    mapping = map_columns([c for c in gdf.columns if c != gdf.geometry.name], field_map=field_map or {})
    problems = list(mapping.problems)
    if "parcel_no" not in mapping.rename.values():
        raise InputError(
            "找不到宗地编号字段（宗地编号/宗地代码/不动产单元号）",
            "no parcel number field (宗地编号/宗地代码/不动产单元号)",
            file=file,
            **fix("field_map_parcel_no", columns=list(map(str, gdf.columns))),
        )
    renamed = gdf.rename(columns=mapping.rename)
    labels = [f"宗地编号={v}" for v in renamed["parcel_no"].astype(str)]
    typed, value_problems = coerce_parcel_columns(renamed, labels=labels)
    problems += value_problems
    nos = typed["parcel_no"]
    for pos in np.flatnonzero(nos.isna().to_numpy()):
        problems.append(Problem(int(pos) + 1, None, "宗地编号为空", "the parcel number is empty"))
    dup = nos.duplicated(keep=False) & nos.notna()
    for pos in np.flatnonzero(dup.to_numpy()):
        problems.append(
            Problem(
                int(pos) + 1, labels[pos], "宗地编号在文件中重复", "the parcel number appears more than once"
            )
        )
    if "lease_years" in typed.columns:  # the store holds a lease of more than 0 years (0 is not a lease)
        for pos in np.flatnonzero((typed["lease_years"] <= 0).to_numpy()):
            years = typed["lease_years"].iloc[pos]
            problems.append(
                Problem(
                    int(pos) + 1,
                    labels[pos],
                    f"出让年限 {years:g} 年须大于 0",
                    f"field lease_years: {years:g} years is not a lease (it must be more than 0)",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationError(problems, file=file)

    out = gpd.GeoDataFrame(typed, geometry=gdf.geometry.values, crs=gdf.crs)
    out["area_mu"] = area_mu(out).to_numpy()
    warnings: list[str] = []
    if mapping.area_column is not None:
        src_mu, unit = _source_area_mu(
            gdf[mapping.area_column], str(mapping.area_column), out["area_mu"].to_numpy()
        )
        out["source_area_mu"] = src_mu
        diff = np.abs(src_mu - out["area_mu"].to_numpy()) / out["area_mu"].to_numpy()
        big = np.flatnonzero(np.isfinite(diff) & (diff > _AREA_MISMATCH))
        for pos in big[:50]:
            warnings.append(
                f"{labels[pos]}：文件面积 {src_mu[pos]:.2f} 亩（字段 {mapping.area_column}，按{unit}）与图形面积 "
                f"{out['area_mu'].iloc[pos]:.2f} 亩相差 {diff[pos]:.0%} / file area {src_mu[pos]:.2f} mu vs "
                f"geometry {out['area_mu'].iloc[pos]:.2f} mu ({diff[pos]:.0%})"
            )
        if len(big) > 50:
            warnings.append(f"… 另有 {len(big) - 50} 宗面积差异 / {len(big) - 50} more area differences")
    extra_cols = [c for c in mapping.unknown if c in gdf.columns]
    out["extra"] = _extra_json(gdf[extra_cols]) if extra_cols else "{}"
    return out, warnings


def _extra_json(frame: pd.DataFrame) -> list[str]:
    def clean(v: object) -> object:
        if v is None or (isinstance(v, float) and not math.isfinite(v)) or v is pd.NaT:
            return None
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return float(v) if math.isfinite(float(v)) else None
        if isinstance(v, (np.bool_, bool)):
            return bool(v)
        if isinstance(v, (int, float, str)):
            return v
        return str(v)

    cols = [str(c) for c in frame.columns]
    return [
        json.dumps(dict(zip(cols, map(clean, row), strict=False)), ensure_ascii=False)
        for row in frame.itertuples(index=False, name=None)
    ]


_PARCEL_COLUMNS = [*PARCEL_FIELDS, "area_mu", "source_area_mu", "extra"]


#: a parcel's part in a county counts when it is at least this share of the parcel: a thinner part is the
#: drawing difference between two surveys (the county line and the parcel's), not a parcel across the line
_COUNTY_SHARE_MIN = 0.01


@dataclass(frozen=True)
class _Counties:
    """Where each parcel lies: one county each, and the share of each county for parcels across a line."""

    codes: np.ndarray
    shares: list[dict[str, float] | None]
    warnings: list[str]


def _county_shares(
    geoms: np.ndarray, counties: list[tuple[str, object]]
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """The county holding most of each parcel (None: in no county) and, per parcel, every county's share.

    Parcels inside one county are found by ``contains_properly`` over an STRtree (prepared county polygons
    against all parcels); only those that touch a county line are intersected.
    """
    n = len(geoms)
    best = np.full(n, None, dtype=object)
    shares: list[dict[str, float]] = [{} for _ in range(n)]
    if not counties or n == 0:
        return best, shares
    polygons = np.array([g for _, g in counties], dtype=object)
    names = np.array([c for c, _ in counties], dtype=object)
    shapely.prepare(polygons)
    tree = shapely.STRtree(geoms)
    inside_c, inside_p = tree.query(polygons, predicate="contains_properly")
    best[inside_p] = names[inside_c]
    for c, p in zip(inside_c, inside_p, strict=False):
        shares[p] = {str(names[c]): 1.0}
    near_c, near_p = tree.query(polygons, predicate="intersects")
    edge = ~np.isin(near_p, inside_p)
    near_c, near_p = near_c[edge], near_p[edge]
    if near_p.size:
        parts = shapely.area(shapely.intersection(geoms[near_p], polygons[near_c]))
        whole = shapely.area(geoms[near_p])
        for c, p, part, total in zip(near_c, near_p, parts, whole, strict=False):
            if part > 0:
                shares[p][str(names[c])] = float(part / total)
        for p in np.unique(near_p):
            if shares[p]:  # the largest share; on a tie the lower code, so the answer never depends on order
                best[p] = min(shares[p], key=lambda code: (-shares[p][code], code))
    return best, shares


def _counties_of(conn: Connection, parcels: gpd.GeoDataFrame) -> _Counties:
    """Each parcel's county (its own code, checked against the loaded boundaries, else the county holding
    the largest share of it) and, for parcels across a county line, each county's share.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    warnings: list[str] = []
    rows = conn.execute(sa.text("SELECT code, level, name, ST_AsBinary(geom) FROM admin_areas")).all()
    known = {code for code, _, _, _ in rows}
    names = {code: name for code, _, name, _ in rows}
    given = (
        parcels["county_code"].astype(object).to_numpy()
        if "county_code" in parcels.columns
        else np.full(len(parcels), None, dtype=object)
    )
    present = pd.notna(given)
    unknown = sorted({str(c) for c in given[present] if c not in known})
    if unknown:
        raise InputError(
            "行政区代码在已导入的边界中不存在：" + "、".join(unknown),
            "county codes not among the loaded boundaries: " + ", ".join(unknown),
            fix_zh="先导入这些县的边界，或删去文件中的行政区代码列让系统按位置判断",
            fix_en="load those counties' boundaries first, or drop the county column to derive it from the location",
        )
    counties = [(code, shapely.from_wkb(bytes(wkb))) for code, level, _, wkb in rows if level == "county"]
    best, all_shares = _county_shares(np.asarray(parcels.geometry.array, dtype=object), counties)
    codes = np.where(present, given, best).astype(object)
    derived = int((~present & pd.notna(best)).sum())
    if derived:
        warnings.append(
            f"{derived} 宗地的行政区代码按边界推定 / county derived from the boundaries for {derived} parcels"
        )
    no_county = int(pd.isna(codes).sum())
    if no_county:
        warnings.append(f"{no_county} 宗地不在任何已导入的县内 / {no_county} parcels lie in no loaded county")
    shares: list[dict[str, float] | None] = []
    labels = parcels["parcel_no"].astype(str).to_numpy() if "parcel_no" in parcels.columns else None
    across = 0
    for pos, found in enumerate(all_shares):
        if len(found) < 2:  # inside one county (most parcels): nothing to count
            shares.append(None)
            continue
        counted = {c: round(v, 6) for c, v in sorted(found.items()) if v >= _COUNTY_SHARE_MIN}
        if len(counted) < 2:
            shares.append(None)
            continue
        shares.append(counted)
        across += 1
        if across > 50:
            continue
        label = labels[pos] if labels is not None else f"#{pos + 1}"
        listed_zh = "，".join(f"{c} {names.get(c, '')} {v:.2%}" for c, v in counted.items())
        listed_en = ", ".join(f"{c} {v:.2%}" for c, v in counted.items())
        warnings.append(
            f"宗地 {label} 跨县：{listed_zh}；归入 {codes[pos]} / parcel {label} lies across a county "
            f"line: {listed_en}; counted in {codes[pos]}"
        )
    if across > 50:
        warnings.append(f"… 另有 {across - 50} 宗跨县 / {across - 50} more parcels across a county line")
    return _Counties(codes, shares, warnings)


def _across_counties(conn: Connection, load_id: int) -> list[dict[str, object]]:
    """The parcels a load wrote that lie across a county line, with each county's share."""
    rows = conn.execute(
        sa.text("""
        SELECT parcel_no, county_code, county_shares FROM parcels
        WHERE load_id = :load AND county_shares IS NOT NULL ORDER BY parcel_no"""),
        {"load": load_id},
    ).all()
    return [{"parcel_no": no, "county_code": code, "county_shares": shares} for no, code, shares in rows]


def _csv_chunk(frame: pd.DataFrame | object) -> bytes:
    """Rows (a frame or an Arrow table) as CSV for COPY, written by Arrow (an order of magnitude faster than
    pandas' writer).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )  # NaN, None: nulls
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        table, sink, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")
    )
    return sink.getvalue().to_pybytes()


def write_parcels(
    conn: Connection,
    parcels: gpd.GeoDataFrame,
    *,
    load_id: int | None,
    user: str,
    progress: Progress = _noop,
    cells: bool = True,
    replace: bool = True,
) -> tuple[int, int, list[str]]:
    """Bulk-write canonical parcels (storage CRS); (inserted, updated, warnings).

    Counties are derived from the boundaries for parcels without ``county_code`` (the county holding the
    parcel's point on surface); a code that names no loaded area is refused. The current versions of the
    same parcel numbers are closed and the new rows added; the database checks every constraint, geometry
    validity included. ``cells=False`` leaves the map's squares (``parcel_cells``) to the caller, who writes
    several frames in one transaction and recounts them once at the end (``geo.tiles.refresh_parcel_cells``).
    ``replace=False`` skips looking for current parcels of the same numbers: for a caller that knows there are
    none (the demo in a store with no current parcel; a clash would still fail on the unique index).
    """
    srid = storage_srid(conn)
    if parcels.crs is None or parcels.crs.to_epsg() != srid:
        raise ValueError(f"parcels must be in EPSG:{srid}")
    where = _counties_of(conn, parcels)
    codes, warnings = where.codes, where.warnings
    cols = [c for c in _PARCEL_COLUMNS if c in parcels.columns and c != "county_code"]
    frame = pd.DataFrame({c: parcels[c].to_numpy() for c in cols})
    for c in cols:
        if PARCEL_FIELDS.get(c) == "date":
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.strftime("%Y-%m-%d")  # NaT → missing
    if "is_low_efficiency" in frame.columns:
        flags = frame["is_low_efficiency"]
        frame["is_low_efficiency"] = flags.map({True: "t", False: "f"}).where(flags.notna(), None)
    frame["county_code"] = codes
    frame["county_shares"] = [None if v is None else json.dumps(v) for v in where.shares]
    frame["load_id"] = load_id
    frame["created_by"] = user
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False).append_column(
        "geom", _hex_arrow(parcels.geometry.array, srid)
    )
    del frame
    raw = conn.connection.driver_connection
    total = table.num_rows
    column_list = ", ".join(table.column_names)
    # Bulk path: COPY into an unindexed temporary table, then one INSERT ... SELECT (measured faster than
    # COPY straight into the indexed, constrained table). The CSV is written by Arrow: a missing value is an
    # unquoted empty field, which COPY reads as NULL (no text value is ever empty).
    conn.execute(
        sa.text(f"""
        CREATE TEMP TABLE _stage_parcels ON COMMIT DROP AS SELECT {column_list} FROM parcels WITH NO DATA""")
    )
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY _stage_parcels ({column_list}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        for start in range(0, total, _COPY_CHUNK):
            copy.write(_csv_chunk(table.slice(start, _COPY_CHUNK)))
            progress("写入/writing", min(start + _COPY_CHUNK, total), total)
    del table
    updated = (
        0
        if not replace
        else conn.execute(
            sa.text("""
        UPDATE parcels p SET valid_to = now()
        FROM _stage_parcels s WHERE p.valid_to IS NULL AND p.parcel_no = s.parcel_no""")
        ).rowcount
    )
    conn.execute(sa.text(f"INSERT INTO parcels ({column_list}) SELECT {column_list} FROM _stage_parcels"))
    conn.execute(sa.text("DROP TABLE _stage_parcels"))
    if not cells:
        return total - updated, updated, warnings
    from geo.tiles import refresh_parcel_cells

    progress("地图汇总/map squares", 0, 1)
    refresh_parcel_cells(conn)  # the map's far-out squares, in the same transaction as the parcels
    progress("地图汇总/map squares", 1, 1)
    return total - updated, updated, warnings


def _vertex_limit(parcels: gpd.GeoDataFrame, *, file: str) -> list[str]:
    """Parcels of more than ``Settings.max_vertices`` vertices: one warning each (the count named), or, with
    ``Settings.refuse_large_geometries``, an :class:`InputError` naming them, before anything is written.

    A vertex is a distinct point of an outline (a ring's closing point is not counted again). Such a parcel is
    loaded whole (its area and every rule use the exact polygon); the map's tiles clip and simplify it
    (``geo.tiles``), so it never stops them.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.settings import get_settings

    settings = get_settings()
    counts = _vertices(np.asarray(parcels.geometry.array, dtype=object))
    over = np.flatnonzero(counts > settings.max_vertices)
    if over.size == 0:
        return []
    nos = parcels["parcel_no"].astype(str).to_numpy() if "parcel_no" in parcels.columns else None
    named = [(str(nos[i]) if nos is not None else f"#{i + 1}", int(counts[i])) for i in over]
    listed_zh = "、".join(f"{no}（{n:,} 个顶点）" for no, n in named[:10])
    listed_en = ", ".join(f"{no} ({n:,} vertices)" for no, n in named[:10])
    if settings.refuse_large_geometries:
        raise InputError(
            f"{len(named)} 宗地的顶点超过上限 {settings.max_vertices:,}：{listed_zh}",
            f"{len(named)} parcels have more than {settings.max_vertices:,} vertices: {listed_en}",
            file=file,
            fix_zh="简化这些宗地的边界后重新导入，或调高 BLOCKLINE_MAX_VERTICES",
            fix_en="simplify their outlines and load again, or raise BLOCKLINE_MAX_VERTICES",
        )
    return [
        f"宗地 {no} 有 {n:,} 个顶点，超过上限 {settings.max_vertices:,}；已导入，地图按瓦片裁剪简化绘制 / parcel "
        f"{no} has {n:,} vertices, over the limit of {settings.max_vertices:,}: loaded, drawn clipped and "
        "simplified per tile"
        for no, n in named
    ]


def _vertices(geoms: np.ndarray) -> np.ndarray:
    """Distinct vertices of each polygon: its coordinates less the closing point of each ring."""
    rings = shapely.get_num_interior_rings(geoms) + np.where(shapely.get_type_id(geoms) == 3, 1, 0)
    multi = shapely.get_type_id(geoms) == 6
    if multi.any():
        parts, owner = shapely.get_parts(geoms[multi], return_index=True)
        rings[np.flatnonzero(multi)] = np.bincount(
            owner, weights=shapely.get_num_interior_rings(parts) + 1, minlength=int(multi.sum())
        ).astype(np.int64)
    return shapely.get_num_coordinates(geoms) - rings


def load_parcels(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    crs: str | None = None,
    encoding: str | None = None,
    field_map: Sequence[str] | dict[str, str] = (),
    display_name: str | None = None,
    progress: Progress = _noop,
    layer: str | None = None,
) -> LoadResult:
    """Load parcels from a file: read, check, type, compute areas, then write in one transaction.

    ``layer`` picks one layer of a multi-layer file (GeoPackage, FileGDB).
    """
    with engine.connect() as conn:
        srid = storage_srid(conn)
    name = display_name or Path(path).name
    fmap = dict(field_map) if isinstance(field_map, dict) else parse_field_map(field_map)
    progress("读取/reading", 0, 1)
    gdf, report = read_vector(
        path,
        storage_epsg=srid,
        crs=crs,
        encoding=encoding,
        display_name=name,
        label_column=lambda cols: _label_column(cols, fmap),
        layer=layer,
    )
    progress("读取/reading", 1, 1)
    parcels, warnings = prepare_parcels(gdf, field_map=fmap, file=name)
    _note_geometry_fields(report, [c for c in gdf.columns if c != gdf.geometry.name], fmap)
    warnings = [*warnings, *_vertex_limit(parcels, file=name)]
    result = LoadResult("parcels", name, 0, read=report, warnings=list(warnings))
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="parcels", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted, result.updated, more = write_parcels(
            conn, parcels, load_id=result.load_id, user=user, progress=progress
        )
        result.warnings += more
        result.across_counties = _across_counties(conn, result.load_id)
        _finish_load(conn, result.load_id, result)
    return result


# -- a 台账 joined by parcel number ------------------------------------------------------------------------
#: columns of a 台账 that would hold a shape: never read when joining (the shapes are not touched)
_SHAPE_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "图形")
#: parcel columns a 台账 never changes: the shape, and what follows from it or records the version
_NOT_JOINED = (
    "id",
    "parcel_no",
    "county_code",
    "county_shares",
    "geom",
    "area_mu",
    "valid_from",
    "valid_to",
    "load_id",
    "created_by",
)


@dataclass(frozen=True)
class Attributes:
    """A 台账 ready to join: parcel_no, the canonical columns it updates, and ``extra`` (its other columns)."""

    table: pd.DataFrame
    columns: list[str]
    notes: list[str]


def _join_field_map(
    columns: Sequence[str], join: str, field_map: dict[str, str], *, file: str
) -> dict[str, str]:
    """``field_map`` with the ``--join`` key: ``parcel_no`` (by its recognised headers) or a column of the file."""
    if join == "parcel_no":
        return field_map
    if join in columns:
        return {**field_map, join: "parcel_no"}
    raise InputError(
        f"--join “{join}” 既不是 parcel_no 也不是文件中的列",
        f"--join '{join}' is neither parcel_no nor a column of the file",
        file=file,
        **fix("join", columns=list(map(str, columns))),
    )


def prepare_attributes(
    table: pd.DataFrame, *, join: str = "parcel_no", field_map: dict[str, str] | None = None, file: str = ""
) -> Attributes:
    """Type a 台账 (a table without shapes) for joining to the current parcels by number.

    Recognised headers are typed as in a parcel file; unrecognised columns go to ``extra``; a shape column,
    Esri's geometry fields and the county (which follows the shape) are left out, with a note. Rows are
    numbered as the spreadsheet numbers them (the header is row 1). Raises ``ValidationError`` listing every
    value that cannot be used.
    """
    columns = [str(c) for c in table.columns]
    notes: list[str] = []
    shape_cols = [c for c in columns if c.strip().lower() in _SHAPE_COLUMNS]
    fmap = _join_field_map(columns, join, dict(field_map or {}), file=file)
    mapping = map_columns([c for c in columns if c not in shape_cols], field_map=fmap)
    skipped = shape_cols + mapping.geometry_fields
    if skipped:
        notes.append(
            "按编号连接不改变图形，未读取列 " + "、".join(skipped) + " / joining by number never changes a "
            "shape: columns " + ", ".join(skipped) + " were not read"
        )
    if "parcel_no" not in mapping.rename.values():
        raise InputError(
            "找不到宗地编号字段（宗地编号/宗地代码/不动产单元号）",
            "no parcel number field (宗地编号/宗地代码/不动产单元号)",
            file=file,
            **fix("join_column", columns=columns),
        )
    renamed = table.rename(columns=mapping.rename)
    labels = [f"宗地编号={v}" for v in renamed["parcel_no"].astype(str)]
    typed, value_problems = coerce_parcel_columns(renamed, labels=labels)
    problems = [
        Problem(p.row + 1 if p.row else None, p.feature, p.zh, p.en)
        for p in mapping.problems + value_problems
    ]
    nos = typed["parcel_no"]
    for pos in np.flatnonzero(nos.isna().to_numpy()):
        problems.append(Problem(int(pos) + 2, None, "宗地编号为空", "the parcel number is empty"))
    for pos in np.flatnonzero((nos.duplicated(keep=False) & nos.notna()).to_numpy()):
        problems.append(
            Problem(
                int(pos) + 2, labels[pos], "宗地编号在文件中重复", "the parcel number appears more than once"
            )
        )
    if "lease_years" in typed.columns:
        for pos in np.flatnonzero((typed["lease_years"] <= 0).to_numpy()):
            years = typed["lease_years"].iloc[pos]
            problems.append(
                Problem(
                    int(pos) + 2,
                    labels[pos],
                    f"出让年限 {years:g} 年须大于 0",
                    f"field lease_years: {years:g} years is not a lease (it must be more than 0)",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationError(problems, file=file)
    if "county_code" in typed.columns:
        notes.append(
            "行政区代码随图形确定，台账中的行政区代码未采用 / the county follows the shape: the table's county "
            "codes were not used"
        )
    updated = [c for c in typed.columns if c not in _NOT_JOINED]
    extra_cols = [c for c in mapping.unknown if c in table.columns]
    if not updated and not extra_cols:
        raise InputError(
            "台账中除宗地编号外没有可更新的列",
            "the table has no column to update besides the parcel number",
            file=file,
            fix_zh="现有列：" + "、".join(columns),
            fix_en="columns: " + ", ".join(columns),
        )
    out = typed[["parcel_no", *updated]].copy()
    out["extra"] = _extra_json(table[extra_cols]) if extra_cols else "{}"
    return Attributes(out.reset_index(drop=True), updated, notes)


def _copy_frame(conn: Connection, frame: pd.DataFrame, table: str, progress: Progress = _noop) -> None:
    """COPY canonical rows into ``table`` (dates as ISO text, yes/no as t/f, missing as NULL)."""
    frame = frame.copy()
    for c in frame.columns:
        if PARCEL_FIELDS.get(c) == "date":
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.strftime("%Y-%m-%d")  # NaT → missing
        elif PARCEL_FIELDS.get(c) == "bool":
            frame[c] = frame[c].map({True: "t", False: "f"}).where(frame[c].notna(), None)
    raw = conn.connection.driver_connection
    total = len(frame)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        for start in range(0, total, _COPY_CHUNK):
            copy.write(_csv_chunk(frame.iloc[start : start + _COPY_CHUNK]))
            progress("写入/writing", min(start + _COPY_CHUNK, total), total)


def write_attributes(
    conn: Connection, attributes: Attributes, *, load_id: int | None, user: str, progress: Progress = _noop
) -> tuple[int, int, list[str]]:
    """Join a 台账 to the current parcels by number: (new versions, unchanged, numbers not found).

    Each current parcel whose values change gets a new version (the old one closed with ``valid_to``), its
    shape, county and area copied unchanged; a blank cell keeps the current value; ``extra`` gains the
    table's other columns. A parcel the table does not change gets no new version.
    """
    cols = attributes.columns
    conn.execute(
        sa.text(f"""CREATE TEMP TABLE _stage_attrs ON COMMIT DROP AS
        SELECT parcel_no{"".join(", " + c for c in cols)}, extra FROM parcels WITH NO DATA""")
    )
    _copy_frame(conn, attributes.table[["parcel_no", *cols, "extra"]], "_stage_attrs", progress)
    not_found = list(
        conn.execute(
            sa.text("""
        SELECT s.parcel_no FROM _stage_attrs s WHERE NOT EXISTS (
            SELECT 1 FROM parcels p WHERE p.valid_to IS NULL AND p.parcel_no = s.parcel_no) ORDER BY 1""")
        ).scalars()
    )
    every = [
        c
        for c in conn.execute(
            sa.text("""
        SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'parcels' ORDER BY ordinal_position""")
        ).scalars()
        if c not in ("id", "valid_from", "valid_to", "load_id", "created_by")
    ]
    values = {
        c: (f"coalesce(s.{c}, p.{c})" if c in cols else "p.extra || s.extra" if c == "extra" else f"p.{c}")
        for c in every
    }
    changed = " OR ".join(f"{values[c]} IS DISTINCT FROM p.{c}" for c in [*cols, "extra"])
    matched = conn.execute(
        sa.text("""SELECT count(*) FROM parcels p JOIN _stage_attrs s USING (parcel_no)
                                      WHERE p.valid_to IS NULL""")
    ).scalar_one()
    conn.execute(
        sa.text(f"""CREATE TEMP TABLE _new_versions ON COMMIT DROP AS
        SELECT p.id AS old_id, {", ".join(f"{v} AS {c}" for c, v in values.items())}
        FROM parcels p JOIN _stage_attrs s ON s.parcel_no = p.parcel_no
        WHERE p.valid_to IS NULL AND ({changed})""")
    )
    conn.execute(
        sa.text("UPDATE parcels SET valid_to = now() WHERE id IN (SELECT old_id FROM _new_versions)")
    )
    created = conn.execute(
        sa.text(f"""
        INSERT INTO parcels ({", ".join(every)}, load_id, created_by)
        SELECT {", ".join(every)}, :load, :user FROM _new_versions"""),
        {"load": load_id, "user": user},
    ).rowcount
    conn.execute(sa.text("DROP TABLE _new_versions; DROP TABLE _stage_attrs"))
    if created:
        from geo.tiles import refresh_parcel_cells

        refresh_parcel_cells(conn)  # the map's squares count low-efficiency land, which a 台账 may change
    return created, matched - created, not_found


def load_parcel_attributes(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    join: str = "parcel_no",
    encoding: str | None = None,
    field_map: Sequence[str] | dict[str, str] = (),
    display_name: str | None = None,
    layer: str | None = None,
    progress: Progress = _noop,
) -> LoadResult:
    """Update the attributes of current parcels from a 台账 (CSV/XLSX, no shapes) keyed by parcel number.

    The whole table is checked first: any value that cannot be used refuses the file, nothing written. Then,
    in one transaction, each parcel it changes gets a new version with the same shape (``write_attributes``).
    Numbers that match no current parcel are listed in ``LoadResult.not_found`` (and the warnings).
    """
    name = display_name or Path(path).name
    fmap = dict(field_map) if isinstance(field_map, dict) else parse_field_map(field_map)
    table = read_table(path, encoding=encoding, display_name=name, sheet=layer)
    attributes = prepare_attributes(table, join=join, field_map=fmap, file=name)
    result = LoadResult(
        "parcels",
        name,
        0,
        join=join,
        read=ReadReport(file=name, layer=layer, features=len(table), notes=attributes.notes),
    )
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="parcels", source=name, user=user, report={"join": join})
        user = name_of(user)  # the writes below record the name
        result.updated, result.unchanged, result.not_found = write_attributes(
            conn, attributes, load_id=result.load_id, user=user, progress=progress
        )
        if result.not_found:
            shown = result.not_found[:50]
            more = len(result.not_found) - len(shown)
            result.warnings.append(
                f"{len(result.not_found)} 个宗地编号没有对应的现有宗地："
                + "、".join(shown)
                + (f" 等（另 {more} 个）" if more else "")
                + f" / {len(result.not_found)} parcel numbers match no current parcel: "
                + ", ".join(shown)
                + (f" (and {more} more)" if more else "")
            )
        _finish_load(conn, result.load_id, result)
    return result


# -- ratings ---------------------------------------------------------------------------------------------
_RATING_HEADERS = {
    "parcel_no": ("parcel_no", "宗地编号", "宗地代码", "不动产单元号"),
    "holder_id": ("holder_id", "统一社会信用代码", "社会信用代码", "信用代码"),
    "year": ("year", "年度", "年份", "评价年度"),
    "grade": (
        "grade",
        "rating",
        "等级",
        "评价等级",
        "亩均评价等级",
        "综合评价等级",
        "亩均论英雄等级",
        "类别",
    ),
}


def write_ratings(
    conn: Connection, ratings: pd.DataFrame, *, load_id: int | None, upsert: bool = True
) -> int:
    """Upsert ratings (columns parcel_no and/or holder_id, year, grade); the number written.

    The rows are copied (``COPY``) into a staging table and upserted by one statement; where the same
    subject and year come twice, the later row wins (as row-by-row upserts in order would have it).
    ``upsert=False`` inserts without looking for ratings to replace (about twice as fast): for a caller that
    knows there are none (the demo in a store without ratings; a clash would still fail on the unique index).
    """
    n = len(ratings)
    if n == 0:
        return 0

    def text(column: str) -> list[str | None]:
        return [_opt_text(v) for v in ratings[column]] if column in ratings.columns else [None] * n

    frame = pd.DataFrame(
        {
            "n": np.arange(n, dtype=np.int64),
            "parcel_no": text("parcel_no"),
            "holder_id": text("holder_id"),
            "year": ratings["year"].astype(np.int64).to_numpy(),
            "grade": ratings["grade"].astype(str).to_numpy(),
        }
    )
    conn.execute(
        sa.text("""CREATE TEMP TABLE _stage_ratings (n bigint, parcel_no text, holder_id text,
                            year int, grade char(1)) ON COMMIT DROP""")
    )
    _copy_frame(conn, frame, "_stage_ratings")
    once = not frame[["parcel_no", "holder_id", "year"]].fillna("").duplicated().any()
    conflict = (
        (
            "ON CONFLICT ((coalesce(parcel_no, '')), (coalesce(holder_id, '')), year) "
            "DO UPDATE SET grade = EXCLUDED.grade, load_id = EXCLUDED.load_id"
        )
        if upsert
        else ""
    )
    conn.execute(
        sa.text(f"""
        INSERT INTO ratings (parcel_no, holder_id, year, grade, load_id)
        SELECT {"" if once else "DISTINCT ON (coalesce(parcel_no, ''), coalesce(holder_id, ''), year)"}
               parcel_no, holder_id, year, grade, CAST(:l AS bigint)
        FROM _stage_ratings {"" if once else "ORDER BY coalesce(parcel_no, ''), coalesce(holder_id, ''), year, n DESC"}
        {conflict}"""),
        {"l": load_id},
    )
    conn.execute(sa.text("DROP TABLE _stage_ratings"))
    return n


def load_ratings(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    encoding: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
) -> LoadResult:
    """Load 亩均论英雄 ratings from CSV or XLSX: parcel_no or holder_id, year, grade (A/B/C/D).

    ``layer`` names the sheet of a workbook with several (as ``--layer`` names a GeoPackage's layer).
    """
    name = display_name or Path(path).name
    table = read_table(path, encoding=encoding, display_name=name, sheet=layer)
    lower = {str(c).strip().lower(): c for c in table.columns}
    found = {
        k: next((lower[h.lower()] for h in hs if h.lower() in lower), None)
        for k, hs in _RATING_HEADERS.items()
    }
    if (
        found["year"] is None
        or found["grade"] is None
        or (found["parcel_no"] is None and found["holder_id"] is None)
    ):
        raise InputError(
            "评价表须有 宗地编号 或 统一社会信用代码、年度、等级 三类列",
            "a ratings table needs parcel_no or holder_id, year and grade columns",
            file=name,
            fix_zh="现有列：" + "、".join(map(str, table.columns)),
            fix_en="columns found: " + ", ".join(map(str, table.columns)),
        )
    out = pd.DataFrame({k: table[c] for k, c in found.items() if c is not None})
    problems = []
    years, grades = [], []
    for pos, (y, g) in enumerate(zip(out["year"], out["grade"], strict=False)):
        try:
            year = int(float(str(y).strip().rstrip("年")))
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            problems.append(Problem(pos + 2, None, f"年度“{y}”无效", f"year '{y}' is not valid"))
            year = 0
        grade = str(g).strip().upper().rstrip("类级")
        if grade not in ("A", "B", "C", "D"):
            problems.append(Problem(pos + 2, None, f"等级“{g}”不是 A/B/C/D", f"grade '{g}' is not A/B/C/D"))
        years.append(year)
        grades.append(grade)
    out["year"], out["grade"] = years, grades
    for key in ("parcel_no", "holder_id"):
        if key in out.columns:
            out[key] = [_opt_text(v) for v in out[key]]
    subject = pd.Series(False, index=out.index)
    for key in ("parcel_no", "holder_id"):
        if key in out.columns:
            subject |= out[key].notna()
    for pos in np.flatnonzero(~subject.to_numpy()):
        problems.append(
            Problem(int(pos) + 2, None, "既无宗地编号也无信用代码", "neither parcel number nor holder id")
        )
    if problems:
        raise ValidationError(problems, file=name)
    result = LoadResult("ratings", name, 0)
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="ratings", source=name, user=user)
        user = name_of(user)  # the writes below record the name
        result.inserted = write_ratings(conn, out, load_id=result.load_id)
        _finish_load(conn, result.load_id, result)
    return result
