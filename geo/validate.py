"""Geometry checks on the way in: an explicit, counted choice for every feature that is not a clean polygon.

- empty or missing geometry: refused;
- points and lines: refused (block lines and parcels are areas);
- Z/M coordinates: dropped (counted);
- invalid polygons: repaired with ``make_valid(method="structure")``, keeping only the polygonal parts,
  each repair reported with its area before and after;
- Polygon and MultiPolygon alike stored as MultiPolygon.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Polygon
>>> bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
>>> fixed, report = repair_polygons(gpd.GeoSeries([bowtie]))
>>> fixed.iloc[0].geom_type, round(fixed.iloc[0].area, 6), report.repaired[0].row
('MultiPolygon', 50.0, 1)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import SupportsIndex

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import Problem

__all__ = ["Repair", "RepairReport", "repair_polygons", "to_multipolygons"]

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Repair:
    """One feature that was repaired."""

    row: int
    feature: str | None
    reason: str
    area_before: float
    area_after: float


@dataclass
class RepairReport:
    """What was done to a file's geometries, and what was refused."""

    repaired: list[Repair] = field(default_factory=list)
    dropped_z: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The report as plain data: what was repaired, and the problems."""
        return {
            "repaired": [r.__dict__ for r in self.repaired],
            "dropped_z": self.dropped_z,
            "problems": [str(p) for p in self.problems],
        }


def to_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry as a MultiPolygon (collections reduced to their polygons).

    Vectorised; a geometry with no polygonal part comes back as ``None``.
    """
    # Collections inside collections (make_valid can return them) are flattened by repeated get_parts.
    flat = geoms
    index = np.arange(len(geoms))
    for _ in range(3):
        is_coll = np.isin(shapely.get_type_id(flat), [6, 7])  # MultiPolygon, GeometryCollection
        if not is_coll.any():
            break
        parts, sub = shapely.get_parts(flat[is_coll], return_index=True)
        flat = np.concatenate([flat[~is_coll], parts])
        index = np.concatenate([index[~is_coll], index[is_coll][sub]])
    keep = (shapely.get_type_id(flat) == 3) & ~shapely.is_empty(flat)
    out = np.full(len(geoms), None, dtype=object)
    if keep.any():
        order = np.argsort(index[keep], kind="stable")
        polys, idx = flat[keep][order], index[keep][order]
        present = np.unique(idx)
        out[present] = shapely.multipolygons(polys, indices=np.searchsorted(present, idx))
    return out


def _make_valid(geoms: np.ndarray) -> np.ndarray:
    """``make_valid`` of each geometry; None for one GEOS cannot repair (it throws on absurd coordinates)."""
    try:
        return shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except shapely.errors.GEOSException:
        out = np.full(len(geoms), None, dtype=object)
        for k, g in enumerate(geoms):
            # left None: reported as "no polygon is left after repair", with the reason GEOS gave
            with contextlib.suppress(shapely.errors.GEOSException):
                out[k] = shapely.make_valid(g, method="structure", keep_collapsed=False)
        return out


def repair_polygons(
    geoms: gpd.GeoSeries, *, labels: list[str] | None = None
) -> tuple[gpd.GeoSeries, RepairReport]:
    """Check and repair polygon geometries; return MultiPolygons (same index and CRS) and the report.

    Refused features are reported in ``report.problems`` and come back as ``None``; the caller decides
    whether a file with problems is loaded (it is not: a load is all or nothing).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # huge or NaN coordinates: refused by the checks after
        return _repair_polygons(geoms, labels=labels)


def _repair_polygons(geoms: gpd.GeoSeries, *, labels: list[str] | None) -> tuple[gpd.GeoSeries, RepairReport]:
    report = RepairReport()
    values = np.asarray(geoms.array, dtype=object)
    n = len(values)

    def label(i: SupportsIndex) -> str | None:
        return labels[i] if labels else None

    missing = shapely.is_missing(values) | shapely.is_empty(values)
    for i in np.flatnonzero(missing):
        report.problems.append(Problem(int(i) + 1, label(i), "几何为空", "empty or missing geometry"))

    present = ~missing
    has_z = np.zeros(n, dtype=bool)
    has_z[present] = shapely.has_z(values[present])
    if has_z.any():
        values = values.copy()
        values[has_z] = shapely.force_2d(values[has_z])
        report.dropped_z = int(has_z.sum())

    type_ids = np.full(n, -1)
    type_ids[present] = shapely.get_type_id(values[present])
    collection = type_ids == 7
    polygonal = np.isin(type_ids, [3, 6])
    other = present & ~polygonal & ~collection
    for i in np.flatnonzero(other):
        kind = shapely.get_type_id(values[i])
        name = ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString"][kind]
        report.problems.append(
            Problem(
                int(i) + 1, label(i), f"几何类型为 {name}，应为面", f"geometry is a {name}, not a polygon"
            )
        )

    candidates = polygonal | collection
    invalid = np.zeros(n, dtype=bool)
    invalid[candidates] = ~shapely.is_valid(values[candidates])
    area_before = np.zeros(n)
    area_before[candidates] = shapely.area(values[candidates])
    work = values.copy()
    if invalid.any():
        reasons = shapely.is_valid_reason(values[invalid])
        work[invalid] = _make_valid(values[invalid])
        invalid_reason = dict(zip(np.flatnonzero(invalid), reasons, strict=False))
    else:
        invalid_reason = {}

    out = np.full(n, None, dtype=object)
    out[candidates] = to_multipolygons(work[candidates])
    lost = candidates & shapely.is_missing(out)
    for i in np.flatnonzero(lost):
        why = invalid_reason.get(i)
        report.problems.append(
            Problem(
                int(i) + 1,
                label(i),
                "几何修复后没有剩下面" + (f"（{why}）" if why else "（几何集合中没有面）"),
                "no polygon is left after repair"
                + (f" ({why})" if why else " (the collection holds no polygon)"),
            )
        )
    area_after = np.zeros(n)
    ok = ~shapely.is_missing(out)
    area_after[ok] = shapely.area(out[ok])
    for i in np.flatnonzero(invalid & ok):
        report.repaired.append(
            Repair(int(i) + 1, label(i), str(invalid_reason[i]), float(area_before[i]), float(area_after[i]))
        )
    for i in np.flatnonzero(collection & ok & ~invalid):
        report.repaired.append(
            Repair(
                int(i) + 1,
                label(i),
                "GeometryCollection reduced to its polygons",
                float(area_before[i]),
                float(area_after[i]),
            )
        )
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs), report
