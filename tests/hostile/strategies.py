"""Hypothesis strategies for hostile input: broken polygons and attribute rows, and the files that hold them.

Polygons are drawn in metres of EPSG:4549 around 鹿城区 of tests/files.py (``X``, ``Y``): random rings that
cross themselves, repeat and line up their points, tiny and huge ones, holes outside their shells. Rows carry
the text planners' files really hold next to the text an attacker would put there (SQL, HTML/JS, control
characters, very long strings, characters GBK cannot encode) and numbers and dates out of any range.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from shapely import Polygon

from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y

__all__ = [
    "HOLDER",
    "HOSTILE_TEXT",
    "SETTINGS",
    "expected_text",
    "hostile_settings",
    "polygons",
    "rows",
    "write_frame",
]

HOLDER = "<img src=x onerror=alert(1)>"
#: what an attacker, or a careless export, puts in a text field
HOSTILE_TEXT = (
    HOLDER,
    "'; DROP TABLE parcels; --",
    "1' OR '1'='1",
    "\\N",  # COPY's NULL marker
    '"quoted", with, commas',
    "<script>alert('x')</script>",
    "javascript:alert(1)",
    '=HYPERLINK("http://x","点我")',  # a spreadsheet formula
    "\u202eevil.exe",  # right-to-left override
    "a\u0001b\u001bc\u007f",  # control characters
    "第一行\n第二行\r\n第三行",
    "😀 emoji, é, € and 𠀀: not in GBK",
    "温州宏达机械有限公司",
    "长" * 5000,
)

#: every test here: fixed examples (derandomized) so CI sees the same inputs each run, no deadline on a busy box
# Shrinking is off: a failure is reported as found (shrinking a load-per-example test takes minutes).
SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "phases": [Phase.explicit, Phase.generate, Phase.target],
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}


def hostile_settings(max_examples: int) -> settings:
    """``max_examples`` examples, times ``BLOCKLINE_HOSTILE_SCALE`` (default 1; e.g. 10 for a long local hunt)."""
    scale = int(os.environ.get("BLOCKLINE_HOSTILE_SCALE", "1"))
    return settings(max_examples=max_examples * scale, **SETTINGS)  # type: ignore[arg-type]


# -- polygons --------------------------------------------------------------------------------------------
_coord = st.one_of(st.integers(0, 400).map(float), st.floats(0, 400, allow_nan=False, allow_infinity=False))


@st.composite
def _ring(
    draw: st.DrawFn, *, scale: float = 1.0, x0: float = X + 200, y0: float = Y + 200
) -> list[tuple[float, float]]:
    kind = draw(st.sampled_from(["random", "collinear", "repeated", "box"]))
    if kind == "collinear":
        n = draw(st.integers(3, 6))
        ts = draw(st.lists(_coord, min_size=n, max_size=n))
        pts = [(t, 0.5 * t) for t in ts]
    elif kind == "box":
        w, h = draw(_coord), draw(_coord)
        pts = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    else:
        pts = draw(st.lists(st.tuples(_coord, _coord), min_size=3, max_size=10))
        if kind == "repeated":
            i = draw(st.integers(0, len(pts) - 1))
            pts = pts[: i + 1] + [pts[i]] * draw(st.integers(1, 3)) + pts[i + 1 :]
    return [(x0 + x * scale, y0 + y * scale) for x, y in pts]


@st.composite
def polygons(draw: st.DrawFn) -> shapely.Geometry:
    """One polygon (sometimes a multipolygon) that may be anything a digitiser or a fuzzer produces."""
    kind = draw(st.sampled_from(["plain", "plain", "tiny", "huge", "hole_outside", "hole", "multi", "far"]))
    if kind == "tiny":
        return Polygon(draw(_ring(scale=draw(st.sampled_from([1e-3, 1e-6, 1e-9])))))
    if kind == "huge":
        return Polygon(draw(_ring(scale=draw(st.sampled_from([1e6, 1e12, 1e300])))))
    if kind == "far":  # a CRS mix-up: the same shape a long way off
        return Polygon(draw(_ring(x0=draw(st.sampled_from([-1e7, 4.0568e7, 3.097e6])), y0=Y)))
    if kind in ("hole", "hole_outside"):
        shell = draw(_ring())
        hole = draw(
            _ring(
                x0=X + (250 if kind == "hole" else 1500), y0=Y + (250 if kind == "hole" else 1500), scale=0.2
            )
        )
        return Polygon(shell, [hole])
    if kind == "multi":
        parts = draw(st.lists(_ring(), min_size=2, max_size=3))
        return shapely.MultiPolygon([Polygon(p) for p in parts])
    return Polygon(draw(_ring()))


# -- attribute rows --------------------------------------------------------------------------------------
# Any unicode a file can carry, without NUL (GDAL's formats cut a string at NUL; a CSV's NUL is refused: fixed
# cases) and without lone surrogates (not text in any encoding).
_any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
text_values = st.one_of(st.sampled_from(HOSTILE_TEXT), _any_text)

#: (text as in the file, whether the loader must refuse it)
_GOOD_TAX = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.just(""),
    st.sampled_from(["-1", "1e308", "-1e308", "0", "12.5", "1e-320"]),
)
_BAD_NUMBER = st.sampled_from(
    ["inf", "-inf", "NaN", "1e309", "abc", "'; DROP TABLE parcels; --", HOLDER, "1900-01-01", "12 万元"]
)
_GOOD_LEASE = st.one_of(
    st.floats(min_value=1e-300, max_value=1e308).map(repr),
    st.just(""),
    st.sampled_from(["50", "1e308", "0.5"]),
)
_BAD_LEASE = st.one_of(_BAD_NUMBER, st.sampled_from(["0", "-1", "-0.0", "-50"]))
_GOOD_DATE = st.one_of(
    st.dates(dt.date(1949, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat), st.just("")
)
_BAD_DATE = st.sampled_from(
    [
        "1900-01-01",
        "2200-01-01",
        "1948-12-31",
        "2101-01-01",
        "2021-02-30",
        "0000-00-00",
        "yesterday",
        HOLDER,
        "'; DROP TABLE parcels; --",
        "-1",
        "1e308",
    ]
)
#: header names that are not recognised fields: kept, with their values, in ``extra``
EXTRA_HEADERS = ("备注", HOLDER, "'; DROP TABLE parcels; --", 'note "x"')


def _flagged(
    good: st.SearchStrategy[str], bad: st.SearchStrategy[str]
) -> st.SearchStrategy[tuple[str, bool]]:
    return st.one_of(
        good.map(lambda v: (v, False)), good.map(lambda v: (v, False)), bad.map(lambda v: (v, True))
    )


@st.composite
def rows(draw: st.DrawFn, *, n_max: int = 4) -> tuple[pd.DataFrame, bool]:
    """Parcel attribute rows (Chinese headers, every value as text) and whether the loader must refuse them."""
    n = draw(st.integers(1, n_max))
    extra_header = draw(st.sampled_from(EXTRA_HEADERS))
    data: dict[str, list[str]] = {
        "宗地编号": [],
        "权利人": [],
        "土地用途": [],
        extra_header: [],
        "年度税收": [],
        "出让年限": [],
        "约定开工日期": [],
    }
    bad = False
    for i in range(n):
        data["宗地编号"].append(f"H{i}-" + draw(text_values))
        data["权利人"].append(draw(text_values))
        data["土地用途"].append(draw(text_values))
        data[extra_header].append(draw(text_values))
        for column, good, wrong in (
            ("年度税收", _GOOD_TAX, _BAD_NUMBER),
            ("出让年限", _GOOD_LEASE, _BAD_LEASE),
            ("约定开工日期", _GOOD_DATE, _BAD_DATE),
        ):
            value, is_bad = draw(_flagged(good, wrong))
            data[column].append(value)
            bad |= is_bad
    return pd.DataFrame(data), bad


def expected_text(value: str) -> str | None:
    """A text field as stored: stripped, blank as missing (CLI.md: values are cleaned of surrounding space)."""
    stripped = value.strip()
    return stripped or None


# -- files -----------------------------------------------------------------------------------------------
def write_frame(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write ``gdf`` in the format of ``path``'s suffix (.gpkg, .geojson, .csv with a WKT column, .shp)."""
    with warnings.catch_warnings():
        # GDAL warns about what it is asked to write (long field names, odd windings): the traps we want.
        warnings.simplefilter("ignore")
        if path.suffix == ".csv":
            frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            frame["WKT"] = shapely.to_wkt(gdf.geometry.array, rounding_precision=-1)
            # every field quoted, as Excel and GIS exports do (pandas leaves a bare CR unquoted, which splits the row)
            frame.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)
        elif path.suffix == ".shp":
            gdf.to_file(path, driver="ESRI Shapefile", encoding="UTF-8", engine="pyogrio")
        else:
            gdf.to_file(path, engine="pyogrio")
    return path
