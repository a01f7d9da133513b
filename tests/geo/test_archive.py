"""Zipped uploads (``geo.archive``): checked before a byte is written, and nothing escapes the destination.

Every archive here is built byte for byte in the test, including the hostile ones (path traversal,
symbolic links, bombs, lying headers, GBK names without the UTF-8 flag).
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest

from geo.archive import ArchiveLimits, find_dataset, safe_extract
from geo.errors import InputError
from geo.io import opened, read_vector
from tests.files import WENZHOU_X0, WENZHOU_Y0, square, write_shapefile

HOLDERS = ["温州宏达机械有限公司", "乐清市镕盛电气有限公司"]
MiB = 1024 * 1024


def parcels(n: int = 2) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"宗地编号": [f"WZ-{i + 1:03d}" for i in range(n)], "权利人": [HOLDERS[i % 2] for i in range(n)]},
        geometry=[square(WENZHOU_X0 + 200 * i, WENZHOU_Y0) for i in range(n)],
        crs="EPSG:4549",
    )


def shapefile(
    folder: Path, stem: str = "宗地", n: int = 2, blank_columns: tuple[str, ...] = ()
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    gdf = parcels(n)
    for column in blank_columns:
        gdf[column] = ""
    write_shapefile(gdf, folder / f"{stem}.shp", encoding="GBK")
    return sorted(folder.glob(f"{stem}.*"))


def zip_of(path: Path, entries: dict[str, bytes | Path], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(
                zipfile.ZipInfo(name),
                data.read_bytes() if isinstance(data, Path) else data,
                compress_type=method,
            )
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    d = tmp_path / "out" / "dest"
    d.mkdir(parents=True)
    return d


# --- the ordinary case --------------------------------------------------------------------------------------


def test_zipped_shapefile_extracts_and_the_shp_is_found(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src")
    archive = zip_of(tmp_path / "p.zip", {f.name: f for f in files})
    written = safe_extract(archive, dest)
    assert sorted(p.name for p in written) == ["宗地.cpg", "宗地.dbf", "宗地.prj", "宗地.shp", "宗地.shx"]
    for f in files:
        assert (dest / f.name).read_bytes() == f.read_bytes()
    assert find_dataset(dest, file="p.zip") == dest / "宗地.shp"


def test_shapefile_in_a_subfolder_with_arcgis_sidecars_is_found(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src")
    entries: dict[str, bytes | Path] = {f"2024年/宗地/{f.name}": f for f in files}
    entries |= {
        "2024年/宗地/宗地.shp.xml": b"<metadata/>",
        "2024年/宗地/宗地.sbn": b"\0" * 10,
        "2024年/宗地/宗地.sbx": b"\0" * 10,
        "__MACOSX/2024年/宗地/._宗地.shp": b"\0" * 10,
    }
    safe_extract(zip_of(tmp_path / "p.zip", entries), dest)
    assert find_dataset(dest, file="p.zip") == dest / "2024年" / "宗地" / "宗地.shp"


def test_opened_yields_the_dataset_and_cleans_up(tmp_path: Path) -> None:
    files = shapefile(tmp_path / "src")
    archive = zip_of(tmp_path / "p.zip", {f.name: f for f in files})
    with opened(archive) as dataset:
        assert dataset.name == "宗地.shp"
        assert dataset.is_file()
        inside = dataset.parent
    assert not inside.exists()


def test_gdb_folder_counts_as_one_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    parcels().to_file(folder / "宗地.gdb", driver="OpenFileGDB", engine="pyogrio")
    assert find_dataset(folder, file="x.zip") == folder / "宗地.gdb"


def test_zipped_filegdb_is_not_mistaken_for_a_bomb(tmp_path: Path, dest: Path) -> None:
    # A FileGDB's .gdbtablx index files are 4 KiB, nearly all zeros: they compress about 100–130 times.
    parcels().to_file(tmp_path / "宗地.gdb", driver="OpenFileGDB", engine="pyogrio")
    entries: dict[str, bytes | Path] = {
        f"宗地.gdb/{p.name}": p for p in sorted((tmp_path / "宗地.gdb").iterdir())
    }
    archive = zip_of(tmp_path / "gdb.zip", entries)
    safe_extract(archive, dest)
    assert find_dataset(dest, file="gdb.zip") == dest / "宗地.gdb"


def test_zipped_shapefile_with_a_padded_dbf_is_not_mistaken_for_a_bomb(tmp_path: Path, dest: Path) -> None:
    # 1000 parcels with six blank columns, as office exports have: a .dbf is fixed-width records padded
    # with spaces (GDAL: 80 characters a text field, here 1000 × 641 bytes) and compresses > 100×.
    # Files with 254-character text fields compress better still. Harmless: well under a megabyte.
    blank = ("备注", "坐落", "批准文号", "土地级别", "四至", "联系人")
    files = shapefile(tmp_path / "src", n=1000, blank_columns=blank)
    archive = zip_of(tmp_path / "p.zip", {f.name: f for f in files})
    dbf = zipfile.ZipFile(archive).getinfo("宗地.dbf")
    assert dbf.file_size / dbf.compress_size > 100 and dbf.file_size < MiB  # the situation under test
    safe_extract(archive, dest)
    assert (dest / "宗地.dbf").stat().st_size == dbf.file_size


# --- bombs and limits ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """32 MiB of zeros, deflated to about 32 KiB: a ratio near 1000, ten times the default limit of 100."""
    archive = zip_of(tmp_path_factory.mktemp("bomb") / "bomb.zip", {"宗地.shp": bytes(32 * MiB)})
    info = zipfile.ZipFile(archive).getinfo("宗地.shp")
    assert info.file_size / info.compress_size > 900
    return archive


def test_zip_bomb_by_ratio_is_refused_before_extraction(bomb: Path, dest: Path) -> None:
    with pytest.raises(InputError, match="zip bomb"):
        safe_extract(bomb, dest)
    assert listing(dest) == []


def test_ratio_limit_is_a_parameter(bomb: Path, dest: Path) -> None:
    safe_extract(bomb, dest, limits=ArchiveLimits(max_ratio=2000.0))
    assert (dest / "宗地.shp").stat().st_size == 32 * MiB


def test_one_bomb_entry_among_incompressible_ones_is_refused(tmp_path: Path, dest: Path) -> None:
    # Overall (32 + 32) MiB / (32 MiB + 32 KiB) ≈ 2: only the per-entry check can catch it.
    noise = tmp_path / "noise"
    noise.write_bytes(os.urandom(32 * MiB))
    with zipfile.ZipFile(tmp_path / "mixed.zip", "w") as zf:
        zf.write(noise, "宗地.dbf", compress_type=zipfile.ZIP_STORED)
        zf.writestr("宗地.shp", bytes(32 * MiB), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(InputError, match="entry 宗地.shp has a suspicious compression ratio"):
        safe_extract(tmp_path / "mixed.zip", dest)
    assert listing(dest) == []


def test_too_many_entries_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = zip_of(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(6)})
    with pytest.raises(InputError, match=r"too many entries \(6, the limit is 5\)"):
        safe_extract(archive, dest, limits=ArchiveLimits(max_entries=5))
    assert listing(dest) == []


def test_exactly_the_entry_limit_is_fine(tmp_path: Path, dest: Path) -> None:
    archive = zip_of(tmp_path / "five.zip", {f"f{i}.txt": b"x" for i in range(5)})
    assert len(safe_extract(archive, dest, limits=ArchiveLimits(max_entries=5))) == 5


def test_too_large_in_total_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = zip_of(tmp_path / "big.zip", {"a.bin": os.urandom(3000)}, method=zipfile.ZIP_STORED)
    with pytest.raises(InputError, match=r"too large once extracted \(3000 bytes\)"):
        safe_extract(archive, dest, limits=ArchiveLimits(max_total_bytes=2000))


def test_entry_whose_header_understates_its_size_is_refused(tmp_path: Path, dest: Path) -> None:
    # 1 MiB of zeros deflated to ~1 KiB, then both headers patched to declare the compressed size as the
    # uncompressed one: a ratio of 1 passes the checks, and only counting while extracting can tell.
    archive = zip_of(tmp_path / "liar.zip", {"宗地.shp": bytes(MiB)})
    raw = bytearray(archive.read_bytes())
    declared = zipfile.ZipFile(archive).getinfo("宗地.shp").compress_size
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, declared)  # local header: uncompressed size
    struct.pack_into("<I", raw, central + 24, declared)  # central directory: uncompressed size
    archive.write_bytes(bytes(raw))
    assert zipfile.ZipFile(archive).getinfo("宗地.shp").file_size == declared
    with pytest.raises(InputError, match=r"larger than declared|corrupted"):
        safe_extract(archive, dest)
    written = dest / "宗地.shp"
    assert not written.exists() or written.stat().st_size <= declared


# --- hostile entries ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.shp", "a/../../evil.shp", "..\\evil.shp", "a\\..\\..\\evil.shp"])
def test_path_traversal_is_refused_and_nothing_is_written_outside(
    tmp_path: Path, dest: Path, name: str
) -> None:
    archive = zip_of(tmp_path / "evil.zip", {"ok.shp": b"fine", name: b"evil"})
    with pytest.raises(InputError, match="unsafe path in the archive"):
        safe_extract(archive, dest)
    assert listing(dest) == []
    assert listing(dest.parent) == ["dest"]


@pytest.mark.parametrize("name", ["/tmp/evil.shp", "C:/evil.shp", "C:\\evil.shp", "c:evil.shp"])
def test_absolute_path_is_refused(tmp_path: Path, dest: Path, name: str) -> None:
    archive = zip_of(tmp_path / "abs.zip", {name: b"evil"})
    with pytest.raises(InputError, match="unsafe path in the archive"):
        safe_extract(archive, dest)
    assert listing(dest) == []


def test_symlink_entry_is_refused(tmp_path: Path, dest: Path) -> None:
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        info = zipfile.ZipInfo("宗地.shp")
        info.create_system = 3  # Unix
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match="symbolic link inside the archive: 宗地.shp"):
        safe_extract(tmp_path / "link.zip", dest)
    assert listing(dest) == []


@pytest.mark.parametrize("inner", ["data.zip", "data.7z", "data.rar", "data.tar.gz", "DATA.ZIP"])
def test_nested_archive_is_refused(tmp_path: Path, dest: Path, inner: str) -> None:
    archive = zip_of(tmp_path / "outer.zip", {"宗地.shp": b"x", inner: b"PK\x03\x04"})
    with pytest.raises(InputError, match=f"nested archive inside the archive: {inner}"):
        safe_extract(archive, dest)


def test_encrypted_entry_is_refused(tmp_path: Path, dest: Path) -> None:
    # The standard library cannot encrypt; set the "encrypted" flag bit in both headers by hand.
    archive = zip_of(tmp_path / "enc.zip", {"宗地.shp": b"x"}, method=zipfile.ZIP_STORED)
    raw = bytearray(archive.read_bytes())
    raw[raw.find(b"PK\x03\x04") + 6] |= 0x1
    raw[raw.find(b"PK\x01\x02") + 8] |= 0x1
    archive.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="encrypted entry"):
        safe_extract(archive, dest)


def test_non_zip_named_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    (tmp_path / "宗地.zip").write_bytes(b"Rar!\x1a\x07\x00 this is not a zip")
    with pytest.raises(InputError, match="not a valid zip archive"):
        safe_extract(tmp_path / "宗地.zip", dest)
    with pytest.raises(InputError, match="not a valid zip archive"):
        read_vector(tmp_path / "宗地.zip", storage_epsg=4549)


def test_truncated_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src")
    raw = zip_of(tmp_path / "p.zip", {f.name: f for f in files}).read_bytes()
    (tmp_path / "cut.zip").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="zip"):
        safe_extract(tmp_path / "cut.zip", dest)


def test_a_file_and_a_folder_of_the_same_name_are_refused_not_a_crash(tmp_path: Path, dest: Path) -> None:
    archive = zip_of(tmp_path / "clash.zip", {"宗地": b"x", "宗地/宗地.shp": b"y"})
    with pytest.raises(InputError):
        safe_extract(archive, dest)


# --- what is inside -----------------------------------------------------------------------------------------


def test_two_datasets_are_refused_naming_both(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src")
    parcels().to_file(tmp_path / "瓯海区.gpkg", engine="pyogrio")
    entries: dict[str, bytes | Path] = {f.name: f for f in files} | {"瓯海区.gpkg": tmp_path / "瓯海区.gpkg"}
    archive = zip_of(tmp_path / "two.zip", entries)
    safe_extract(archive, dest)
    both = r"several datasets: (宗地\.shp, 瓯海区\.gpkg|瓯海区\.gpkg, 宗地\.shp)"
    with pytest.raises(InputError, match=both):
        find_dataset(dest, file="two.zip")
    with pytest.raises(InputError, match="several datasets"):
        read_vector(archive, storage_epsg=4549)


def test_no_dataset_is_refused(tmp_path: Path, dest: Path) -> None:
    safe_extract(zip_of(tmp_path / "doc.zip", {"说明.txt": b"readme", "说明.docx": b"x"}), dest)
    with pytest.raises(InputError, match="no vector dataset"):
        find_dataset(dest, file="doc.zip")


def _zip_with_raw_names(path: Path, entries: dict[bytes, bytes]) -> Path:
    """A zip whose entry names are the given bytes, with no UTF-8 flag (as zips made on Chinese Windows).

    zipfile always writes non-ASCII names as UTF-8 with the flag, so the entries are written under ASCII
    placeholders of the same length and the bytes are swapped in afterwards (in the local headers and the
    central directory; CRCs cover the data, not the names).
    """
    placeholders = {
        raw: (f"~{i:02d}" + "Q" * len(raw))[: len(raw)].encode("ascii") for i, raw in enumerate(entries)
    }
    assert all(len(p) == len(r) and len(r) >= 4 for r, p in placeholders.items())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for raw, data in entries.items():
            zf.writestr(placeholders[raw].decode("ascii"), data)
    blob = path.read_bytes()
    for raw, ph in placeholders.items():
        assert blob.count(ph) == 2
        blob = blob.replace(ph, raw)
    path.write_bytes(blob)
    for info in zipfile.ZipFile(path).infolist():
        assert not info.flag_bits & 0x800
    return path


def test_gbk_entry_names_extract_with_correct_chinese_names(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src", stem="p")
    stem = "鹿城区工业用地"
    archive = _zip_with_raw_names(
        tmp_path / "gbk.zip", {f"{stem}{f.suffix}".encode("gbk"): f.read_bytes() for f in files}
    )
    written = safe_extract(archive, dest)
    assert sorted(p.name for p in written) == sorted(f"{stem}{f.suffix}" for f in files)
    assert find_dataset(dest, file="gbk.zip") == dest / f"{stem}.shp"
    gdf, report = read_vector(archive, storage_epsg=4549)
    assert report.dataset == f"{stem}.shp"
    assert gdf["权利人"].tolist() == HOLDERS


def test_utf8_entry_names_without_the_flag_extract_with_correct_chinese_names(
    tmp_path: Path, dest: Path
) -> None:
    # macOS Archive Utility and some Linux zip builds write UTF-8 names without setting the flag.
    files = shapefile(tmp_path / "src", stem="p")
    stem = "宗地"
    archive = _zip_with_raw_names(
        tmp_path / "mac.zip", {f"{stem}{f.suffix}".encode(): f.read_bytes() for f in files}
    )
    written = safe_extract(archive, dest)
    assert sorted(p.name for p in written) == sorted(f"{stem}{f.suffix}" for f in files)


def test_utf8_flagged_names_extract_as_they_are(tmp_path: Path, dest: Path) -> None:
    files = shapefile(tmp_path / "src")
    archive = zip_of(tmp_path / "u.zip", {f"温州/{f.name}": f for f in files})
    assert all(i.flag_bits & 0x800 for i in zipfile.ZipFile(archive).infolist())
    safe_extract(archive, dest)
    assert listing(dest) == ["温州"] + [f"温州/{f.name}" for f in files]
