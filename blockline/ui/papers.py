"""The document buttons beside a page's result: a Word and a PDF download of the paper planners file.

A page calls ``paper_buttons`` with a function that builds the document (``blockline.reports.gather``); the file is made
only when a button is clicked. Without the CJK font the buttons give way to a sentence saying what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from blockline.reports.document import FORMATS, Cover, Document, document_bytes
from blockline.reports.gather import cover_for
from blockline.ui.data import acting_user
from blockline.ui.i18n import current_lang
from geo.errors import BlocklineError
from geo.paper_map import cjk_font_path

__all__ = ["LABELS", "paper_buttons", "page_cover"]

#: the buttons' words, by paper and language
LABELS = {
    "balance": {"zh": "占补平衡调整论证材料", "en": "Balance adjustment paper"},
    "zone": {"zh": "连片开发片区方案", "en": "Consolidation zone plan"},
    "idle_notice": {"zh": "闲置土地调查通知书", "en": "Idle-land investigation notice"},
    "idle_decision": {"zh": "闲置土地认定书", "en": "Idle-land decision"},
    "contract": {"zh": "履约核查函", "en": "Contract review letter"},
}
_KIND = {"docx": "Word", "pdf": "PDF"}


def page_cover() -> Cover:
    """The cover block for a document made on a page: the settings' authority, today, the signed-in user."""
    actor = acting_user()
    return cover_for(prepared_by=str(getattr(actor, "name", actor)))


def _bytes(build: Callable[[], Document], fmt: str) -> bytes:
    return document_bytes(build(), fmt)


def paper_buttons(paper: str, build: Callable[[], Document], *, key: str, file_stem: str) -> None:
    """Two download buttons (Word, PDF) for ``paper`` (a key of ``LABELS``); ``build`` makes the document."""
    lang = current_lang()
    try:
        cjk_font_path()
    except BlocklineError as exc:
        st.warning(exc.zh if lang == "zh" else exc.en)
        st.caption(exc.fix_zh if lang == "zh" else exc.fix_en)
        return
    label = LABELS[paper][lang if lang in LABELS[paper] else "zh"]
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS, strict=True):
        column.download_button(
            f"{label}（{_KIND[fmt]}）" if lang == "zh" else f"{label} ({_KIND[fmt]})",
            data=partial(_bytes, build, fmt),
            file_name=f"{file_stem}.{fmt}",
            mime=FORMATS[fmt],
            key=f"{key}_{fmt}",
            on_click="ignore",
        )
