"""Loading into the store: boundaries, block lines, parcels, ratings. Each load is one transaction.

A load reads and checks the whole file first (``geo.io``), so that a file with problems writes nothing;
then it writes in one transaction, so that a failure half-way (a constraint, a lost connection) leaves the
database exactly as it was. Parcels are bulk-copied (``COPY``) into a staging table and moved with set-based
SQL, so 200,000 parcels load in seconds. Re-loading a parcel number closes its current version
(``valid_to``) and adds the new one: history is kept, never overwritten.

Each kind of load is its own module, re-exported here: ``geo.load_boundaries``, ``geo.load_lines`` (block
lines), ``geo.load_parcels`` (with ``geo.load_counties``), ``geo.load_attributes`` (a 台账 joined by number),
``geo.load_ratings``; what they share is ``geo.load_common``. The demo city follows below.

Examples
--------
>>> level_of_code("330302"), level_of_code("330300"), level_of_code("330000")
('county', 'city', 'province')
>>> parent_of_code("330302"), parent_of_code("330300")
('330300', '330000')
"""

from __future__ import annotations

from geo.load_attributes import Attributes, load_parcel_attributes, prepare_attributes, write_attributes
from geo.load_boundaries import load_boundaries, write_boundaries
from geo.load_common import (
    LoadResult,
    Progress,
    level_of_code,
    parent_of_code,
    start_load,
)
from geo.load_lines import load_blocklines, write_blocklines
from geo.load_parcels import load_parcels, prepare_parcels, write_parcels
from geo.load_ratings import load_ratings, write_ratings

__all__ = [
    "Progress",
    "LoadResult",
    "level_of_code",
    "parent_of_code",
    "load_boundaries",
    "load_blocklines",
    "load_parcels",
    "load_parcel_attributes",
    "prepare_attributes",
    "write_attributes",
    "Attributes",
    "load_ratings",
    "prepare_parcels",
    "write_boundaries",
    "write_blocklines",
    "write_parcels",
    "write_ratings",
    "start_load",
]
