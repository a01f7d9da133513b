"""Drafts: shapes drawn on a map, kept in the database as soon as each is confirmed.

A planner's drawing must survive a rerun, a reload and a lost connection, so the app writes each confirmed
drawing here at once. Drafts belong to a *sketch* (a random 32-hex id the app keeps in the page address)
and a *purpose* (``page:role``, e.g. ``balance:removal``). They are work in progress, never a record:
nothing refers to them, and clearing a sketch deletes them.

Geometry comes and goes as GeoJSON in EPSG:4326 (what a web map draws) and is stored, like every shape, as a
valid MultiPolygon in the storage CRS. A drawing that is not a surface (a line, a point, a collapsed ring)
is refused; a self-crossing one is repaired.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from geo.actors import Actor
from geo.auth import authorize
from geo.crs import CHINA_BOUNDS
from geo.errors import InputError
from geo.store import storage_srid, transaction
from geo.validate import to_multipolygons

__all__ = ["clear_drafts", "fingerprint", "new_sketch", "read_drafts", "save_drafts", "valid_sketch"]

_SKETCH = re.compile(r"^[0-9a-f]{32}$")
_PURPOSE = re.compile(r"^[a-z_]+:[a-z_]+$")
_ROUND = 7  # decimal degrees: about 1 cm, so the same drawing sent twice has the same fingerprint
_MIN_AREA_M2 = 1.0  # smaller is a slip of the mouse (or three points in a line, bent by the projection)


#: what shapely raises on GeoJSON that is not (strings, nesting, NaN, numbers too large for a float)
_UNREADABLE = (
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    shapely.errors.GEOSException,
)


def new_sketch() -> str:
    """A fresh sketch id (32 hex digits, unguessable)."""
    return secrets.token_hex(16)


def valid_sketch(sketch: object) -> bool:
    """Whether ``sketch`` has the form of a sketch id (anything else from a URL is ignored, never queried)."""
    return isinstance(sketch, str) and bool(_SKETCH.match(sketch))


def _geometry(feature: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return feature.get("geometry") if feature.get("type") == "Feature" else feature


def _shape(geometry: object) -> BaseGeometry:
    """``shapely.geometry.shape`` of a GeoJSON geometry; anything but a mapping raises as ``shape`` would."""
    if not isinstance(geometry, Mapping):
        raise AttributeError(f"{type(geometry).__name__!r} object has no attribute 'get'")
    return shape(geometry if isinstance(geometry, dict) else dict(geometry))


def fingerprint(feature: Mapping[str, Any]) -> str:
    """A short hash of a drawing's coordinates, rounded to about 1 cm (of its text, when it is not GeoJSON)."""
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            return _fingerprint(_shape(_geometry(feature)))
    except _UNREADABLE:
        return hashlib.sha1(repr(feature).encode("utf-8", "replace")).hexdigest()[
            :16
        ]  # refused by save_drafts


def _fingerprint(geom: BaseGeometry) -> str:
    rounded = shapely.transform(geom, lambda xy: np.round(xy, _ROUND))
    return hashlib.sha1(shapely.to_wkb(rounded, output_dimension=2)).hexdigest()[:16]


def _check(sketch: str, purpose: str) -> None:
    if not valid_sketch(sketch):
        raise InputError(
            f"草图编号无效：{sketch!r}",
            f"not a sketch id: {sketch!r}",
            fix_zh="刷新页面开始新的草图",
            fix_en="reload the page to start a new sketch",
        )
    if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
        raise InputError(
            f"草图用途无效：{purpose!r}",
            f"not a drafts purpose: {purpose!r}",
            fix_zh="用途形如 balance:removal",
            fix_en="a purpose looks like balance:removal",
        )


def _refused(i: int, zh: str, en: str) -> InputError:
    return InputError(
        f"第 {i} 个图形{zh}",
        f"drawing {i} {en}",
        fix_zh="在地图上用多边形或矩形工具重新绘制",
        fix_en="draw it again with the polygon or rectangle tool",
    )


