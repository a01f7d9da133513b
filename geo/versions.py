"""The version of the store's data: a token that changes with every load and adjustment.

What the tile cache, the stored judgements and the app's caches are keyed by. Apart from ``geo.tiles`` (which
re-exports it) so that asking it imports neither pyproj nor geopandas: every command asks it.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.store import connected

__all__ = ["data_version"]


def data_version(engine: Engine | Connection) -> str:
    """A short token that changes whenever block lines, parcels or ratings change (a load, an adjustment).

    The time of the newest load is part of it: after ``blockline db reset`` the ids start again from 1, and
    a reloaded store must not take the version (and so the cached tiles) of what it held before.

    Cheap enough to ask for every few seconds (about 2 ms at 200,000 parcels): the newest ids come
    from the primary keys, and only block lines (a few hundred rows) are counted for the ones an adjustment
    retired. A parcel is retired only by a load, which the newest load already marks, so parcels are not
    counted (a count of their retired rows was 50 ms at 200,000 parcels).
    """
    with connected(engine) as conn:
        row = conn.execute(
            sa.text("""
            SELECT (SELECT coalesce(max(id), 0) FROM loads), (SELECT max(loaded_at) FROM loads),
                   (SELECT coalesce(max(id), 0) FROM block_lines),
                   (SELECT count(valid_to) FROM block_lines), (SELECT coalesce(max(id), 0) FROM parcels),
                   (SELECT coalesce(max(id), 0) FROM ratings)""")
        ).one()
    return hashlib.sha1(repr(tuple(row)).encode()).hexdigest()[:12]
