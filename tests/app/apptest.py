"""What the page tests read from an AppTest run: its metrics, its texts, the script of its map, its downloads."""

from __future__ import annotations

import json

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test

from blockline.ui.maps import unescape_js


def metrics(at: AppTest) -> dict[str, str]:
    """Each metric's value by its label."""
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    """Every text element of the page, one per line."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def map_script(at: AppTest) -> str:
    """The Leaflet script of the page's one map, JSON escapes undone."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    assert len(maps) == 1
    return unescape_js(str(json.loads(maps[0].proto.json_args)["script"]))


def record_media(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """The media file managers of the AppTest runs from now on, to read back what a download button offers."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, storage: object) -> None:
            super().__init__(storage)  # type: ignore[arg-type]
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return managers


def download(at: AppTest, managers: list[MediaFileManager], key: str) -> bytes:
    """The bytes the download button ``key`` offers, as the last run registered them; a file made only when
    asked for (a deferred download) is made here, as a click in the browser would."""
    buttons = [b for b in at.get("download_button") if key in b.proto.id]
    assert len(buttons) == 1, [b.proto.id for b in at.get("download_button")]
    manager = managers[-1]
    url = buttons[0].proto.url or manager.execute_deferred(buttons[0].proto.deferred_file_id)
    name = url.rsplit("/", 1)[1].split(".")[0]
    return manager._storage.get_file(name).content  # type: ignore[attr-defined]