def _parse(feature: object, i: int) -> BaseGeometry:
    """The drawing as a shapely geometry in EPSG:4326, or a refusal naming it: whatever a browser may send."""
    geometry = _geometry(feature) if isinstance(feature, Mapping) else None
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    if not isinstance(feature, Mapping) or kind not in ("Polygon", "MultiPolygon"):
        shown = (
            str(kind)
            if kind is not None
            else type(geometry if isinstance(feature, Mapping) else feature).__name__
        )
        raise InputError(
            f"第 {i} 个图形不是面（{shown[:40]}）",
            f"drawing {i} is not a polygon ({shown[:40]})",
            fix_zh="用多边形或矩形工具绘制",
            fix_en="draw with the polygon or rectangle tool",
        )
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            geom = _shape(geometry)
    except _UNREADABLE as exc:
        raise _refused(
            i, "的坐标无法读取", f"has coordinates that cannot be read ({exc.__class__.__name__})"
        ) from exc
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise _refused(i, "的坐标不是有限的数", "has coordinates that are not finite numbers")
    minx, miny, maxx, maxy = CHINA_BOUNDS
    if (
        len(xy)
        and not ((xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)).all()
    ):
        raise _refused(i, "不在中国境内（经纬度）", "lies outside China (longitude, latitude)")
    return geom


def _to_storage(features: Iterable[Mapping[str, Any]], srid: int) -> list[tuple[str, BaseGeometry]]:
    """(fingerprint, MultiPolygon in the storage CRS) for each surface drawn; a drawing that is not one is refused."""
    out: list[tuple[str, BaseGeometry]] = []
    to_store = Transformer.from_crs(4326, srid, always_xy=True)
    for i, feature in enumerate(features, 1):
        lonlat = _parse(feature, i)
        geom = shapely.transform(lonlat, lambda xy: np.column_stack(to_store.transform(xy[:, 0], xy[:, 1])))
        multi = to_multipolygons(np.array([shapely.make_valid(geom, method="structure")], dtype=object))[0]
        if multi is None or multi.is_empty or multi.area < _MIN_AREA_M2:
            raise InputError(
                f"第 {i} 个图形没有面积",
                f"drawing {i} has no area",
                fix_zh="至少画三个不共线的点",
                fix_en="draw at least three points not in a line",
            )
        out.append((_fingerprint(lonlat), multi))
    return out


def save_drafts(
    engine: Engine, sketch: str, purpose: str, features: Iterable[Mapping[str, Any]], *, user: str | Actor
) -> int:
    """Keep the drawings (GeoJSON, EPSG:4326) not kept before; returns how many were new. One transaction."""
    _check(sketch, purpose)
    if not isinstance(features, (list, tuple)):
        raise InputError(
            "图形须为 GeoJSON 要素的列表",
            f"the drawings must be a list of GeoJSON features, not {type(features).__name__}",
            fix_zh="刷新页面后重新绘制",
            fix_en="reload the page and draw again",
        )
    if not features:
        return 0
    with transaction(engine) as conn:
        user = authorize(conn, user, "planner").name  # drafting is a planner's work
        srid = storage_srid(conn)
        rows = [
            {
                "s": sketch,
                "p": purpose,
                "f": key,
                "u": user,
                "g": shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True),
            }
            for key, geom in _to_storage(features, srid)
        ]
        insert = sa.text("""
            INSERT INTO drafts (sketch, purpose, fingerprint, created_by, geom)
            VALUES (:s, :p, :f, :u, ST_GeomFromEWKB(decode(:g, 'hex')))
            ON CONFLICT (sketch, purpose, fingerprint) DO NOTHING RETURNING id""")
        added = [r for row in rows for r in conn.execute(insert, row).fetchall()]
    return len(added)


def read_drafts(engine: Engine, sketch: str, purpose: str) -> list[dict[str, Any]]:
    """The drawings kept for a sketch and purpose, oldest first, as GeoJSON Features in EPSG:4326."""
    if not valid_sketch(sketch):
        return []
    _check(sketch, purpose)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT id, fingerprint, ST_AsBinary(ST_Transform(geom, 4326)) FROM drafts
            WHERE sketch = :s AND purpose = :p ORDER BY id"""),
            {"s": sketch, "p": purpose},
        ).fetchall()
    return [
        {
            "type": "Feature",
            "properties": {"draft_id": int(r[0]), "fingerprint": r[1]},
            "geometry": mapping(shapely.from_wkb(bytes(r[2]))),
        }
        for r in rows
    ]


def clear_drafts(engine: Engine, sketch: str, purpose: str | None = None) -> int:
    """Delete a sketch's drafts (of one purpose, or all); returns how many."""
    if not valid_sketch(sketch):
        return 0
    if purpose is not None:
        _check(sketch, purpose)
    with transaction(engine) as conn:
        where = "sketch = :s" + (" AND purpose = :p" if purpose else "")
        return conn.execute(
            sa.text(f"DELETE FROM drafts WHERE {where}"), {"s": sketch, "p": purpose}
        ).rowcount
