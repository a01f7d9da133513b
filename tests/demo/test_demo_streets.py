"""The demo's estates are not grids of squares (issue 15), and the same seed gives the same city, byte for byte.

On the real Wenzhou counties, in EPSG:4549 and EPSG:4528 (zone prefix in the false easting). The angles and
widths are measured here on the output geometries, not read from the generator.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from blockline.demo import BUNDLED_BOUNDARIES, generate_city

ROOT = Path(__file__).resolve().parents[2]

_DIGEST = """
import hashlib, sys
import geopandas as gpd, shapely
from blockline.demo import BUNDLED_BOUNDARIES, generate_city, generate_region
areas = gpd.read_file(BUNDLED_BOUNDARIES, layer="admin_areas", engine="pyogrio")
c = areas[(areas["level"] == "county") & areas["code"].str.startswith("3303")]
c = c[["code", "name", "parent_code", "geometry"]].rename(columns={"parent_code": "city_code"}).to_crs(sys.argv[1])
h = hashlib.sha256()
for _, city in generate_region(c.reset_index(drop=True), n_parcels=2500, seed=9):
    for frame in (city.parcels, city.level1, city.level2, city.parks):
        h.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy())))
        h.update(frame.drop(columns="geometry").to_csv(index=False).encode())
    h.update(city.ratings.to_csv(index=False).encode())
print(h.hexdigest())
"""


@pytest.fixture(scope="module", params=["EPSG:4549", "EPSG:4528"])
def city(request: pytest.FixtureRequest) -> tuple[str, gpd.GeoDataFrame, object]:
    areas = gpd.read_file(BUNDLED_BOUNDARIES, layer="admin_areas", engine="pyogrio")
    counties = areas[(areas["level"] == "county") & areas["code"].str.startswith("3303")]
    counties = counties[["code", "name", "geometry"]].reset_index(drop=True).to_crs(request.param)
    return request.param, counties, generate_city(counties, n_parcels=3000, seed=2020)


def _corner_cosines(geoms: np.ndarray) -> np.ndarray:
    """|cos| of each parcel's corner angles (0 for a right angle), from the outline's own coordinates."""
    rings = shapely.get_exterior_ring(geoms)
    xy = np.stack([shapely.get_coordinates(r)[:-1] for r in rings])  # (n, 4, 2): the demo's parcels are quads
    a = np.roll(xy, 1, axis=1) - xy
    b = np.roll(xy, -1, axis=1) - xy
    cos = (a * b).sum(axis=2) / (np.linalg.norm(a, axis=2) * np.linalg.norm(b, axis=2))
    return np.abs(cos)


def test_same_seed_same_bytes_in_two_processes(city: tuple[str, gpd.GeoDataFrame, object]) -> None:
    crs = city[0]
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST, crs], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_most_parcels_are_not_rectangles(city: tuple[str, gpd.GeoDataFrame, object]) -> None:
    _, _, made = city
    geoms = made.parcels.geometry.to_numpy()
    assert (shapely.get_num_coordinates(geoms) == 5).all()
    cos = _corner_cosines(geoms)
    leaning = (cos > np.sin(np.radians(5))).any(axis=1)  # a corner more than 5° off square
    assert leaning.mean() > 0.6
    assert cos.max() < np.sin(np.radians(25))  # and none leans absurdly (within ±20° of square, drawn)


def test_cross_streets_keep_their_width_across(city: tuple[str, gpd.GeoDataFrame, object]) -> None:
    """Between two parcels of one block-row on either side of a leaning street, the distance (across the
    street) is a road width of the two classes, 10–14 m or 20–40 m, never a sliver."""
    _, _, made = city
    geoms = made.parcels.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=45.0)
    pairs = left < right
    gaps = shapely.distance(geoms[left[pairs]], geoms[right[pairs]])
    gaps = gaps[gaps > 1e-6]
    assert gaps.min() >= 10 - 1e-6
    assert ((gaps >= 10 - 1e-6) & (gaps <= 14 + 1e-6)).sum() > 50
    assert ((gaps >= 20 - 1e-6) & (gaps <= 40 + 1e-6)).sum() > 50


def test_block_lines_are_not_rectangles_either(city: tuple[str, gpd.GeoDataFrame, object]) -> None:
    _, _, made = city
    lines = made.level1.geometry.to_numpy()
    # an outline that follows leaning rows has more than the 4 corners of a box, and is not its own envelope
    fill = shapely.area(lines) / shapely.area(shapely.oriented_envelope(lines))
    assert (shapely.get_num_coordinates(lines) > 5).mean() > 0.9
    assert np.median(fill) < 0.97


def test_parcels_keep_5_to_150_mu_and_the_county(city: tuple[str, gpd.GeoDataFrame, object]) -> None:
    _, counties, made = city
    mu = made.parcels.geometry.area / (10_000 / 15)
    assert mu.min() >= 5.0 and mu.max() <= 150.0
    county = counties.set_index("code").geometry
    assert shapely.within(
        made.parcels.geometry.to_numpy(), county.loc[made.parcels["county_code"]].to_numpy()
    ).all()
