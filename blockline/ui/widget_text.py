"""Chinese captions for the parts of Streamlit's own widgets that have no option for their text (issue 16).

Streamlit has no language setting. Where a widget takes a ``placeholder`` (multiselect, selectbox) the pages
pass one (``widget.choose``). The file uploader's button ("Upload") and its size line ("200MB per file •
ZIP, …") take none, nor does the keyboard's "Skip to main content" link: in Chinese mode a small stylesheet,
injected once per run by ``app.py``, hides those English words and shows the Chinese ones in their place
(CSS ``::after`` content). The accepted types are named in each uploader's own label. English mode keeps
Streamlit's English.
"""

from __future__ import annotations

import json
import re

import streamlit as st

from blockline.ui.i18n import translate

__all__ = ["stylesheet", "inject", "how_text", "encoding_name"]

_DROPZONE = '[data-testid="stFileUploaderDropzone"]'
_BUTTON = f'{_DROPZONE} [data-testid="stBaseButton-secondary"]'  # not the minimal "remove file" button
_SKIP = '[data-testid="stSkipToContent"]'  # the keyboard's "Skip to main content" link, shown on focus
_INSTRUCTIONS = '[data-testid="stFileUploaderDropzoneInstructions"]'


def stylesheet(lang: str, *, max_mb: int) -> str:
    """The CSS that puts Chinese captions on the file uploader (empty in English).

    Parameters
    ----------
    lang : str
        ``"zh"`` or ``"en"``.
    max_mb : int
        The server's upload limit (``server.maxUploadSize``), in MB.

    Returns
    -------
    str
        A ``<style>`` element, or ``""`` when nothing needs replacing.
    """
    if lang == "en":
        return ""
    upload = json.dumps(translate("widget.upload", lang), ensure_ascii=False)
    skip = json.dumps(translate("widget.skip", lang), ensure_ascii=False)
    limit = json.dumps(translate("widget.limit", lang, mb=max_mb), ensure_ascii=False)
    return f"""<style>
{_BUTTON} p, {_BUTTON} div[data-testid="stMarkdownContainer"] {{ display: none; }}
{_BUTTON}::after {{ content: {upload}; }}
{_INSTRUCTIONS} > * {{ display: none; }}
{_INSTRUCTIONS}::after {{ content: {limit}; font-size: 0.875rem; opacity: 0.6; }}
{_SKIP} {{ font-size: 0; }}
{_SKIP}::after {{ content: {skip}; font-size: 1rem; }}
</style>"""


def inject(lang: str) -> None:
    """Add ``stylesheet(lang)`` to the page (once per run; nothing in English)."""
    css = stylesheet(lang, max_mb=int(st.get_option("server.maxUploadSize")))
    if css:
        st.html(css)


def encoding_name(encoding: str | None) -> tuple[str, str | None]:
    """A read report's encoding as (code, how it was told when the code carries it).

    E.g. ``"UTF-8 (format default)"`` → ``("UTF-8", "format default")``.
    """
    text = str(encoding or "—")
    code, sep, rest = text.partition(" (")
    return (code, rest.rstrip(")")) if sep else (text, None)


def how_text(how: str | None, lang: str) -> str:
    """How a read report told the encoding or CRS, in ``lang`` (as written when it is not a known phrase)."""
    if not how:
        return "—"
    match = re.fullmatch(r"\.cpg file \((.+)\)", how)
    if match:
        return translate("how.cpg", lang, name=match.group(1))
    try:
        return translate(f"how.{how}", lang)
    except KeyError:
        return how
