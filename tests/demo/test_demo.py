"""The demo city generator: deterministic, geometrically sound, and holding every situation the policy
engine looks for. Counties are hand-built 20 km × 20 km boxes in EPSG:4549 (CGCS2000 GK, CM 120°E)."""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from blockline.demo import DemoCity, generate_city

M2_PER_MU = 10000.0 / 15.0
AS_OF = datetime.date(2026, 11, 1)
SIDE = 20_000.0
DATE_COLUMNS = [
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
]
PARCEL_COLUMNS = [
    "parcel_no",
    "holder",
    "holder_id",
    "land_use",
    "county_code",
    *DATE_COLUMNS,
    "lease_years",
    "planned_investment",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "committed_output_per_mu",
    "min_far",
    "investment",
    "tax",
    "output",
    "floor_area",
    "footprint_area",
    "is_low_efficiency",
    "geometry",
]


def boxes(n: int = 3, *, side: float = SIDE) -> gpd.GeoDataFrame:
    """``n`` adjacent square counties, side ``side`` m, near Wenzhou in EPSG:4549."""
    codes = ["330302", "330303", "330304", "330381"][:n]
    names = ["鹿城区", "龙湾区", "瓯海区", "瑞安市"][:n]
    geoms = [box(500_000 + i * side, 3_100_000, 500_000 + (i + 1) * side, 3_100_000 + side) for i in range(n)]
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms, crs="EPSG:4549")


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return boxes()


@pytest.fixture(scope="module")
def city(counties: gpd.GeoDataFrame) -> DemoCity:
    return generate_city(counties)


@pytest.fixture(scope="module")
def parcels(city: DemoCity) -> gpd.GeoDataFrame:
    return city.parcels


