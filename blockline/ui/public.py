"""The public list page's helpers: whether the public address was asked for, its cached loader and downloads.

The public list (YW §17, ``zoning.public``) is the one page anyone may open without signing in, at
``/public``. ``app.py`` asks :func:`requested` before the sign-in and, when it is the public address, runs that
page alone with no navigation to any other page.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from blockline.ui import data
from geo.export import records
from geo.queries import county_names, read_parcels
from zoning.policy import get_profile
from zoning.public import PUBLIC_COLUMNS, public_list, public_table

__all__ = ["URL_PATH", "downloads", "public_frame", "requested"]

URL_PATH = "public"


def requested(page: st.Page) -> bool:
    """Whether this run is for ``page`` (the browser opened its address, or switched to it).

    Streamlit resolves the page inside ``st.navigation``, after the sign-in would have stopped the run; this
    reads the same intent (page hash, or URL path on a first visit) the navigation will resolve.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    manager = ctx.pages_manager
    if manager.intended_page_script_hash:
        return manager.intended_page_script_hash == page._script_hash  # st.Page's hash of its url_path
    return manager.intended_page_name == page.url_path


def public_frame(as_of: dt.date, policy: str) -> pd.DataFrame:
    """The public list of the store at ``as_of`` under ``policy`` (``zoning.public.public_list``), cached."""
    return _public_frame(data.tile_version(), as_of, policy)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _public_frame(version: str, as_of: dt.date, policy: str) -> pd.DataFrame:
    del version
    engine = data.get_engine()
    return public_list(
        read_parcels(engine, geometry=False),
        county_names=county_names(engine),
        as_of=as_of,
        profile=get_profile(policy),
    )


def downloads(frame: pd.DataFrame, *, as_of: dt.date, policy: str) -> dict[str, bytes]:
    """The list as the bytes of its three downloads: xlsx and csv (Chinese headers), json (the command's)."""
    table = public_table(frame, "zh")
    body = {
        "as_of": as_of.isoformat(),
        "policy": policy,
        "county": None,
        "count": len(frame),
        "columns": PUBLIC_COLUMNS,
        "parcels": records(frame),
    }
    return {
        "xlsx": data.table_bytes(table, fmt="xlsx", sheet="公开清单"),
        "csv": data.table_bytes(table, fmt="csv"),
        "json": (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    }
