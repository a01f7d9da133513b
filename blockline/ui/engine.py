"""The app's one engine to the store, shared by every session of the process.

Both the loaders (``blockline.ui.data``) and the sign-in (``blockline.ui.auth``) use it; it stands on its own so
that neither has to import the other for it.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from geo.store import open_store

__all__ = ["get_engine"]


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    """The store's engine, opened (and migrated) once per process and shared by every session."""
    return open_store()