def ts(parcels: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(parcels[column])


def area_mu(gdf: gpd.GeoDataFrame) -> pd.Series:
    return gdf.geometry.area / M2_PER_MU


def uscc_valid(code: str) -> bool:
    """GB 32100-2015 check character, written out independently of the generator."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [3**i % 31 for i in range(17)]
    if len(code) != 18 or any(c not in alphabet for c in code):
        return False
    total = sum(alphabet.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return code[17] == alphabet[(31 - total % 31) % 31]


def groups_within(geoms: np.ndarray, gap_m: float) -> np.ndarray:
    """Connected groups of geometries closer than ``gap_m`` (union-find over an STRtree)."""
    parent = np.arange(len(geoms))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap_m)
    for i, j in zip(left, right, strict=True):
        a, b = find(i), find(j)
        if a != b:
            parent[a] = b
    return np.array([find(i) for i in range(len(geoms))])


# ------------------------------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_frames(city: DemoCity, counties: gpd.GeoDataFrame) -> None:
    again = generate_city(counties)
    assert_geodataframe_equal(again.parcels, city.parcels)
    assert_geodataframe_equal(again.level1, city.level1)
    assert_geodataframe_equal(again.level2, city.level2)
    assert_geodataframe_equal(again.parks, city.parks)
    pd.testing.assert_frame_equal(again.ratings, city.ratings)


def test_different_seed_gives_a_different_city(city: DemoCity, counties: gpd.GeoDataFrame) -> None:
    other = generate_city(counties, seed=2021)
    assert not other.parcels.geometry.geom_equals(city.parcels.geometry).all()
    assert set(other.parcels["holder_id"]) != set(city.parcels["holder_id"])


def test_input_is_not_modified(counties: gpd.GeoDataFrame) -> None:
    before = counties.copy()
    generate_city(counties, n_parcels=100)
    assert_geodataframe_equal(counties, before)


# ------------------------------------------------------------------------------------------ shape


def test_columns_and_dtypes(city: DemoCity, parcels: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> None:
    assert list(parcels.columns) == PARCEL_COLUMNS
    assert parcels.crs == counties.crs
    for frame in (city.level1, city.level2, city.parks):
        assert frame.crs == counties.crs
    assert list(city.level1.columns) == ["county_code", "name", "geometry"]
    assert list(city.level2.columns) == ["county_code", "name", "geometry"]
    assert list(city.parks.columns) == ["park_id", "name", "county_code", "geometry"]
    assert list(city.ratings.columns) == ["holder_id", "year", "grade"]
    assert parcels["lease_years"].dtype == np.int64
    assert parcels["is_low_efficiency"].dtype == bool
    assert city.ratings["year"].dtype == np.int64
    for column in DATE_COLUMNS:
        values = parcels[column].dropna()
        assert all(type(v) is datetime.date for v in values), column


@pytest.mark.parametrize("n", [100, 600, 2500])
def test_parcel_count_is_within_ten_percent(counties: gpd.GeoDataFrame, n: int) -> None:
    got = len(generate_city(counties, n_parcels=n, seed=n).parcels)
    assert abs(got - n) <= 0.1 * n


def test_parcel_areas_between_5_and_150_mu(parcels: gpd.GeoDataFrame) -> None:
    mu = area_mu(parcels)
    assert mu.min() >= 5.0
    assert mu.max() <= 150.0
    assert ((mu >= 10) & (mu <= 60)).mean() > 0.7  # mostly 10–60 亩
    assert (mu > 80).any()  # a long tail


def test_parcels_are_valid_polygons_that_never_overlap(parcels: gpd.GeoDataFrame) -> None:
    geoms = parcels.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert (parcels.geom_type == "Polygon").all()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    assert left.size == 0
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    shared = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert shared.max(initial=0.0) < 1e-6
    # parcels in a block share edges: many touch
    assert pairs.sum() > len(parcels) / 2


def test_parcels_lie_within_their_county(parcels: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> None:
    assert set(parcels["county_code"]) == set(counties["code"])
    polygons = dict(zip(counties["code"], counties.geometry, strict=True))
    county_polygon = parcels["county_code"].map(polygons)
    assert shapely.within(parcels.geometry.to_numpy(), county_polygon.to_numpy()).all()


def test_parcel_numbers_are_unique_and_well_formed(parcels: gpd.GeoDataFrame) -> None:
    assert parcels["parcel_no"].is_unique
    parts = parcels["parcel_no"].str.extract(r"^(\d{6})-(\d{4})-(\d{4,})$")
    assert parts.notna().all().all()
    assert (parts[0] == parcels["county_code"]).all()
    assert parts[1].astype(int).between(2005, 2025).all()


def test_holder_ids(parcels: gpd.GeoDataFrame) -> None:
    ids = parcels["holder_id"]
    assert (ids.str.len() == 18).all()
    assert all(uscc_valid(code) for code in ids.unique())
    assert (ids.str[2:8] == parcels["county_code"]).all()  # registered in the parcel's county
    assert (parcels.groupby("holder")["holder_id"].nunique() == 1).all()
    assert (parcels.groupby("holder_id")["holder"].nunique() == 1).all()
    assert (parcels["holder"].value_counts() > 1).any()  # some enterprises hold several parcels
    assert parcels["holder"].str.fullmatch(r"(?:温州市|瑞安市).+(?:有限公司|厂)").all()
    assert uscc_valid("91350100M000100Y43")  # the checker itself, on a published example


def test_land_use_codes(parcels: gpd.GeoDataFrame) -> None:
    uses = parcels["land_use"]
    assert set(uses) <= {"100101", "100102", "100103", "1101", "0701", "0901"}
    assert uses.isin(["100101", "100102", "100103"]).mean() > 0.7
    assert (uses == "1101").any()
    assert 0.02 <= uses.isin(["0701", "0901"]).mean() <= 0.1


def test_dates_are_consistent(parcels: gpd.GeoDataFrame) -> None:
    d = {c: ts(parcels, c) for c in DATE_COLUMNS}
    as_of = pd.Timestamp(AS_OF)
    for column in ("delivered_on", "started_on", "completed_on", "operating_since"):
        assert not (d[column] > as_of).any(), column
    chains = [
        ("delivered_on", "started_on"),
        ("started_on", "completed_on"),
        ("completed_on", "operating_since"),
        ("delivered_on", "agreed_start_on"),
        ("agreed_start_on", "agreed_completion_on"),
        ("agreed_completion_on", "agreed_operation_on"),
        ("agreed_operation_on", "agreed_full_production_on"),
    ]
    for early, late in chains:
        assert not (d[late] < d[early]).any(), (early, late)
    # a stage needs the one before it
    assert not (d["completed_on"].notna() & d["started_on"].isna()).any()
    assert not (d["operating_since"].notna() & d["completed_on"].isna()).any()


def test_numbers_are_plausible(parcels: gpd.GeoDataFrame) -> None:
    industrial = parcels["land_use"].str.startswith("1")
    p = parcels[industrial]
    assert p["committed_tax_per_mu"].between(15, 80).all()
    assert p["committed_tax_per_mu"].between(15, 60).mean() > 0.9
    assert parcels["min_far"].between(1.0, 2.0).all()
    assert (p["planned_investment"] >= 100_000).any()  # 10 亿
    assert (p["planned_investment"] >= 200_000).any()  # 20 亿
    assert (parcels["lease_years"] == 20).mean() > 0.6
    assert parcels["lease_years"].isin([30, 50]).any()
    assert (parcels["footprint_area"] <= parcels["floor_area"]).all()
    assert (parcels["footprint_area"] <= parcels.geometry.area).all()
    assert (parcels.loc[parcels["completed_on"].isna(), "floor_area"] == 0).all()
    assert (p.loc[p["operating_since"].isna(), "tax"] == 0).all()


# ------------------------------------------------------------------------------ roads, lines, parks


def test_both_road_width_classes_separate_neighbours(parcels: gpd.GeoDataFrame) -> None:
    geoms = parcels.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=45.0)
    pairs = left < right
    gaps = shapely.distance(geoms[left[pairs]], geoms[right[pairs]])
    gaps = gaps[gaps > 0]
    assert ((gaps >= 10 - 1e-6) & (gaps < 15)).any()  # narrow roads: within a 15 m gap tolerance
    assert ((gaps > 15) & (gaps <= 40 + 1e-6)).any()  # wide roads: beyond it
    assert gaps.min() >= 10 - 1e-6  # no slivers between blocks


def test_block_lines(city: DemoCity, parcels: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> None:
    assert len(city.level1) > 0 and len(city.level2) > 0
    for frame in (city.level1, city.level2):
        assert frame.is_valid.all()
        assert frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        assert set(frame["county_code"]) <= set(counties["code"])
    l1 = shapely.union_all(city.level1.geometry.to_numpy())
    l2 = shapely.union_all(city.level2.geometry.to_numpy())
    assert shapely.intersection(l1, l2).area < 1.0  # m²: touching at most
    city_area = shapely.union_all(counties.geometry.to_numpy())
    assert shapely.within(city.level1.geometry.to_numpy(), city_area).all()
    assert shapely.within(city.level2.geometry.to_numpy(), city_area).all()
    # every park lies in a block line; most parks in level 1
    lines = shapely.union(l1, l2).buffer(0.01)
    assert shapely.within(parcels.geometry.to_numpy(), lines).all()
    assert l1.area > l2.area / 2
    # some level-2 land is a ring of extra industrial land outside a level-1 park
    assert city.level2["name"].str.endswith("外围").any()


def test_parks(city: DemoCity, parcels: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> None:
    parks = city.parks
    assert parks["park_id"].is_unique
    assert parks["name"].is_unique
    assert parks["name"].str.contains(r"(?:开发区|园区|企业园|集聚区|功能区)[东南西北中]片").all()
    for code in counties["code"]:
        assert (parks["county_code"] == code).sum() >= 2  # several parks per county
    # each parcel lies in exactly one park (to a centimetre: edges are shared after rotation)
    grown = parks.set_geometry(parks.buffer(0.01))
    joined = gpd.sjoin(parcels[["county_code", "geometry"]], grown, predicate="within")
    assert len(joined) == len(parcels)
    assert joined.index.is_unique
    assert (joined["county_code_left"] == joined["county_code_right"]).all()


# ------------------------------------------------------------------------------------------ situations


def test_every_situation_is_present(parcels: gpd.GeoDataFrame) -> None:
    p = parcels
    as_of = pd.Timestamp(AS_OF)
    year = pd.Timedelta(days=365)
    industrial = p["land_use"].str.startswith("1")
    mu = area_mu(p)
    started, completed, operating = (ts(p, c) for c in ("started_on", "completed_on", "operating_since"))
    agreed_start, agreed_completion = ts(p, "agreed_start_on"), ts(p, "agreed_completion_on")
    agreed_operation, agreed_full = ts(p, "agreed_operation_on"), ts(p, "agreed_full_production_on")

    idle = industrial & started.isna() & (agreed_start < as_of - year)
    idle_two_years = industrial & started.isna() & (agreed_start < as_of - 2 * year)
    stalled = (
        started.notna()
        & (started < as_of - year)
        & completed.isna()
        & (p["investment"] < 0.25 * p["planned_investment"])
    )
    late_start = started > agreed_start
    overdue = completed.isna() & started.notna() & (agreed_completion < as_of)
    late_completion = (completed > agreed_completion) | overdue
    built_not_operating = completed.notna() & operating.isna() & (agreed_operation < as_of)
    full_due = operating.notna() & (agreed_full < as_of)
    tax_per_mu, output_per_mu = p["tax"] / mu, p["output"] / mu
    below_target = full_due & (
        (tax_per_mu < p["committed_tax_per_mu"]) | (output_per_mu < p["committed_output_per_mu"])
    )
    tax_below_30pct = full_due & (tax_per_mu < 0.3 * p["committed_tax_per_mu"])
    output_below_half = full_due & (output_per_mu < 0.5 * p["committed_output_per_mu"])
    underused = completed.notna() & industrial & (p["floor_area"] / p.geometry.area < p["min_far"])
    missing_dates = p[["delivered_on", "agreed_start_on", "agreed_completion_on"]].isna().any(axis=1)
    situations = {
        "idle": idle,
        "idle_two_years": idle_two_years,
        "stalled": stalled,
        "late_start": late_start,
        "late_completion": late_completion,
        "built_not_operating": built_not_operating,
        "below_target": below_target,
        "tax_below_30pct": tax_below_30pct,
        "output_below_half": output_below_half,
        "underused": underused,
        "missing_dates": missing_dates,
    }
    for name, mask in situations.items():
        assert mask.any(), name
    troubled = pd.concat(situations, axis=1).any(axis=1)
    healthy = industrial & ~troubled & ~p["is_low_efficiency"]
    assert 0.5 <= healthy.mean() <= 0.75
    # recent contracts in newer parks, old ones in older parks
    supply_year = p["parcel_no"].str[7:11].astype(int)
    assert (supply_year <= 2015).any() and (supply_year >= 2018).any()


def test_old_parks_hold_low_efficiency_clusters_across_narrow_roads(parcels: gpd.GeoDataFrame) -> None:
    supply_year = parcels["parcel_no"].str[7:11].astype(int)
    low = parcels[parcels["is_low_efficiency"] & (supply_year <= 2015)]
    geoms = low.geometry.to_numpy()
    group = groups_within(geoms, 15.0)
    mu = area_mu(low).to_numpy()
    found = False
    for g in np.unique(group):
        members = geoms[group == g]
        if mu[group == g].sum() <= 60:
            continue
        # across a road: two members of the group that do not touch
        touching = groups_within(members, 0.0)
        if np.unique(touching).size > 1:
            found = True
            break
    assert found


def test_ratings(city: DemoCity, parcels: gpd.GeoDataFrame) -> None:
    r = city.ratings
    assert set(r["grade"]) == {"A", "B", "C", "D"}
    assert set(r["year"]) == {2023, 2024, 2025}
    assert not r.duplicated(["holder_id", "year"]).any()
    assert set(r["holder_id"]) <= set(parcels["holder_id"])
    wide = r.pivot(index="holder_id", columns="year", values="grade")
    assert ((wide[2024] == "D") & (wide[2025] == "D")).any()
    assert ((wide[2023] == "C") & (wide[2024] == "C") & (wide[2025] == "C")).any()
    # grades follow performance: the surveyed low-efficiency enterprises fare worse
    low_holders = set(parcels.loc[parcels["is_low_efficiency"], "holder_id"])
    score = r["grade"].map({"A": 0, "B": 1, "C": 2, "D": 3})
    is_low = r["holder_id"].isin(low_holders)
    assert score[is_low].mean() > score[~is_low].mean() + 0.5


# ------------------------------------------------------------------------------ options and refusals


def test_as_of_moves_the_timeline(counties: gpd.GeoDataFrame) -> None:
    as_of = datetime.date(2021, 6, 30)
    p = generate_city(counties, n_parcels=300, as_of=as_of).parcels
    for column in ("delivered_on", "started_on", "completed_on", "operating_since"):
        assert not (ts(p, column) > pd.Timestamp(as_of)).any()
    assert p["parcel_no"].str[7:11].astype(int).max() <= 2020


def test_irregular_counties(counties: gpd.GeoDataFrame) -> None:
    """A county of two islands and one with a hole still holds every parcel."""
    islands = shapely.MultiPolygon([box(0, 0, 9_000, 9_000), box(12_000, 0, 20_000, 7_000)])
    holed = shapely.Polygon(
        [(20_000, 0), (40_000, 0), (40_000, 20_000), (20_000, 20_000)],
        [[(24_000, 4_000), (36_000, 4_000), (36_000, 16_000), (24_000, 16_000)]],
    )
    odd = gpd.GeoDataFrame(
        {"code": ["330305", "330383"], "name": ["洞头区", "龙港市"]},
        geometry=[islands, holed],
        crs="EPSG:4549",
    )
    p = generate_city(odd, n_parcels=800, seed=5).parcels
    assert len(p) == 800
    polygons = dict(zip(odd["code"], odd.geometry, strict=True))
    assert shapely.within(p.geometry.to_numpy(), p["county_code"].map(polygons).to_numpy()).all()
    assert p.loc[p["county_code"] == "330383", "holder"].str.startswith("龙港市").all()


def test_geographic_crs_is_refused(counties: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="geographic"):
        generate_city(counties.to_crs("EPSG:4490"))


def test_missing_crs_is_refused(counties: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="no CRS"):
        generate_city(counties.set_crs(None, allow_override=True))


def test_bad_input_is_refused(counties: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="code"):
        generate_city(counties.drop(columns="code"))
    with pytest.raises(ValueError, match="6 digits"):
        generate_city(counties.assign(code=["3303", "330303", "330304"]))
    with pytest.raises(ValueError, match="n_parcels"):
        generate_city(counties, n_parcels=0)


def test_counties_too_small_are_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        generate_city(boxes(1, side=2_000.0), n_parcels=5_000)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(100, 400))
def test_invariants_hold_for_any_seed(counties: gpd.GeoDataFrame, seed: int, n: int) -> None:
    p = generate_city(counties, n_parcels=n, seed=seed).parcels
    assert abs(len(p) - n) <= 0.1 * n
    mu = area_mu(p)
    assert mu.between(5.0, 150.0).all()
    assert p["parcel_no"].is_unique
    assert (p.groupby("holder")["holder_id"].nunique() == 1).all()
    geoms = p.geometry.to_numpy()
    assert shapely.STRtree(geoms).query(geoms, predicate="overlaps")[0].size == 0
    polygons = dict(zip(counties["code"], counties.geometry, strict=True))
    assert shapely.within(geoms, p["county_code"].map(polygons).to_numpy()).all()
