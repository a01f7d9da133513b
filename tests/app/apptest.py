"""What the page tests read from an AppTest run: its metrics, its texts, the script of its map."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from ui.maps import unescape_js


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
