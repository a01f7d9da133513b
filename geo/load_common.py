"""What every load shares: its result, its record in ``loads``, and the bulk writing of rows and shapes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.audit import record
from geo.auth import authorize
from geo.errors import InputError
from geo.fixes import fix
from geo.io import ReadReport
from geo.parcel_fields import PARCEL_FIELDS
from geo.store import driver_connection
from geo.validate import to_multipolygons

#: progress callback: (stage, done, total)
Progress = Callable[[str, int, int], None]

_COPY_CHUNK = 20_000


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

    def as_dict(self) -> dict[str, object]:
        """The result as plain values (the read report as its own dict), for JSON and the load's record."""
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
                "INSERT INTO loads (kind, source, loaded_by, report)"
                " VALUES (:k, :s, :u, CAST(:r AS jsonb)) RETURNING id"
            ),
            {
                "k": kind,
                "s": source,
                "u": user,
                "r": json.dumps(report or {}, ensure_ascii=False, default=str),
            },
        ).scalar_one()
    )


def finish_load(conn: Connection, load_id: int, result: LoadResult) -> None:
    """Keep the load's report on its row of ``loads`` and record the load in the audit trail, in its transaction."""
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
    """EWKB (little-endian, with ``srid``) of valid Polygons and MultiPolygons.

    Each Polygon is written as a MultiPolygon of one part (what ``ST_Multi`` makes of it), without making a
    MultiPolygon object for it.
    """
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
    """Hex EWKB of ``geoms`` with ``srid`` as an Arrow string array, with no Python string per geometry.

    Polygons are written as MultiPolygons of one part.

    Equal to ``_hex`` of the MultiPolygons (upper-case hex, as shapely writes it), about five times faster at
    200,000 parcels.
    """
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


def as_multi(geoms: gpd.GeoSeries) -> np.ndarray:
    """The geometries as MultiPolygons, invalid ones repaired first (``make_valid``, structure method)."""
    fixed = np.asarray(geoms.array, dtype=object)
    invalid = ~shapely.is_valid(fixed)
    if invalid.any():
        fixed = fixed.copy()
        fixed[invalid] = shapely.make_valid(fixed[invalid], method="structure", keep_collapsed=False)
    return to_multipolygons(fixed)


def _opt_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


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


def _csv_chunk(frame: pd.DataFrame | object) -> bytes:
    """Rows (a frame or an Arrow table) as CSV for COPY.

    Written by Arrow: an order of magnitude faster than pandas' writer.
    """
    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )  # NaN, None: nulls
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        table, sink, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")
    )
    return sink.getvalue().to_pybytes()


def _copy_frame(conn: Connection, frame: pd.DataFrame, table: str, progress: Progress = _noop) -> None:
    """COPY canonical rows into ``table`` (dates as ISO text, yes/no as t/f, missing as NULL)."""
    frame = frame.copy()
    for c in frame.columns:
        if PARCEL_FIELDS.get(c) == "date":
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.strftime("%Y-%m-%d")  # NaT → missing
        elif PARCEL_FIELDS.get(c) == "bool":
            frame[c] = frame[c].map({True: "t", False: "f"}).where(frame[c].notna(), None)
    raw = driver_connection(conn)
    total = len(frame)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        for start in range(0, total, _COPY_CHUNK):
            copy.write(_csv_chunk(frame.iloc[start : start + _COPY_CHUNK]))
            progress("写入/writing", min(start + _COPY_CHUNK, total), total)
