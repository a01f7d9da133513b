"""Generated hostile files through the loaders: broken polygons and hostile rows, written and loaded for real.

Properties: nothing but a BlocklineError escapes; a refusal writes nothing (``attempt``); a load stores only
valid, non-empty MultiPolygons in the storage CRS (PostGIS's ST_IsValid says so, not shapely), reports a
repair for every invalid polygon it kept, and stores every value exactly (text stripped of surrounding space,
the unknown columns in ``extra`` verbatim, numbers and dates as given).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from geo.load import load_blocklines, load_boundaries, load_parcels
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square
from tests.hostile.conftest import attempt
from tests.hostile.strategies import expected_text, hostile_settings, polygons, rows, write_frame

# GDAL warns about the broken files it reads (rings it closes or turns round): what is checked is the outcome.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")

_GEOMETRY_TABLES = {"parcels": "parcels", "blocklines": "block_lines", "boundaries": "admin_areas"}


def stored_geometry_faults(engine: sa.Engine, table: str, load_id: int) -> list[tuple[object, ...]]:
    """Rows of ``table`` written by ``load_id`` whose geometry PostGIS does not hold a clean MultiPolygon."""
    with engine.connect() as conn:
        srid = conn.execute(sa.text("SELECT Find_SRID('public', 'parcels', 'geom')")).scalar_one()
        return conn.execute(
            sa.text(f"""
            SELECT ST_IsValidReason(geom), GeometryType(geom), ST_SRID(geom), ST_Area(geom) FROM {table}
            WHERE load_id = :l AND NOT (ST_IsValid(geom) AND NOT ST_IsEmpty(geom) AND ST_Area(geom) > 0
                  AND GeometryType(geom) = 'MULTIPOLYGON' AND ST_SRID(geom) = :srid)"""),
            {"l": load_id, "srid": srid},
        ).all()


@hostile_settings(120)
@given(
    geoms=st.lists(polygons(), min_size=1, max_size=3),
    fmt=st.sampled_from([".gpkg", ".geojson", ".csv", ".shp"]),
    kind=st.sampled_from(["parcels", "parcels", "blocklines", "boundaries"]),
)
def test_generated_polygons_are_refused_or_stored_valid(city: sa.Engine, geoms, fmt: str, kind: str) -> None:
    n = len(geoms)
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": [f"G-{i}" for i in range(n)],
            "名称": [f"线{i}" for i in range(n)],
            "code": ["330302"] * n,
            "name": ["鹿城区"] * n,
        },
        geometry=geoms,
        crs="EPSG:4549",
    )
    with tempfile.TemporaryDirectory(prefix="bl-hostile-") as tmp:
        path = write_frame(gdf, Path(tmp) / f"生成{fmt}")
        if kind == "parcels":
            outcome = attempt(
                f"load_parcels ({fmt[1:]})", city, load_parcels, city, path, user="test", crs="4549"
            )
        elif kind == "blocklines":
            outcome = attempt(
                f"load_blocklines ({fmt[1:]})",
                city,
                load_blocklines,
                city,
                path,
                level=2,
                user="test",
                crs="4549",
            )
        else:
            outcome = attempt(
                f"load_boundaries ({fmt[1:]})", city, load_boundaries, city, path, user="test", crs="4549"
            )
    if outcome.refused:
        error = outcome.error
        assert error.file == path.name and error.fix_en, error
        return
    result = outcome.value
    assert stored_geometry_faults(city, _GEOMETRY_TABLES[kind], result.load_id) == []
    if kind == "parcels":
        assert result.inserted + result.updated == n
        # every invalid polygon that was kept is reported as repaired, with its row
        invalid_rows = {i + 1 for i, g in enumerate(geoms) if not shapely.is_valid(g)}
        assert invalid_rows <= {r.row for r in result.read.repairs.repaired}


def _parse_number(text: str) -> float | None:
    return float(text) if text.strip() else None


@hostile_settings(120)
@given(generated=rows(), fmt=st.sampled_from([".geojson", ".gpkg", ".csv"]))
def test_generated_rows_are_refused_or_stored_exactly(city: sa.Engine, generated, fmt: str) -> None:
    frame, must_refuse = generated
    n = len(frame)
    gdf = gpd.GeoDataFrame(
        frame, geometry=[square(X + 100 + 120 * i, Y + 100) for i in range(n)], crs="EPSG:4549"
    )
    with tempfile.TemporaryDirectory(prefix="bl-hostile-") as tmp:
        path = write_frame(gdf, Path(tmp) / f"宗地{fmt}")
        outcome = attempt(
            f"load_parcels ({fmt[1:]})", city, load_parcels, city, path, user="test", crs="4549"
        )
    if must_refuse:
        assert outcome.refused, f"a bad value was loaded: {frame.to_dict('records')}"
        problems = getattr(outcome.error, "problems", None)
        assert outcome.error.file == path.name and problems, outcome.error
        assert all(p.row is not None and 1 <= p.row <= n for p in problems), outcome.error
        return
    assert not outcome.refused, f"good rows refused: {outcome.error}"
    result = outcome.value
    assert result.inserted + result.updated == n
    assert stored_geometry_faults(city, "parcels", result.load_id) == []
    extra_header = frame.columns[3]
    with city.connect() as conn:
        stored = (
            conn.execute(
                sa.text("""
            SELECT parcel_no, holder, land_use, extra, tax, lease_years, agreed_start_on FROM parcels
            WHERE load_id = :l"""),
                {"l": result.load_id},
            )
            .mappings()
            .all()
        )
    by_no = {r["parcel_no"]: r for r in stored}
    assert len(by_no) == n
    for record in frame.to_dict("records"):
        row = by_no[expected_text(record["宗地编号"])]
        assert row["holder"] == expected_text(record["权利人"])
        assert row["land_use"] == expected_text(record["土地用途"])
        extra = row["extra"] if isinstance(row["extra"], dict) else json.loads(row["extra"])
        assert extra == {extra_header: record[extra_header]}  # unknown columns: verbatim, untouched
        tax, lease = _parse_number(record["年度税收"]), _parse_number(record["出让年限"])
        assert row["tax"] == tax and row["lease_years"] == lease  # exactly: no float lost on the way
        day = record["约定开工日期"]
        assert row["agreed_start_on"] == (dt.date.fromisoformat(day) if day else None)


def test_generated_rows_cover_both_outcomes() -> None:
    """The row strategy draws refusals and loads alike (else the property above proves little)."""
    from hypothesis import find

    assert find(rows(), lambda r: r[1], settings=hostile_settings(200))[1]
    assert not find(rows(), lambda r: not r[1], settings=hostile_settings(200))[1]
