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
import io
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
        return _docx(doc)
    if fmt == "pdf":
        return _pdf(doc)
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


# -- Word ---------------------------------------------------------------------------------------------------
def _docx(doc: Document) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    d = docx.Document()
    normal = d.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    for line in doc.cover.lines():
        d.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(doc.title)
    run.bold, run.font.size = True, Pt(18)
    if doc.addressee:
        d.add_paragraph(doc.addressee)
    for s in doc.sections:
        head = d.add_paragraph()
        head.add_run(s.heading).bold = True
        for text in s.paragraphs:
            d.add_paragraph(text)
        if s.table is not None:
            table = d.add_table(rows=1, cols=len(s.table.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, s.table.header, strict=True):
                cell.text = text
            for row in s.table.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
        if s.image is not None:
            d.add_picture(io.BytesIO(s.image), width=Mm(160))
        if s.caption:
            d.add_paragraph(s.caption).alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# -- PDF ----------------------------------------------------------------------------------------------------
def _pdf(doc: Document) -> bytes:
    from fpdf import FPDF

    from geo.paper_map import cjk_font_path

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(22, 20, 22)
    pdf.add_font("cjk", fname=str(cjk_font_path()))
    pdf.add_page()
    pdf.set_font("cjk", size=10.5)
    for line in doc.cover.lines():
        pdf.cell(0, 6, line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 10, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    if doc.addressee:
        pdf.multi_cell(0, 7, doc.addressee, align="L", new_x="LMARGIN", new_y="NEXT")
    for s in doc.sections:
        pdf.ln(2)
        if s.image is not None and pdf.get_y() + 12 + pdf.epw * _aspect(s.image) > pdf.page_break_trigger:
            pdf.add_page()  # the map's heading goes with the map
        pdf.set_font("cjk", size=12.5)
        pdf.multi_cell(0, 8, s.heading, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10.5)
        for text in s.paragraphs:
            pdf.multi_cell(0, 6.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        if s.table is not None:
            _pdf_table(pdf, s.table)
        if s.image is not None:
            pdf.image(io.BytesIO(s.image), w=pdf.epw)
        if s.caption:
            pdf.set_font("cjk", size=9)
            pdf.multi_cell(0, 5.5, s.caption, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("cjk", size=10.5)
    return bytes(pdf.output())


def _aspect(png: bytes) -> float:
    """A PNG's height over its width, from its header."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return height / width if width else 1.0


def _pdf_table(pdf: object, table: Table) -> None:
    pdf.set_font("cjk", size=8.5)  # type: ignore[attr-defined]
    with pdf.table(line_height=5, text_align="LEFT", first_row_as_headings=False) as t:  # type: ignore[attr-defined]
        for row in (table.header, *table.rows):
            cells = t.row()
            for text in row:
                cells.cell(text)
    pdf.set_font("cjk", size=10.5)  # type: ignore[attr-defined]
