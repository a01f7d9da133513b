"""Fuzzing the loaders: valid small files with bytes flipped, inserted or cut off, loaded for real.

Each example takes a valid Shapefile (each of its four parts), GeoPackage, GeoJSON, zipped Shapefile or CSV,
damages one part with hypothesis-chosen byte edits (derandomized: the same damage every run) and loads it.
It must be refused cleanly, nothing written, or load with every stored geometry valid.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from geo.load import load_parcels
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, write_shapefile
from tests.hostile.conftest import attempt
from tests.hostile.strategies import HOLDER, hostile_settings, write_frame
from tests.hostile.test_generated import stored_geometry_faults

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")  # GDAL on the broken files it reads

#: which file of a dataset to damage, by the dataset's folder name
TARGETS = {
    "shp": ["宗地.shp", "宗地.shx", "宗地.dbf", "宗地.prj"],
    "gpkg": ["宗地.gpkg"],
    "geojson": ["宗地.geojson"],
    "zip": ["宗地.zip"],
    "csv": ["宗地.csv"],
}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One valid file of each format: three parcels with Chinese and hostile attributes."""
    root = tmp_path_factory.mktemp("originals")
    # The same bytes every run (the fuzzer's edits are derandomized): no write time in the GeoPackage, the .dbf
    # or the zip.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2020-01-01T00:00:00.000Z"})
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["F-1", "F-2", "F-3"],
            "权利人": ["温州宏达机械有限公司", HOLDER, "瓯海"],
            "约定开工日期": ["2021-03-05", "", "2022-01-01"],
            "年度税收": [12.5, 0.0, 3.0],
        },
        geometry=[square(X + 100, Y + 100), square(X + 300, Y + 100), square(X + 500, Y + 100)],
        crs="EPSG:4549",
    )
    for fmt in TARGETS:
        (root / fmt).mkdir()
    try:
        write_shapefile(gdf, root / "shp" / "宗地.shp", encoding="GBK", cpg=False)
        write_frame(gdf, root / "gpkg" / "宗地.gpkg")
        write_frame(gdf, root / "geojson" / "宗地.geojson")
        write_frame(gdf, root / "csv" / "宗地.csv")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    dbf = root / "shp" / "宗地.dbf"
    dbf.write_bytes(
        dbf.read_bytes()[:1] + bytes([120, 1, 1]) + dbf.read_bytes()[4:]
    )  # last update: 2020-01-01
    with zipfile.ZipFile(root / "zip" / "宗地.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for part in sorted((root / "shp").iterdir()):
            z.writestr(
                zipfile.ZipInfo(part.name, date_time=(2020, 1, 1, 0, 0, 0)),
                part.read_bytes(),
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return root


_where = st.floats(0, 1, exclude_max=True)
_byte = st.one_of(st.integers(0, 255), st.integers(0x20, 0x7E))  # any byte, or one that reads as text
_edit = st.one_of(
    st.tuples(st.just("flip"), _where, _byte),
    st.tuples(st.just("flip"), _where, _byte),
    st.tuples(st.just("insert"), _where, _byte),
    st.tuples(st.just("cut"), _where, st.just(0)),
)


def damage(data: bytes, edits: list[tuple[str, float, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, byte in edits:
        if not out:
            break
        at = int(where * len(out))
        if kind == "flip":
            out[at] = byte
        elif kind == "insert":
            out[at:at] = bytes([byte])
        else:
            del out[at:]
    return bytes(out)


@hostile_settings(300)
@given(fmt=st.sampled_from(list(TARGETS)), data=st.data(), edits=st.lists(_edit, min_size=1, max_size=4))
def test_damaged_files_are_refused_or_loaded_valid(
    city: sa.Engine, originals: Path, fmt: str, data, edits
) -> None:
    target = data.draw(st.sampled_from(TARGETS[fmt]), label="target")
    with tempfile.TemporaryDirectory(prefix="bl-fuzz-") as tmp:
        folder = Path(tmp)
        for part in (originals / fmt).iterdir():
            shutil.copy(part, folder / part.name)
        broken = folder / target
        broken.write_bytes(damage(broken.read_bytes(), edits))
        dataset = folder / next(n for n in TARGETS[fmt] if not n.endswith((".shx", ".dbf", ".prj")))
        crs = "4549" if fmt == "csv" else None
        outcome = attempt(
            f"fuzz load_parcels ({fmt})", city, load_parcels, city, dataset, user="test", crs=crs
        )
    if outcome.refused:
        assert outcome.error.file and outcome.error.fix_en, outcome.error
        return
    assert stored_geometry_faults(city, "parcels", outcome.value.load_id) == []


def test_the_damage_is_real(originals: Path) -> None:
    """The edits change the files (a fuzzer that leaves them whole proves nothing)."""
    original = (originals / "gpkg" / "宗地.gpkg").read_bytes()
    assert damage(original, [("cut", 0.5, 0)]) == original[: len(original) // 2]
    assert damage(original, [("flip", 0.0, 0x00)])[0] == 0 != original[0]
    assert len(damage(original, [("insert", 0.1, 7)])) == len(original) + 1


@pytest.mark.parametrize("fmt", list(TARGETS))
def test_the_originals_load(city: sa.Engine, originals: Path, fmt: str) -> None:
    dataset = originals / fmt / next(n for n in TARGETS[fmt] if not n.endswith((".shx", ".dbf", ".prj")))
    result = load_parcels(city, dataset, user="test", crs="4549" if fmt == "csv" else None)
    assert result.inserted + result.updated == 3
