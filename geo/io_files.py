"""Opening planners' files: the one dataset inside a zip, and the refusal of what cannot be read.

What every reader of ``geo.io`` goes through before it looks at a layer or a table.
"""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from geo.archive import find_dataset, safe_extract
from geo.errors import InputError, Problem, ValidationError

__all__ = ["broken_workbook", "opened", "refuse_nul", "unreadable"]

#: what reading a damaged workbook raises (an XLSX is a zip of XML parts): refused as unreadable
_BROKEN_ZIP: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    EOFError,
    NotImplementedError,
    TypeError,
    ElementTree.ParseError,
)


def broken_workbook() -> tuple[type[BaseException], ...]:
    """What reading a damaged workbook raises, openpyxl's own error included.

    Called in an ``except`` clause, which Python evaluates only once something was raised: openpyxl is then
    imported only when reading failed, not by every command that reads a file.
    """
    # lazy: openpyxl's import is 0.1–0.3 s of every command that reads a file (balance check: 1.7 s at 200k)
    from openpyxl.utils.exceptions import InvalidFileException

    return (*_BROKEN_ZIP, InvalidFileException)


@contextmanager
def opened(path: Path | str, *, display_name: str | None = None) -> Iterator[Path]:
    """The dataset to read: ``path`` itself, or the one dataset inside a zip (checked, then extracted)."""
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise InputError(
            "文件不存在",
            "the file does not exist",
            file=str(path),
            fix_zh="检查路径与文件名",
            fix_en="check the path and the file name",
        )
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="blockline-") as tmp:
            safe_extract(path, Path(tmp))
            yield find_dataset(Path(tmp), file=name)
        return
    yield path


def unreadable(file: str, exc: BaseException) -> InputError:
    """The file cannot be read: the reader's own words quoted, with what to do about it."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    # the reader's own words are quoted as they are (a code span), not translated
    return InputError(
        f"无法读取该文件（可能已损坏或格式不受支持）。读取程序的原文：`{msg}`",
        f"cannot read the file (corrupted or unsupported format): {msg}",
        file=file,
        fix_zh="用桌面 GIS 打开检查，重新导出为 GeoPackage 或 Shapefile",
        fix_en="open it in a desktop GIS to check, and export it again as GeoPackage or Shapefile",
    )


def refuse_nul(frame: pd.DataFrame, *, file: str, first_row: int) -> None:
    """Refuse NUL characters in a CSV's headers or cells: PostgreSQL text cannot hold them (GDAL formats cut them).

    ``first_row`` is the row number of the frame's first row in the problems (2 when the header is row 1).
    """

    def shown(text: object) -> str:
        return str(text).replace("\x00", "\\0")

    problems = [
        Problem(
            None,
            None,
            f"字段名“{shown(c)}”含有空字符（NUL）",
            f"the header '{shown(c)}' holds a NUL character",
        )
        for c in frame.columns
        if "\x00" in str(c)
    ]
    for c in frame.columns:
        if not (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])):
            continue
        hit = frame[c].astype(str).str.contains("\x00", regex=False).to_numpy(dtype=bool)
        problems += [
            Problem(
                int(pos) + first_row,
                None,
                f"字段“{shown(c)}”的值含有空字符（NUL）",
                f"the value of '{shown(c)}' holds a NUL character",
            )
            for pos in np.flatnonzero(hit)
        ]
    if problems:
        raise ValidationError(problems, file=file)
