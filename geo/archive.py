"""Opening zipped uploads safely: checked before a byte is extracted, and counted while extracting.

Examples
--------
>>> limits = ArchiveLimits()
>>> limits.max_entries
2000
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo.errors import InputError

__all__ = ["ArchiveLimits", "safe_extract", "find_dataset", "VECTOR_SUFFIXES"]

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".csv", ".gdb", ".fgb", ".xlsx")
_NESTED = (".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".zst")


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zipped upload may hold."""

    max_entries: int = 2000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 100.0  # uncompressed / compressed, per entry and overall ...
    ratio_floor_bytes: int = (
        16 * 1024**2
    )  # ... for entries (and archives) larger than this; small files compress well


def _fail(file: Path, zh: str, en: str) -> InputError:
    return InputError(
        zh,
        en,
        file=str(file.name),
        fix_zh="检查压缩包内容，只打包所需的矢量文件后重新上传",
        fix_en="check the archive; zip only the vector files needed and upload it again",
    )


def _entry_name(info: zipfile.ZipInfo) -> str:
    # Zips made on Chinese Windows store names in GBK without the UTF-8 flag; Python reads them as CP437.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    # macOS writes UTF-8 names without the flag; Chinese Windows writes GBK. Strict UTF-8 first: GBK bytes
    # almost never decode as UTF-8.
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return info.filename


def safe_extract(archive: Path, dest: Path, *, limits: ArchiveLimits = ArchiveLimits()) -> list[Path]:
    """Check a zip archive against ``limits`` and extract it into ``dest``; return the files written.

    Refused: not a zip, too many entries, too large in total, a suspicious compression ratio (zip bomb),
    nested archives, absolute paths or ``..`` (path traversal), symbolic links, encrypted entries.
    """
    if not zipfile.is_zipfile(archive):
        raise _fail(
            archive, "不是有效的 zip 压缩包（可能已损坏）", "not a valid zip archive (perhaps corrupted)"
        )
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise _fail(archive, f"压缩包已损坏：{exc}", f"the archive is corrupted: {exc}") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        _check_totals(archive, infos, limits)
        names = [(info, _checked_path(archive, info, limits)) for info in infos]
        written: list[Path] = []
        budget = limits.max_total_bytes
        for info, path in names:
            target = dest.joinpath(*path.parts)
            budget = _write_entry(zf, info, target, archive=archive, path=path, budget=budget)
            written.append(target)
    return written


def _check_totals(archive: Path, infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Refuse too many entries, too many bytes once extracted, or a suspicious ratio over the whole archive."""
    if len(infos) > limits.max_entries:
        raise _fail(
            archive,
            f"压缩包内文件过多（{len(infos)} 个，上限 {limits.max_entries}）",
            f"too many entries ({len(infos)}, the limit is {limits.max_entries})",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise _fail(archive, f"解压后过大（{total} 字节）", f"too large once extracted ({total} bytes)")
    packed = sum(i.compress_size for i in infos) or 1
    if total > limits.ratio_floor_bytes and total / packed > limits.max_ratio:
        raise _fail(
            archive,
            f"压缩比异常（{total / packed:.0f} 倍），疑似压缩炸弹",
            f"suspicious compression ratio ({total / packed:.0f}x): possibly a zip bomb",
        )


def _checked_path(archive: Path, info: zipfile.ZipInfo, limits: ArchiveLimits) -> PurePosixPath:
    """The entry's path in the archive, refused when unsafe, a nested archive, a link, encrypted or a bomb."""
    name = _entry_name(info)
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise _fail(archive, f"压缩包内路径不安全：{name}", f"unsafe path in the archive: {name}")
    if path.suffix.lower() in _NESTED:
        raise _fail(archive, f"压缩包内含有嵌套压缩包：{name}", f"nested archive inside the archive: {name}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _fail(archive, f"压缩包内含有符号链接：{name}", f"symbolic link inside the archive: {name}")
    if info.flag_bits & 0x1:
        raise _fail(archive, f"压缩包内文件已加密：{name}", f"encrypted entry: {name}")
    if (
        info.file_size > limits.ratio_floor_bytes
        and info.compress_size
        and info.file_size / info.compress_size > limits.max_ratio
    ):
        raise _fail(
            archive,
            f"文件 {name} 压缩比异常，疑似压缩炸弹",
            f"entry {name} has a suspicious compression ratio: possibly a zip bomb",
        )
    return path


def _write_entry(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    *,
    archive: Path,
    path: PurePosixPath,
    budget: int,
) -> int:
    """Write one entry to ``target``, refusing more bytes than declared or than ``budget``; the budget left."""
    declared = info.file_size
    count = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("wb") as out:
            while chunk := src.read(1 << 20):
                count += len(chunk)
                budget -= len(chunk)
                # A lying header (more data than declared) is a bomb too.
                if count > declared or budget < 0:
                    raise _fail(
                        archive,
                        f"文件 {path} 的实际大小超过声明",
                        f"entry {path} is larger than declared",
                    )
                out.write(chunk)
    except (
        zipfile.BadZipFile,
        EOFError,
        zlib.error,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        # NotImplementedError: an unknown compression method or strong encryption (flag bit 6);
        # ValueError: e.g. a local header whose name, flagged UTF-8, is not
        raise _fail(archive, f"压缩包已损坏：{exc}", f"the archive is corrupted: {exc}") from exc
    return budget


def find_dataset(folder: Path, *, file: str) -> Path:
    """The one vector dataset in an extracted archive (a ``.gdb`` folder counts as one)."""
    found: list[Path] = []
    for p in sorted(folder.rglob("*")):
        if any(part.startswith("__MACOSX") for part in p.parts):
            continue
        if (
            p.is_dir()
            and p.suffix.lower() == ".gdb"
            or p.is_file()
            and p.suffix.lower() in VECTOR_SUFFIXES
            and not any(parent.suffix.lower() == ".gdb" for parent in p.parents)
        ):
            found.append(p)
    if not found:
        raise InputError(
            "压缩包内没有可识别的矢量数据（.shp/.gpkg/.geojson/.kml/.gdb/.csv）",
            "no vector dataset (.shp/.gpkg/.geojson/.kml/.gdb/.csv) in the archive",
            file=file,
            fix_zh="把矢量数据文件打包后重新上传",
            fix_en="zip the vector dataset and upload it again",
        )
    if len(found) > 1:
        listed = ", ".join(p.relative_to(folder).as_posix() for p in found[:10])
        raise InputError(
            f"压缩包内有多个数据集：{listed}",
            f"the archive holds several datasets: {listed}",
            file=file,
            fix_zh="每个压缩包只放一个数据集",
            fix_en="put one dataset per archive",
        )
    return found[0]
