"""Telling the text encoding of planners' files: GBK shapefiles without ``.cpg``, GBK CSVs, UTF-8 with BOM.

The order is the one Chinese offices' files need: an explicit ``--encoding``; the ``.cpg`` file; strict
UTF-8 (pure ASCII is UTF-8 too); GB18030 (a superset of GBK and GB2312); a statistical guess last.

Examples
--------
>>> detect_bytes_encoding("宗地编号".encode("gbk"))
('GB18030', 'strict GB18030 decode')
>>> detect_bytes_encoding("宗地编号".encode("utf-8"))
('UTF-8', 'strict UTF-8 decode')
>>> normalise_encoding_name("936")
'GB18030'
"""

from __future__ import annotations

import codecs
import struct
from pathlib import Path

from geo.errors import InputError
from geo.fixes import fix

__all__ = [
    "normalise_encoding_name",
    "detect_bytes_encoding",
    "detect_dbf_encoding",
    "detect_text_file_encoding",
    "repair_truncated_utf8_names",
]

_CPG_ALIASES = {
    "65001": "UTF-8",
    "UTF8": "UTF-8",
    "UTF-8": "UTF-8",
    # GB18030 decodes everything GBK and GB2312 do, so one name serves all three.
    "936": "GB18030",
    "CP936": "GB18030",
    "GBK": "GB18030",
    "GB2312": "GB18030",
    "GB18030": "GB18030",
    "ANSI 936": "GB18030",
    "MS936": "GB18030",
    "950": "BIG5",
    "BIG5": "BIG5",
    "1252": "CP1252",
    "ANSI 1252": "CP1252",
    "ISO-8859-1": "ISO-8859-1",
    "LATIN1": "ISO-8859-1",
}


def normalise_encoding_name(name: str) -> str:
    """Map the names found in ``.cpg`` files and on command lines to one Python/GDAL codec name."""
    key = name.strip().upper().replace("_", "-")
    if key in _CPG_ALIASES:
        return _CPG_ALIASES[key]
    try:
        codecs.lookup(key)
    except LookupError as exc:
        raise InputError(
            f"不认识的字符编码“{name}”",
            f"unknown text encoding '{name}'",
            fix_zh="使用 UTF-8、GBK 或 GB18030",
            fix_en="use UTF-8, GBK or GB18030",
        ) from exc
    return key


