"""What a browser may send as drawings (geo.drafts.save_drafts), and hostile geometries given to the balance.

save_drafts takes GeoJSON as streamlit-folium hands it over; a forged request can put anything there. Each
batch is kept whole or refused whole with an InputError naming the drawing, nothing written.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from shapely import Polygon, box

from blockline.services.balance import check_adjustment
from blockline.services.ledger_record import record_adjustment
from geo.drafts import fingerprint, new_sketch, read_drafts, save_drafts
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square
from tests.hostile.conftest import attempt
from tests.hostile.strategies import HOLDER, hostile_settings
from zoning.policy import get_profile

RING = [[120.6, 28.0], [120.601, 28.0], [120.601, 28.001], [120.6, 28.001], [120.6, 28.0]]
SQUARE = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [RING]}}


def _polygon(ring: object) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": ring}


# (label, the drawing, whether it is kept)
DRAWINGS: list[tuple[str, object, bool]] = [
    ("None", None, False),
    ("a string", "POLYGON((0 0,1 0,1 1,0 0))", False),
    ("a number", 5, False),
    ("a list", [1, 2], False),
    ("a feature without geometry", {"type": "Feature", "geometry": None}, False),
    ("geometry as a string", {"type": "Feature", "geometry": HOLDER}, False),
    ("type as a list", {"type": ["Polygon"], "coordinates": [RING]}, False),
    ("a line", {"type": "LineString", "coordinates": RING}, False),
    ("a collection", {"type": "GeometryCollection", "geometries": [_polygon([RING])]}, False),
    ("coordinates as a string", _polygon("'; DROP TABLE drafts; --"), False),
    ("coordinates None", _polygon(None), False),
    ("no rings", _polygon([]), False),
    ("an empty ring", _polygon([[]]), False),
    ("nested one level too deep", _polygon([[RING]]), False),
    ("one level too shallow", _polygon(RING), False),
    ("strings for numbers", _polygon([[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]), False),
    ("one ordinate", _polygon([[[p[0]] for p in RING]]), False),
    ("two points", _polygon([RING[:2]]), False),
    ("NaN", _polygon([[[math.nan, 28.0], *RING[1:]]]), False),
    ("all NaN", _polygon([[[math.nan, math.nan]] * 5]), False),
    ("infinity", _polygon([[[math.inf, 28.0], *RING[1:]]]), False),
    ("1e308", _polygon([[[1e308, 1e308], [-1e308, 1e308], [-1e308, -1e308], [1e308, 1e308]]]), False),
    ("10**400", _polygon([[[10**400, 28.0], *RING[1:]]]), False),
    ("longitude 500", _polygon([[[500, 28], [501, 28], [501, 29], [500, 28]]]), False),
    ("lat/lon swapped", _polygon([[[y, x] for x, y in RING]]), False),
    ("booleans", _polygon([[[True, False]] * 4]), False),
    ("collinear", _polygon([[[120.6, 28.0], [120.601, 28.0], [120.602, 28.0], [120.6, 28.0]]]), False),
    (
        "a slip of the mouse",
        _polygon([[[120.6, 28.0], [120.6000001, 28.0], [120.6, 28.0000001], [120.6, 28.0]]]),
        False,
    ),
    ("multipolygon of junk", {"type": "MultiPolygon", "coordinates": [[[1, 2]]]}, False),
    ("multipolygon of a dict", {"type": "MultiPolygon", "coordinates": {"a": 1}}, False),
    ("an unclosed ring (closed by the reader)", _polygon([RING[:-1]]), True),
    ("Z values (dropped)", _polygon([[[*p, 99.0] for p in RING]]), True),
    ("junk properties", {**SQUARE, "properties": [1, {"x": math.nan}, HOLDER]}, True),
    ("self-crossing (repaired)", _polygon([[RING[0], RING[2], RING[1], RING[3], RING[0]]]), True),
]


@pytest.mark.parametrize(("label", "drawing", "kept"), DRAWINGS, ids=[d[0] for d in DRAWINGS])
def test_a_forged_drawing_is_refused_whole(
    engine: sa.Engine, label: str, drawing: object, kept: bool
) -> None:
    sketch = new_sketch()
    assert isinstance(
        fingerprint(drawing), str
    )  # the pages fingerprint what arrives before keeping it: never a crash
    outcome = attempt(
        "save_drafts", engine, save_drafts, engine, sketch, "balance:addition", [SQUARE, drawing], user="test"
    )
    if kept:
        assert outcome.value in (1, 2)  # the same shape as SQUARE is kept once
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT bool_and(ST_IsValid(geom)) FROM drafts")).scalar_one()
        return
    assert outcome.refused and "drawing 2" in outcome.error.en and outcome.error.fix_en, outcome.error
    assert (
        read_drafts(engine, sketch, "balance:addition") == []
    )  # the good one in the batch is not kept either


@pytest.mark.parametrize(
    ("sketch", "purpose", "features"),
    [
        ("' OR 1=1 --", "balance:addition", [SQUARE]),
        (new_sketch(), "balance:addition'; DROP TABLE drafts; --", [SQUARE]),
        (new_sketch(), None, [SQUARE]),
        (None, "balance:addition", [SQUARE]),
        (new_sketch(), "balance:addition", SQUARE),  # one feature, not a list
        (new_sketch(), "balance:addition", None),
        (new_sketch(), "balance:addition", "[]"),
    ],
    # named, not by their values: a new sketch is random, and every test worker must collect the same ids
    ids=["sql-in-sketch", "sql-in-purpose", "no-purpose", "no-sketch", "not-a-list", "no-features", "text"],
)
def test_forged_requests_are_refused(engine: sa.Engine, sketch, purpose, features) -> None:
    outcome = attempt("save_drafts", engine, save_drafts, engine, sketch, purpose, features, user="test")
    assert outcome.refused and outcome.error.fix_en


def test_a_drawing_of_a_million_vertices_is_kept_valid(engine: sa.Engine) -> None:
    t = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = np.column_stack([120.65 + 0.004 * np.cos(t), 28.0 + 0.003 * np.sin(3 * t) * np.cos(t)]).tolist()
    outcome = attempt(
        "save_drafts",
        engine,
        save_drafts,
        engine,
        new_sketch(),
        "zones:zone",
        [_polygon([[*ring, ring[0]]])],
        user="test",
    )
    assert outcome.value == 1
    with engine.connect() as conn:
        assert conn.execute(
            sa.text("SELECT ST_IsValid(geom) AND NOT ST_IsEmpty(geom) FROM drafts")
        ).scalar_one()


_lonlat = st.tuples(st.floats(120.5, 120.8), st.floats(27.9, 28.1))


@hostile_settings(50)
@given(rings=st.lists(st.lists(_lonlat, min_size=3, max_size=8), min_size=1, max_size=3))
def test_generated_drawings_are_refused_or_kept_valid(engine: sa.Engine, rings) -> None:
    features = [{"type": "Feature", "geometry": _polygon([[*map(list, r), list(r[0])]])} for r in rings]
    outcome = attempt(
        "save_drafts", engine, save_drafts, engine, new_sketch(), "balance:removal", features, user="test"
    )
    if not outcome.refused:
        with engine.connect() as conn:
            assert (
                conn.execute(
                    sa.text("SELECT count(*) FROM drafts WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)")
                ).scalar_one()
                == 0
            )


# -- the balance -----------------------------------------------------------------------------------------
WZ = get_profile("wenzhou-2020")
BALANCE_CASES = [
    ("a point", shapely.Point(X, Y), "must be polygons, not Point"),
    ("a line", shapely.LineString([(X, Y), (X + 9, Y)]), "must be polygons, not LineString"),
    (
        "a collection",
        shapely.GeometryCollection([square(X + 100, Y + 100)]),
        "must be polygons, not GeometryCollection",
    ),
    ("empty", Polygon(), "neither removal nor addition"),
    (
        "self-crossing",
        Polygon([(X + 100, Y + 100), (X + 300, Y + 300), (X + 300, Y + 100), (X + 100, Y + 300)]),
        None,
    ),
    (
        "hole outside its shell",
        Polygon(square(X + 800, Y + 100).exterior.coords, [square(X + 1500, Y + 1500, 10).exterior.coords]),
        None,
    ),
    ("far outside the county", square(X + 1e7, Y), None),
    ("a nanometre square", box(X + 100, Y + 100, X + 100 + 1e-9, Y + 100 + 1e-9), None),
]


@pytest.mark.parametrize(("label", "geom", "says"), BALANCE_CASES, ids=[c[0] for c in BALANCE_CASES])
def test_hostile_geometries_in_an_adjustment(city: sa.Engine, label: str, geom, says: str | None) -> None:
    checked = attempt(
        "check_adjustment", city, check_adjustment, city, county="330302", addition=geom, profile=WZ
    )
    recorded = attempt(
        "record_adjustment",
        city,
        record_adjustment,
        city,
        county="330302",
        addition=geom,
        approval_doc=HOLDER,
        user="test",
        profile=WZ,
    )
    if says is not None:
        assert checked.refused and recorded.refused and says in checked.error.en and says in recorded.error.en
        return
    assert not checked.refused
    if checked.value.occupied_mu < 0.005 and checked.value.replaced_mu < 0.005:
        # nothing leaves or joins level 1 (inside it already, outside the county, a nanometre): a change of
        # nothing is refused, with a sentence, and nothing is written
        assert recorded.refused and "would change nothing" in recorded.error.en
        return
    assert not recorded.refused
    with city.connect() as conn:
        assert conn.execute(sa.text("""SELECT bool_and(ST_IsValid(geom)) FROM block_lines""")).scalar_one()
        doc = conn.execute(
            sa.text("SELECT approval_doc FROM adjustments WHERE id = :i"), {"i": recorded.value[0]}
        ).scalar_one()
    assert doc == HOLDER


@pytest.mark.parametrize(
    ("county", "doc", "says"),
    [
        ("'; DROP TABLE adjustments; --", "温政发〔2024〕1号", "no county"),
        ("330302", "   ", "approval document number is required"),
        ("330302", "", "approval document number is required"),
        ("330300", "温政发〔2024〕1号", "no county"),  # the city, not a county
    ],
)
def test_hostile_adjustment_parameters(city: sa.Engine, county: str, doc: str, says: str) -> None:
    outcome = attempt(
        "record_adjustment",
        city,
        record_adjustment,
        city,
        county=county,
        addition=square(X + 800, Y + 100),
        approval_doc=doc,
        user="test",
        profile=WZ,
    )
    assert outcome.refused and says in outcome.error.en
