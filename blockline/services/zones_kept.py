"""Candidate zones kept with their judgement (``judged_zone_sets`` / ``judged_zones``, migration 0017).

``blockline.services.zones.candidate_zones`` at the profile's own ``min_mu`` and ``gap_m`` clusters the
judgement's low-efficiency parcels once, keeps the zones here, and every later caller of the same judgement and
marks reads them back: the same rows, columns, values and order (``tests/services/test_zones_kept.py``). A set
is found by its :class:`Key`; its ``method`` is a hash of the code that computes it, so a release that changes
how zones are found or described computes them again rather than read what an older one kept.

This module only reads and writes the rows (no pandas): the frames are ``blockline.services.zones``'s.

Examples
--------
>>> Key(judgement_id=7, mark_set="wenzhou-2020|2026-12-06|v", min_mu=50.0, gap_m=15.0, method="m").lock_name()
'judged_zones|7|wenzhou-2020|2026-12-06|v|50.0|15.0|m'
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.store import driver_connection

__all__ = [
    "COLUMNS",
    "Key",
    "kept_set",
    "lock",
    "method_token",
    "paused_gc",
    "read_zone_geometry",
    "read_zones",
    "write_zones",
]

#: the columns of a kept zone, in the order of the rows ``read_zones`` returns and ``write_zones`` takes
COLUMNS = (
    "zone_id",
    "area_mu",
    "parcels",
    "holders",
    "county_code",
    "county_codes",
    "level1_mu",
    "level2_mu",
    "rating_mix",
    "rating_mix_mu",
)

#: the types of :data:`COLUMNS` in ``judged_zones``
_TYPES = ("text", "float8", "text[]", "int4", "text", "text[]", "float8", "float8", "int4[]", "float8[]")

#: the code a kept set comes from: a change to any of these files computes the zones again
_METHOD_FILES = (
    "blockline/services/zones.py",
    "blockline/services/zones_kept.py",
    "blockline/services/zones_sql.py",
    "zoning/consolidation.py",
)


@cache
def method_token() -> str:
    """A short hash of the code that finds and describes the zones (part of a kept set's key)."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha1()
    for name in _METHOD_FILES:
        h.update(name.encode())
        h.update((root / name).read_bytes())
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class Key:
    """What a kept set is of: a judgement, the marks whose grades it counts, the threshold, gap and code."""

    judgement_id: int
    mark_set: str
    min_mu: float
    gap_m: float
    method: str

    def params(self) -> dict[str, Any]:
        """The key as the queries' parameters."""
        return {
            "j": self.judgement_id,
            "k": self.mark_set,
            "m": self.min_mu,
            "g": self.gap_m,
            "t": self.method,
        }

    def lock_name(self) -> str:
        """The name of the advisory lock held while the set is computed and written (one writer per key)."""
        return (
            f"judged_zones|{self.judgement_id}|{self.mark_set}|{self.min_mu!r}|{self.gap_m!r}|{self.method}"
        )


def kept_set(conn: Connection, key: Key) -> int | None:
    """The id of the set kept for ``key``, or None when there is none."""
    found = conn.execute(
        sa.text("""SELECT id FROM judged_zone_sets
                   WHERE judgement_id = :j AND mark_set = :k AND min_mu = :m AND gap_m = :g AND method = :t"""),
        key.params(),
    ).scalar_one_or_none()
    return None if found is None else int(found)


def lock(conn: Connection, key: Key) -> None:
    """Wait for the transaction-long advisory lock of ``key``: a second writer waits, then finds the set."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:n, 17))"), {"n": key.lock_name()})


def read_zones(conn: Connection, set_id: int) -> list[tuple[Any, ...]]:
    """The kept set's zones in their order, each a tuple of :data:`COLUMNS` (arrays as lists).

    In binary (the arrays are not parsed from text) and with the cyclic garbage collector paused: 61,155 zones
    of 1,000,000 parcels in 0.23 s instead of 0.5–0.7 s, most of which were collections triggered by the rows'
    lists (they hold no cycles).
    """
    sql = f"SELECT {', '.join(COLUMNS)} FROM judged_zones WHERE set_id = %s ORDER BY rank"
    with paused_gc(), driver_connection(conn).cursor(binary=True) as cur:
        return cur.execute(sql, (set_id,)).fetchall()


#: each kept zone's geometry, in the set's order: the collection of its current member parcels in parcel-number
#: order ("C"), as ``zones_sql._CLUSTER_SQL`` collects it when it finds the zones (the same WKB; NULL when none of
#: them is current any more). 0.4 s for the 12,309 zones (61,321 parcels) of 200,000 parcels, against 1.0 s for
#: clustering again with the geometry
_GEOMETRY_SQL = """
SELECT ST_AsBinary(g.geom)
FROM judged_zones z
CROSS JOIN LATERAL (
    SELECT ST_Collect(p.geom ORDER BY p.parcel_no COLLATE "C") AS geom
    FROM unnest(z.parcels) AS m(parcel_no)
    JOIN parcels p ON p.parcel_no = m.parcel_no AND p.valid_to IS NULL) g
WHERE z.set_id = %s
ORDER BY z.rank
"""


def read_zone_geometry(conn: Connection, set_id: int) -> list[bytes | None]:
    """The kept set's zones' geometry (WKB) in their order (the geometry itself is not kept: it is the parcels')."""
    with driver_connection(conn).cursor(binary=True) as cur:
        return [None if r[0] is None else bytes(r[0]) for r in cur.execute(_GEOMETRY_SQL, (set_id,))]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (as it was outside after): for building many small containers.

    The collector runs after every so many new containers, and a full collection walks every object alive, so
    building a few hundred thousand lists or dicts spends more in collections than in the building.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write_zones(
    conn: Connection,
    key: Key,
    rows: Sequence[Sequence[Any]] | Iterable[Sequence[Any]],
    *,
    count: int,
    seconds: float,
) -> int:
    """Keep ``rows`` (tuples of :data:`COLUMNS`, in order) as the set of ``key``; returns its id.

    In ``conn``'s transaction, under :func:`lock`. The zones are copied in (``COPY``), not inserted one by one:
    ``area_mu``, ``level1_mu``, ``level2_mu`` and ``rating_mix_mu`` as float8, so read back to the bit.
    """
    set_id = int(
        conn.execute(
            sa.text("""INSERT INTO judged_zone_sets (judgement_id, mark_set, min_mu, gap_m, method, zones, seconds)
                       VALUES (:j, :k, :m, :g, :t, :n, :s) RETURNING id"""),
            key.params() | {"n": count, "s": seconds},
        ).scalar_one()
    )
    # binary, the types given: 61,155 zones of 1,000,000 parcels in 1.0 s instead of 1.8 s as text
    sql = f"COPY judged_zones (set_id, rank, {', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with paused_gc(), driver_connection(conn).cursor() as cur, cur.copy(sql) as copy:
        copy.set_types(["int8", "int4", *_TYPES])
        for rank, row in enumerate(rows):
            copy.write_row((set_id, rank, *row))
    return set_id
