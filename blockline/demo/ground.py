"""The parks' parcels put on the ground: from each park's own frame to the counties' CRS, as one set of arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from blockline.demo._arrays import FloatArray, IntArray, ObjectArray
from blockline.demo.layout import ParkLayout
from geo.area import M2_PER_MU

__all__ = ["Ground", "lay_out", "rectangles"]


def _rotate(
    x: FloatArray, y: FloatArray, *, cx: FloatArray, cy: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    c, s = np.cos(theta), np.sin(theta)
    return cx + x * c - y * s, cy + x * s + y * c


def rectangles(
    x0: FloatArray,
    x1: FloatArray,
    y0: FloatArray,
    y1: FloatArray,
    *,
    cx: FloatArray,
    cy: FloatArray,
    theta: FloatArray,
    lean: FloatArray | None = None,
    mid: FloatArray | None = None,
) -> ObjectArray:
    """Rotated rectangles (counter-clockwise) from local extents, by array.

    With ``lean`` and ``mid``, parallelograms whose side edges lean by ``lean`` (dx/dy) about the line
    y = ``mid`` (same area).
    """
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    if lean is not None and mid is not None:
        xs = xs + (ys - mid[:, None]) * lean[:, None]
    wx, wy = _rotate(xs, ys, cx=cx[:, None], cy=cy[:, None], theta=theta[:, None])
    return np.asarray(shapely.polygons(np.stack([wx, wy], axis=2)), dtype=object)


@dataclass(frozen=True)
class Ground:
    """Every parcel of every park, parks in order and each park's parcels in build order.

    Extents (``x0`` … ``y1``, ``row_mid``) are in the park's frame centred on the park; ``place`` holds the
    parks' centres and rotations (``cx``, ``cy``, ``theta``), by park.
    """

    parks: list[ParkLayout]
    sizes: IntArray  # parcels per park
    park_of: IntArray
    park_county: IntArray  # by park: the county's position in the counties given
    county_of: IntArray
    x0: FloatArray
    x1: FloatArray
    y0: FloatArray
    y1: FloatArray
    lean: FloatArray
    row_mid: FloatArray
    place: dict[str, FloatArray]
    geometry: ObjectArray
    area_m2: FloatArray
    area_mu: FloatArray
    block: IntArray  # block number in the city
    row: IntArray  # block-row number within the park
    gap_before: FloatArray

    @property
    def n(self) -> int:
        """How many parcels."""
        return int(self.sizes.sum())


def lay_out(parks: list[ParkLayout]) -> Ground:
    """The parks' parcels in the world: rotated about their park's centre, blocks numbered across the city."""
    sizes = np.array([p.x0.size for p in parks])
    park_of = np.repeat(np.arange(len(parks)), sizes)
    park_county = np.array([p.county for p in parks])
    x0 = np.concatenate([p.x0 - p.width / 2 for p in parks])
    x1 = np.concatenate([p.x1 - p.width / 2 for p in parks])
    y0 = np.concatenate([p.y0 - p.height / 2 for p in parks])
    y1 = np.concatenate([p.y1 - p.height / 2 for p in parks])
    place = {
        "cx": np.array([p.cx for p in parks]),
        "cy": np.array([p.cy for p in parks]),
        "theta": np.array([p.theta for p in parks]),
    }
    lean = np.concatenate([p.lean for p in parks])
    row_mid = np.concatenate([p.row_mid - p.height / 2 for p in parks])
    geometry = rectangles(
        x0,
        x1,
        y0,
        y1,
        cx=place["cx"][park_of],
        cy=place["cy"][park_of],
        theta=place["theta"][park_of],
        lean=lean,
        mid=row_mid,
    )
    area_m2 = (x1 - x0) * (y1 - y0)
    block_offset = np.concatenate([[0], np.cumsum([p.block.max() + 1 for p in parks])[:-1]])
    return Ground(
        parks=parks,
        sizes=sizes,
        park_of=park_of,
        park_county=park_county,
        county_of=park_county[park_of],
        x0=x0,
        x1=x1,
        y0=y0,
        y1=y1,
        lean=lean,
        row_mid=row_mid,
        place=place,
        geometry=geometry,
        area_m2=area_m2,
        area_mu=area_m2 / M2_PER_MU,
        block=np.concatenate([p.block for p in parks]) + np.repeat(block_offset, sizes),
        gap_before=np.concatenate([p.gap_before for p in parks]),
        row=np.concatenate([p.row for p in parks]),
    )
