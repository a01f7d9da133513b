"""A document's Word file (python-docx): the copy planners edit in WPS or Office before signing."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

if TYPE_CHECKING:
    from blockline.reports.document import Document

__all__ = ["docx_bytes"]


def docx_bytes(doc: Document) -> bytes:
    """``doc`` as the bytes of a Word file (.docx), in 宋体."""
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
