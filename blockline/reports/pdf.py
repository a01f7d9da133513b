"""A document's PDF file (fpdf2, no office suite): the copy for the archive."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from fpdf import FPDF

from geo.paper_map import cjk_font_path

if TYPE_CHECKING:
    from blockline.reports.document import Document, Table

__all__ = ["pdf_bytes"]


def pdf_bytes(doc: Document) -> bytes:
    """``doc`` as the bytes of a PDF file, in the CJK font of ``geo.paper_map.cjk_font_path``."""
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
        if (
            s.image is not None
            and pdf.get_y() + 12 + pdf.epw * _aspect(s.image) + _caption_mm(pdf, s.caption)
            > pdf.page_break_trigger
        ):
            pdf.add_page()  # the map's heading and caption (its key, if any) go with the map
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


def _caption_mm(pdf: FPDF, caption: str) -> float:
    """The height a caption takes under a map, at 9 pt: 5.5 mm a line, as it will wrap."""
    if not caption:
        return 0.0
    size = pdf.font_size_pt
    pdf.set_font("cjk", size=9)
    lines = pdf.multi_cell(0, 5.5, caption, dry_run=True, output="LINES")
    pdf.set_font("cjk", size=size)
    return 5.5 * len(lines) if isinstance(lines, list) else 5.5


def _aspect(png: bytes) -> float:
    """A PNG's height over its width, from its header."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return height / width if width else 1.0


def _pdf_table(pdf: FPDF, table: Table) -> None:
    pdf.set_font("cjk", size=8.5)
    with pdf.table(line_height=5, text_align="LEFT", first_row_as_headings=False) as t:
        for row in (table.header, *table.rows):
            cells = t.row()
            for text in row:
                cells.cell(text)
    pdf.set_font("cjk", size=10.5)
