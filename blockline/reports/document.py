"""A document planners file, as data (cover, sections of prose, tables and a map), and its Word and PDF files.

Word (.docx, python-docx) is the copy planners edit in WPS or Office before signing; PDF (fpdf2, with the
CJK font of ``geo.paper_map.cjk_font_path``, no office suite) is the copy for the archive. Both are written
whole or not at all: to a temporary file beside the target, then renamed.

Examples
--------
>>> import datetime as dt
>>> doc = Document("示例", Cover("XX市自然资源和规划局", dt.date(2026, 11, 22), "张三"),
...                (Section("一、情况", ("正文。",)),))
>>> doc.text().splitlines()[:3]
['示例', 'XX市自然资源和规划局', '〔    〕    号']
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import InputError

__all__ = [
    "DOC_NO_PLACEHOLDER",
    "FORMATS",
    "Cover",
    "Document",
    "Section",
    "Table",
    "document_bytes",
    "format_of",
    "write_document",
]

DOC_NO_PLACEHOLDER = "〔    〕    号"
#: file suffix → MIME type
FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Cover:
    """The cover block: the issuing 机关, the date, who prepared it, and the 文号 (a placeholder by default)."""

    authority: str
    date: dt.date
    prepared_by: str
    doc_no: str = DOC_NO_PLACEHOLDER

    def lines(self) -> list[str]:
        """The cover's lines, as printed."""
        return [self.authority, self.doc_no, f"日期：{self.date.isoformat()}", f"经办人：{self.prepared_by}"]


@dataclass(frozen=True)
class Table:
    """A table: a header row and rows of text."""

    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Section:
    """A heading with its paragraphs, an optional table and an optional map (PNG)."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    image: bytes | None = field(default=None, repr=False)
    caption: str = ""


@dataclass(frozen=True)
class Document:
    """A document: its title, its cover block, its sections, and to whom it is addressed (if anyone)."""

    title: str
    cover: Cover
    sections: tuple[Section, ...]
    addressee: str = ""

    def text(self) -> str:
        """The document's text, line by line (what a reader of either file sees, without the map)."""
        lines = [self.title, *self.cover.lines()]
        if self.addressee:
            lines.append(self.addressee)
        for s in self.sections:
            lines.append(s.heading)
            lines.extend(s.paragraphs)
            if s.table is not None:
                lines.append("\t".join(s.table.header))
                lines.extend("\t".join(r) for r in s.table.rows)
            if s.caption:
                lines.append(s.caption)
        return "\n".join(lines)


def format_of(path: Path) -> str:
    """``docx`` or ``pdf`` from the file's suffix; any other suffix is refused."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            f"文书只能写成 .docx 或 .pdf，而不是“{path.suffix or '（无后缀）'}”",
            f"a document is written as .docx or .pdf, not '{path.suffix or '(no suffix)'}'",
            file=str(path),
            fix_zh="输出文件名以 .docx 或 .pdf 结尾",
            fix_en="end the output name in .docx or .pdf",
        )
    return fmt


def document_bytes(doc: Document, fmt: str) -> bytes:
    """The document as a ``docx`` or ``pdf`` file's bytes."""
    if fmt == "docx":
        # lazy: python-docx takes 0.1 s to import (-X importtime), paid only for a Word file
        from blockline.reports.word import docx_bytes

        return docx_bytes(doc)
    if fmt == "pdf":
        # lazy: fpdf2 takes 0.6 s to import (-X importtime), paid only for a PDF
        from blockline.reports.pdf import pdf_bytes

        return pdf_bytes(doc)
    raise ValueError(f"unknown document format {fmt!r}")


def write_document(doc: Document, path: Path) -> Path:
    """Write ``doc`` to ``path`` (its suffix says the format), whole or not at all."""
    fmt = format_of(path)
    body = document_bytes(doc, fmt)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(
            "输出文件夹不存在",
            "the output folder does not exist",
            file=str(path),
            fix_zh="先建立文件夹，或换一个路径",
            fix_en="create the folder, or choose another path",
        )
    fd, tmp = tempfile.mkstemp(prefix=".blockline-", suffix=f".{fmt}", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file would be, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
