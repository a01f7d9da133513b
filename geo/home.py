"""The area a deployment serves (its own city, or a province): the counties 一张图 opens on.

A store may hold more than the deployment's city (the demo loads 义乌市 of 金华 beside Wenzhou's counties). The
setting ``BLOCKLINE_HOME_AREA`` names the area by administrative codes: a province (``330000``) covers the counties
whose code starts with its first two digits, a city (``330300``) its first four, a county itself. Unset, the home
area is the city of the counties loaded first: the lowest load that holds counties; a city row loaded with them
names it, else the city most of those counties belong to (their ``parent_code``, or their code's first four
digits).

Examples
--------
>>> import pandas as pd
>>> areas = pd.DataFrame({"code": ["330300", "330302", "330304", "330782"],
...                       "level": ["city", "county", "county", "county"],
...                       "parent_code": [None, "330300", "330300", "330700"], "load_id": [1, 1, 1, 1]})
>>> home_codes(areas, None)
['330302', '330304']
>>> home_codes(areas, "330700"), home_codes(areas, "330000"), home_codes(areas, "330304,330782")
(['330782'], ['330302', '330304', '330782'], ['330304', '330782'])
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# read_areas imports it: covers() is asked by every judgement, and pandas is 0.5 s to import
if TYPE_CHECKING:
    import pandas as pd

__all__ = ["covers", "home_codes", "read_areas"]


def covers(area: str, county: str) -> bool:
    """Whether the administrative ``area`` (province, city or county code) holds ``county``.

    >>> covers("330000", "330782"), covers("330300", "330782"), covers("330302", "330302")
    (True, False, True)
    """
    if area.endswith("0000"):
        return county[:2] == area[:2]
    if area.endswith("00"):
        return county[:4] == area[:4]
    return county == area


def _first_city(areas: pd.DataFrame) -> str | None:
    """The city of the counties loaded first (see the module)."""
    counties = areas[areas["level"] == "county"]
    if counties.empty:
        return None
    loads = counties["load_id"].dropna()
    first = counties if loads.empty else counties[counties["load_id"] == loads.min()]
    cities = areas[
        (areas["level"] == "city")
        & (areas["load_id"].isin(first["load_id"]) if not loads.empty else areas["level"] == "city")
    ]
    held = [c for c in sorted(cities["code"]) if any(covers(c, k) for k in first["code"])]
    if held:
        return held[0]
    parents = [
        p if isinstance(p, str) and p else f"{k[:4]}00"
        for p, k in zip(first["parent_code"], first["code"], strict=False)
    ]
    return sorted(Counter(parents).items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def home_codes(areas: pd.DataFrame, setting: str | None) -> list[str]:
    """The codes of the home area's counties, sorted; every county when nothing matches.

    An empty view helps no one.

    ``areas`` holds the store's administrative areas (``code``, ``level``, ``parent_code``, ``load_id``);
    ``setting`` is ``Settings.home_area`` (None: the first loaded city).
    """
    counties = sorted(areas.loc[areas["level"] == "county", "code"])
    wanted = setting.split(",") if setting else [c for c in [_first_city(areas)] if c]
    home = [c for c in counties if any(covers(a, c) for a in wanted)]
    return home or counties


def read_areas(engine: Engine) -> pd.DataFrame:
    """The store's administrative areas without their shapes: code, name, level, parent_code, load_id."""
    import pandas as pd  # lazy: see the module's imports

    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("SELECT code, name, level, parent_code, load_id FROM admin_areas ORDER BY code"), conn
        )
