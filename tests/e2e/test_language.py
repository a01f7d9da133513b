"""Chinese mode shows Chinese in Streamlit's own widgets and on the map (issue 16), read as a person sees it."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.e2e.app_driver import map_frame, open_page, wait_for_map

_ICONS = '[data-testid="stIconMaterial"]'  # a Material icon's ligature name is drawn as a picture, not read


def _visible_words(page: Page, selector: str) -> str:
    """The visible text of ``selector`` without icon ligatures, with the ``::after`` captions a stylesheet adds."""
    return page.locator(selector).first.evaluate(f"""(el) => {{
        const copy = el.cloneNode(true);
        copy.querySelectorAll('{_ICONS}').forEach(i => i.remove());
        const shown = el.innerText.split('\\n').filter(Boolean);
        const icons = [...el.querySelectorAll('{_ICONS}')].map(i => i.innerText);
        const after = [el, ...el.querySelectorAll('*')].map(e => getComputedStyle(e, '::after').content)
            .filter(c => c && c !== 'none' && c !== 'normal').map(c => c.replace(/^"|"$/g, ''));
        return [...shown.filter(s => !icons.includes(s)), ...after].join(' | ');
    }}""")


def test_file_uploader_reads_chinese(page: Page) -> None:
    open_page(page, "data")
    text = _visible_words(page, '[data-testid="stFileUploaderDropzone"]')
    assert "选择文件" in text and "单个文件不超过 200 MB" in text, text
    assert not re.search(r"Upload|per file|Drag", text), text


def test_map_scale_is_metric_and_attribution_has_no_leaflet(page: Page) -> None:
    open_page(page, "map")
    wait_for_map(page)
    frame = map_frame(page)
    scales = frame.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scales) == 1 and re.fullmatch(r"\d+ k?m", scales[0].strip()), scales
    attribution = frame.locator(".leaflet-control-attribution").inner_text()
    assert "Leaflet" not in attribution, attribution
