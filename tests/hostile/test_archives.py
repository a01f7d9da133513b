"""Hostile zips through the loaders and the 数据 page's preview (tests/geo/test_archive.py checks
``safe_extract`` itself, entry by entry: bombs, traversal, symlinks, nesting, encryption, limits).

Here the same archives arrive as a planner's upload: ``preview_file`` must show the refusal (never raise,
never write), the loaders must refuse with nothing written, and nothing may be extracted outside.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa

from blockline.ui.data import preview_file
from geo.load import load_blocklines, load_parcels, load_ratings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, write_shapefile
from tests.hostile.conftest import TALLY, attempt, snapshot
from tests.hostile.strategies import HOLDER

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")


def _shapefile_parts(folder: Path) -> dict[str, bytes]:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["Z-1"], "权利人": [HOLDER], "名称": ["线"]},
        geometry=[square(X + 900, Y + 100)],
        crs="EPSG:4549",
    )
    shp = write_shapefile(gdf, folder / "宗地.shp", encoding="GBK", cpg=False)
    return {p.name: p.read_bytes() for p in folder.glob(shp.stem + ".*")}


def _zip(path: Path, entries: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return path


def _nested(folder: Path, parts: dict[str, bytes]) -> dict[str, bytes]:
    inner = _zip(folder / "inner.zip", parts)
    return {"宗地/inner.zip": inner.read_bytes()}


ARCHIVES: list[tuple[str, Callable[[Path, dict[str, bytes]], Path], str | None]] = [
    (
        "zip bomb",
        lambda f, parts: _zip(f / "宗地.zip", {**parts, "padding.geojson": b"\x00" * (40 << 20)}),
        "zip bomb",
    ),
    ("nested zip", lambda f, parts: _zip(f / "宗地.zip", _nested(f, parts)), "nested archive"),
    (
        "zip in a zip named .gpkg",
        lambda f, parts: _zip(f / "宗地.zip", {"宗地.gpkg": _zip(f / "i.zip", parts).read_bytes()}),
        "cannot read the file",
    ),
    (
        "path traversal",
        lambda f, parts: _zip(f / "宗地.zip", {f"../../{k}": v for k, v in parts.items()}),
        "unsafe path",
    ),
    (
        "absolute path",
        lambda f, parts: _zip(f / "宗地.zip", {f"/tmp/{k}": v for k, v in parts.items()}),
        "unsafe path",
    ),
    ("symlink entry", lambda f, parts: _zip(f / "宗地.zip", parts, symlink="宗地.prj.lnk"), "symbolic link"),
    (
        "two datasets",
        lambda f, parts: _zip(f / "宗地.zip", {**parts, **{f"b/{k}": v for k, v in parts.items()}}),
        "several datasets",
    ),
    ("no dataset", lambda f, parts: _zip(f / "宗地.zip", {"readme.txt": b"hello"}), "no vector dataset"),
    ("empty zip", lambda f, parts: _zip(f / "宗地.zip", {}), "no vector dataset"),
    (
        "a .dbf without .shp",
        lambda f, parts: _zip(f / "宗地.zip", {k: v for k, v in parts.items() if k.endswith(".dbf")}),
        "no vector dataset",
    ),
    (
        "a .shp without .dbf",
        lambda f, parts: _zip(f / "宗地.zip", {k: v for k, v in parts.items() if not k.endswith(".dbf")}),
        "no .dbf",
    ),
    (
        "not a zip at all",
        lambda f, parts: _write(f / "宗地.zip", b"PK\x03\x04" + b"\xff" * 64),
        "not a valid zip",
    ),
    (
        "macOS resource forks beside the data",
        lambda f, parts: _zip(
            f / "宗地.zip", {**parts, **{f"__MACOSX/._{k}": b"\x00\x05\x16\x07" for k in parts}}
        ),
        None,
    ),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("label", "make", "says"), ARCHIVES, ids=[a[0] for a in ARCHIVES])
def test_hostile_archives_through_the_loaders_and_the_preview(
    city: sa.Engine, tmp_path: Path, label: str, make, says: str | None
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    upload = tmp_path / "upload"
    upload.mkdir()
    archive = make(upload, _shapefile_parts(source))
    before = snapshot(city)
    preview = preview_file(archive, kind="parcels", storage_epsg=4549)
    assert snapshot(city) == before  # a preview never writes
    TALLY["数据 preview_file (zip)"]["refused" if preview.error else "accepted"] += 1
    for name, load, kwargs in (
        ("load_parcels (zip)", load_parcels, {}),
        ("load_blocklines (zip)", load_blocklines, {"level": 2}),
    ):
        outcome = attempt(name, city, load, city, archive, user="test", **kwargs)
        if says is None:
            assert not outcome.refused, outcome.error
            continue
        assert outcome.refused and says in str(outcome.error), outcome.error
        assert outcome.error.file and outcome.error.fix_en
    if says is None:
        assert preview.ok and preview.features == 1 and preview.head["权利人"].tolist() == [HOLDER]
    else:
        assert preview.error is not None and says in preview.error["message_en"] + str(
            preview.error["problems"]
        )
        assert preview.error["fix_en"]
    # nothing escaped the temporary folder the archive is opened in
    assert not any(p.name.startswith("宗地.") for p in tmp_path.parent.iterdir())
    assert sorted(p.name for p in upload.iterdir() if p.name != "inner.zip" and p.name != "i.zip") == [
        "宗地.zip"
    ]


def test_a_zipped_ratings_table_with_a_traversal_name_is_refused(city: sa.Engine, tmp_path: Path) -> None:
    archive = _zip(tmp_path / "评价.zip", {"../评价.csv": "宗地编号,年度,等级\nP-1,2023,A\n".encode()})
    outcome = attempt("load_ratings (zip)", city, load_ratings, city, archive, user="test")
    assert outcome.refused and "unsafe path" in str(outcome.error)
    assert not (tmp_path.parent / "评价.csv").exists()
