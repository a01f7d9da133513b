"""Values of findings in JSONB: plain JSON where it can hold them, tagged where it cannot.

Dates, datetimes, non-finite floats and tuples are tagged (``{"$date": "2026-01-02"}``) so that a findings frame
read back from ``judged_findings`` has the values the rules gave (``blockline.services.judged``).

Examples
--------
>>> decode(encode({"a": dt.date(2026, 1, 2), "b": float("nan"), "c": (1, 2), "d": [1.5, None]}))
{'a': datetime.date(2026, 1, 2), 'b': nan, 'c': (1, 2), 'd': [1.5, None]}
>>> loads(dumps({"since": dt.date(2026, 1, 2), "share": 0.5}))
{'since': datetime.date(2026, 1, 2), 'share': 0.5}
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import orjson
import pandas as pd

__all__ = ["decode", "dumps", "encode", "is_missing", "loads"]


def is_missing(v: Any) -> bool:
    """Whether ``v`` is a missing value (None, NaN, NaT)."""
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or v is pd.NaT
        or (isinstance(v, np.datetime64) and np.isnat(v))
    )


def encode(v: Any) -> Any:
    """``v`` as plain JSON, with tags for what JSON cannot hold as such (dates, non-finite floats, tuples)."""
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else {"$float": repr(float(v))}
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return {"$datetime": v.isoformat()}
    if isinstance(v, dt.date):
        return {"$date": v.isoformat()}
    if isinstance(v, Mapping):
        return {str(k): encode(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return {"$tuple": [encode(x) for x in v]}
    if isinstance(v, (list, np.ndarray)):
        return [encode(x) for x in v]
    return {"$str": str(v)}


_TAGS: dict[str, Callable[[Any], Any]] = {
    "$float": float,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$tuple": lambda xs: tuple(decode(x) for x in xs),
    "$str": str,
}


def decode(v: Any) -> Any:
    """The inverse of ``encode``."""
    if isinstance(v, dict):
        if len(v) == 1:
            ((k, x),) = v.items()
            if k in _TAGS:
                return _TAGS[k](x)
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def _plain(v: Any) -> bool:
    """Whether ``v`` is JSON as it is (the common case of figures: str, int, finite float, bool, None)."""
    t = type(v)
    return t is str or t is int or t is bool or v is None or (t is float and math.isfinite(v))


def dumps(v: Any) -> str:
    """``v`` as JSON text for a JSONB column (tagged where needed)."""
    if isinstance(v, dict) and all(type(k) is str and _plain(x) for k, x in v.items()):
        return orjson.dumps(v).decode()
    return orjson.dumps(encode(v)).decode()


def loads(text: str) -> Any:
    """The value of JSON text written by ``dumps``."""
    v = orjson.loads(text)
    return decode(v) if '"$' in text else v