def detect_bytes_encoding(data: bytes, *, file: str | None = None) -> tuple[str, str]:
    """The encoding of ``data`` and how it was told; raises when none fits.

    No statistical guess: bytes that are neither UTF-8 nor GB18030 decoded by a guessed codec come out as
    mojibake that looks like text (and is stored as such when the headers are ASCII), so the user is asked.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "UTF-8-SIG", "UTF-8 byte-order mark"
    try:
        data.decode("utf-8")
        return "UTF-8", "strict UTF-8 decode"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "GB18030", "strict GB18030 decode"
    except UnicodeDecodeError:
        pass
    raise InputError(
        "无法判断文件的字符编码（既不是 UTF-8 也不是 GBK/GB18030）",
        "cannot tell the file's text encoding (it is neither UTF-8 nor GBK/GB18030)",
        file=file,
        **fix("encoding"),
    )


def _find_sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in path.parent.glob(path.stem + ".*"):
        if candidate.suffix.lower() == suffix:
            return candidate
    return None


def detect_dbf_encoding(shp: Path) -> tuple[str, str]:
    """The encoding of a shapefile's attributes: ``.cpg`` first, then the bytes of the ``.dbf``.

    Only the header's field names and the records' bytes are read, never decoded with a guess that could
    silently produce mojibake: a ``.cpg`` that contradicts the bytes is reported, not trusted.
    """
    cpg = _find_sidecar(shp, ".cpg")
    dbf = _find_sidecar(shp, ".dbf")
    if dbf is None:
        raise InputError(
            "Shapefile 缺少 .dbf 属性文件",
            "the shapefile has no .dbf attribute file",
            file=str(shp),
            fix_zh="把同名的 .dbf 文件放在同一目录（或一起打包成 zip）",
            fix_en="put the .dbf of the same name beside it (or zip them together)",
        )
    data = _dbf_text_bytes(dbf)
    utf8_trimmed = _dbf_text_bytes(dbf, trim_utf8_names=True)
    if cpg is not None:
        declared = normalise_encoding_name(cpg.read_text(encoding="ascii", errors="replace"))
        try:
            (utf8_trimmed if declared.startswith("UTF-8") else data).decode(declared.replace("-SIG", ""))
            return declared, f".cpg file ({cpg.name})"
        except UnicodeDecodeError:
            found, how = detect_bytes_encoding(data, file=shp.name)
            return found, f"{how}; the .cpg says {declared}, which does not decode the attributes"
    try:
        utf8_trimmed.decode("utf-8")
        return "UTF-8", "strict UTF-8 decode"
    except UnicodeDecodeError:
        return detect_bytes_encoding(data, file=shp.name)


def _dbf_header(dbf: Path) -> tuple[bytes, int, list[tuple[int, bytes]], bytes]:
    """The raw file, its header length, the field names (offset, bytes) and the records' bytes."""
    raw = dbf.read_bytes()
    if len(raw) < 32:
        raise InputError(
            "属性文件 .dbf 已损坏（过短）",
            "the .dbf file is truncated",
            file=dbf.name,
            fix_zh="重新导出该图层",
            fix_en="export the layer again",
        )
    n_records, header_len, record_len = struct.unpack("<IHH", raw[4:12])
    if header_len > len(raw) or header_len < 33:  # a header longer than the file, or with no field: damaged
        raise InputError(
            "属性文件 .dbf 已损坏（文件头与文件长度不符）",
            "the .dbf file is damaged (its header does not fit the file)",
            file=dbf.name,
            fix_zh="重新导出该图层",
            fix_en="export the layer again",
        )
    names = []
    for pos in range(32, max(32, header_len - 1), 32):
        if raw[pos] == 0x0D:  # end of the field descriptors
            break
        names.append((pos, raw[pos : pos + 11].split(b"\x00")[0]))
    return raw, header_len, names, raw[header_len : header_len + n_records * record_len]


def _trim_incomplete_utf8(name: bytes) -> bytes:
    """A field name cut inside a multi-byte UTF-8 character (the 10-byte limit) without the broken tail."""
    for cut in range(0, 4):
        candidate = name[: len(name) - cut] if cut else name
        try:
            candidate.decode("utf-8")
            return candidate
        except UnicodeDecodeError:
            continue
    return name


def _dbf_text_bytes(dbf: Path, *, trim_utf8_names: bool = False) -> bytes:
    """The bytes of a dBase file's field names and records (everything a codec will see)."""
    _, _, names, records = _dbf_header(dbf)
    if trim_utf8_names:
        names = [(pos, _trim_incomplete_utf8(n)) for pos, n in names]
    return b" ".join(n for _, n in names) + b" " + records


def repair_truncated_utf8_names(shp: Path, dest: Path) -> Path | None:
    """A copy of the shapefile in ``dest`` whose UTF-8 field names cut mid-character are mended, or None.

    The shapefile format allows 10 bytes per field name: ``宗地编号`` (12 bytes in UTF-8) is cut to 9½
    characters by many writers, which GDAL then cannot decode at all. Dropping the broken tail makes the
    file readable (``宗地编``), and the header aliases recognise the shortened name.
    """
    dbf = _find_sidecar(shp, ".dbf")
    if dbf is None:
        return None
    raw, _, names, _ = _dbf_header(dbf)
    broken = [(pos, n) for pos, n in names if _trim_incomplete_utf8(n) != n]
    if not broken:
        return None
    patched = bytearray(raw)
    for pos, n in broken:
        fixed = _trim_incomplete_utf8(n)
        patched[pos : pos + 11] = fixed + b"\x00" * (11 - len(fixed))
    for sidecar in shp.parent.glob(shp.stem + ".*"):
        target = dest / sidecar.name
        if sidecar == dbf:
            target.write_bytes(bytes(patched))
        else:
            target.write_bytes(sidecar.read_bytes())
    return dest / shp.name


def detect_text_file_encoding(path: Path) -> tuple[str, str]:
    """The encoding of a CSV or other text file."""
    return detect_bytes_encoding(path.read_bytes(), file=path.name)
