"""The deployment's home area for the pages (``geo.home``), read once per data version."""

from __future__ import annotations

import streamlit as st

from blockline.ui import data
from geo.home import home_codes, read_areas
from geo.settings import get_settings

__all__ = ["home_area"]


def home_area() -> tuple[list[str], str]:
    """The home area's county codes and its name (the city's or province's name, else its counties' names)."""
    return _home_area(data.tile_version(), get_settings().home_area)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _home_area(version: str, setting: str | None) -> tuple[list[str], str]:
    del version
    areas = read_areas(data.get_engine())
    codes = home_codes(areas, setting)
    names = dict(zip(areas["code"], areas["name"], strict=False))
    wanted = setting.split(",") if setting else sorted({f"{c[:4]}00" for c in codes})
    named = [names[a] for a in wanted if a in names]
    if len(named) != len(wanted):  # an area without a row of its own: named by its counties
        named = [names[c] for c in codes if c in names]
    return codes, "、".join(named)
