"""占一补一 on hand-built boxes in EPSG:4549 whose answers are written down before the code runs.

Counties: 鹿城区 330302 = [X, X+2000] × [Y, Y+2000]; 瓯海区 330304 = [X+2000, X+4000] × [Y, Y+2000].
Level 1 of 鹿城: [X+100, X+700] × [Y+100, Y+700] = 600 m × 600 m = 360000 m² = 540 亩.
Level 2 of 鹿城: [X+800, X+1200] × [Y+100, Y+700].  Level 1 of 瓯海: [X+2100, X+2700] × [Y+100, Y+700].
A 100 m × 100 m box is 15 亩.
"""

from __future__ import annotations

import threading
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

from blockline.services.balance import check_adjustment, ledger, standing_balances
from blockline.services.ledger_record import record_adjustment
from geo.errors import InputError
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.zoning.conftest import LC, LC_L1, OH, WZ
from zoning.balance import Transfer, Unbalanced, parse_transfers


def _level1_mu(engine: sa.Engine, county: str) -> float:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("""SELECT coalesce(sum(ST_Area(geom)), 0) / (10000.0 / 15) FROM block_lines
            WHERE valid_to IS NULL AND level = 1 AND county_code = :c"""),
            {"c": county},
        ).scalar_one()


def _counts(engine: sa.Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("adjustments", "quota_transfers", "block_lines")
        )


def test_partial_removal_and_addition_across_level1_and_county_line(city: sa.Engine) -> None:
    removal = box(X + 600, Y + 100, X + 900, Y + 200)  # 100 m × 100 m inside level 1 = 15 亩; 30 亩 outside
    a1 = box(
        X + 1900, Y + 300, X + 2200, Y + 400
    )  # 15 亩 new in 鹿城, 15 亩 in 瓯海 (new), 15 亩 瓯海 level 1
    a2 = box(
        X + 600, Y + 600, X + 800, Y + 700
    )  # 15 亩 already level 1, 15 亩 new (neither level 2 nor industrial)
    check = check_adjustment(city, county=LC, removal=[removal], addition=[a1, a2], profile=WZ)
    assert check.occupied_mu == pytest.approx(15.0)
    assert check.replaced_mu == pytest.approx(30.0)
    assert check.removal_outside_level1_mu == pytest.approx(30.0)
    assert check.addition_already_level1_mu == pytest.approx(30.0)
    assert check.addition_outside_county_mu == pytest.approx(15.0)
    assert check.standing_balance_mu == 0 and check.balance_after_mu == pytest.approx(15.0)
    assert check.county_balanced and check.city_balanced
    assert check.level1_before_mu == pytest.approx(540.0) and check.level1_after_mu == pytest.approx(555.0)
    codes = {w["code"] for w in check.warnings}
    assert {"outside_county", "already_level1", "removal_outside_level1", "outside_industrial_land"} <= codes
    assert all(w["article"].startswith("wenzhou-2020 WZ §") for w in check.warnings)
    # both additions' new land outside level 2: a1's 15 亩 in 鹿城 and a2's 15 亩 → 30 亩 unfit
    unfit = next(w for w in check.warnings if w["code"] == "outside_industrial_land")
    assert "30.00" in unfit["message"]
    d = check.as_dict()
    assert set(d) >= {
        "county",
        "policy",
        "occupied_mu",
        "replaced_mu",
        "standing_balance_mu",
        "balance_after_mu",
        "county_balanced",
        "city_balance_after_mu",
        "city_balanced",
        "warnings",
    }
    assert d["policy"] == "wenzhou-2020" and d["county"] == LC


def test_adding_level1_land_changes_nothing(city: sa.Engine) -> None:
    check = check_adjustment(city, county=LC, addition=box(X + 200, Y + 200, X + 300, Y + 300), profile=WZ)
    assert check.replaced_mu == 0 and check.balance_after_mu == 0


def test_unbalanced_is_refused_and_nothing_written(city: sa.Engine) -> None:
    removal = box(X + 100, Y + 100, X + 700, Y + 200)  # 600 × 100 = 90 亩
    addition = box(X + 800, Y + 800, X + 1350, Y + 900)  # 550 × 100 = 82.5 亩
    check = check_adjustment(city, county=LC, removal=removal, addition=addition, profile=WZ)
    assert (round(check.occupied_mu, 2), round(check.replaced_mu, 2), round(check.balance_after_mu, 2)) == (
        90.0,
        82.5,
        -7.5,
    )
    assert not check.county_balanced and not check.city_balanced
    before = _counts(city)
    with pytest.raises(Unbalanced, match="7.50") as info:
        record_adjustment(
            city,
            county=LC,
            removal=removal,
            addition=addition,
            approval_doc="温政函〔2026〕1号",
            user="approver",
            profile=WZ,
        )
    assert info.value.exit_code == 1
    assert _counts(city) == before and _level1_mu(city, LC) == pytest.approx(540.0)


def test_transfer_makes_a_city_balanced_adjustment_recordable(city: sa.Engine) -> None:
    # 瓯海 adds 15 亩 of new level 1 with no removal: its balance becomes +15.
    record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="瓯政〔2026〕2号",
        user="approver",
        profile=WZ,
    )
    removal = box(X + 100, Y + 100, X + 700, Y + 200)
    addition = box(X + 800, Y + 800, X + 1350, Y + 900)
    check = check_adjustment(city, county=LC, removal=removal, addition=addition, profile=WZ)
    assert not check.county_balanced and check.city_balanced
    assert check.city_balance_after_mu == pytest.approx(7.5)
    with pytest.raises(Unbalanced, match="15.00"):  # 瓯海 cannot give 20 of its 15
        record_adjustment(
            city,
            county=LC,
            removal=removal,
            addition=addition,
            approval_doc="温政函〔2026〕3号",
            transfers=[Transfer(OH, 20.0)],
            user="approver",
            profile=WZ,
        )
    adj_id, _ = record_adjustment(
        city,
        county=LC,
        removal=removal,
        addition=addition,
        approval_doc="温政函〔2026〕3号",
        reason="市政道路",
        transfers=parse_transfers([f"{OH}:7.5"]),
        user="approver",
        profile=WZ,
    )
    with city.connect() as conn:
        balances = standing_balances(conn)
        closed = conn.execute(
            sa.text("SELECT count(*) FROM block_lines WHERE valid_to IS NOT NULL")
        ).scalar_one()
        l2_left = conn.execute(
            sa.text("""SELECT sum(ST_Area(geom)) FROM block_lines
            WHERE valid_to IS NULL AND level = 2""")
        ).scalar_one()
    assert balances[LC] == pytest.approx(0.0) and balances[OH] == pytest.approx(7.5)
    assert _level1_mu(city, LC) == pytest.approx(540 - 90 + 82.5)
    assert closed >= 1  # the old level-1 line was closed, not deleted
    # the addition took 1350-800 = 550 m... of which x∈[800,1200], y∈[800,900] was not level 2 (level 2 ends at Y+700)
    assert l2_left == pytest.approx(400 * 600)
    book = ledger(city)
    assert book["city_balance_mu"] == pytest.approx(7.5)
    entry = next(e for e in book["entries"] if e["id"] == adj_id)
    assert entry["approval_doc"] == "温政函〔2026〕3号" and entry["transfers"] == [
        {"from": OH, "to": LC, "mu": 7.5}
    ]
    assert {c["county"]: c["balance_mu"] for c in book["counties"]} == {LC: 0.0, OH: 7.5}
    # 鹿城's entry lowered the total of the moment by 7.5 亩, but 瓯海's earlier +15 covers it: the city is
    # 7.5 亩 above the loaded total (540 × 2 = 1080), so nothing fell, as the check said (city_balanced)
    moved = next(h for h in book["level1_history"] if h["adjustment_id"] == adj_id)
    assert moved["change_mu"] == pytest.approx(-7.5) and moved["level1_mu"] == pytest.approx(1087.5)
    assert not any(h["fell"] for h in book["level1_history"]) and not any(e["fell"] for e in book["entries"])
    assert entry["city_balance_after_mu"] == pytest.approx(7.5) and book["city_fell_by"] is None


def test_two_concurrent_records_cannot_spend_one_surplus(city: sa.Engine) -> None:
    record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="surplus",
        user="a",
        profile=WZ,
    )  # 瓯海 +15
    barrier = threading.Barrier(2, timeout=30)
    results: list[object] = []
    reads: list[float] = []

    def spend(offset: float) -> None:
        removal = box(X + 100 + offset, Y + 600, X + 200 + offset, Y + 700)  # 15 亩 of level 1, nothing added
        waited = []

        def both_have_read() -> None:
            reads.append(offset)
            if not waited:  # only on the first attempt: a retry runs alone
                waited.append(True)
                barrier.wait()

        try:
            record_adjustment(
                city,
                county=LC,
                removal=removal,
                approval_doc=f"doc-{offset}",
                transfers=[Transfer(OH, 15.0)],
                user="a",
                profile=WZ,
                on_checked=both_have_read,
            )
            results.append("ok")
        except Unbalanced:
            results.append("refused")

    # each takes 15 亩 out of 鹿城's level 1 and covers it with all 15 亩 of 瓯海's surplus: only one can
    threads = [threading.Thread(target=spend, args=(o,)) for o in (0.0, 200.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    # Both passed their check on the same surplus before either wrote (a naive recorder would spend it
    # twice); PostgreSQL aborted the loser, whose second check found the surplus gone and refused.
    assert sorted(reads) == [0.0, 200.0]
    with city.connect() as conn:
        balances = standing_balances(conn)
        n = conn.execute(
            sa.text("SELECT count(*) FROM adjustments WHERE county_code = :c"), {"c": LC}
        ).scalar_one()
    assert balances[OH] == pytest.approx(0.0) and balances[LC] == pytest.approx(0.0) and n == 1


def test_missing_doc_and_bad_transfer_are_refused(city: sa.Engine) -> None:
    from geo.errors import InputError

    with pytest.raises(InputError, match="--doc"):
        record_adjustment(
            city, county=LC, addition=box(X, Y, X + 10, Y + 10), approval_doc=" ", user="a", profile=WZ
        )
    with pytest.raises(InputError, match="FROM_CODE:MU"):
        parse_transfers(["330304=5"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.integers(100, 600), y=st.integers(100, 600), w=st.integers(1, 100), h=st.integers(1, 100))
def test_property_land_already_level1_adds_nothing(city: sa.Engine, x: int, y: int, w: int, h: int) -> None:
    inside = shapely.intersection(box(X + x, Y + y, X + x + w, Y + y + h), LC_L1)
    check = check_adjustment(city, county=LC, addition=inside, profile=WZ)
    assert check.replaced_mu == pytest.approx(0.0, abs=1e-9)
    assert check.balance_after_mu == pytest.approx(check.standing_balance_mu)


def test_cli_check_record_ledger(city: sa.Engine, tmp_path: Path) -> None:
    import json

    import openpyxl
    from typer.testing import CliRunner

    from blockline.cli import app

    runner = CliRunner()
    rem, add = tmp_path / "rem.geojson", tmp_path / "add.gpkg"
    gpd.GeoDataFrame(geometry=[box(X + 100, Y + 100, X + 700, Y + 200)], crs="EPSG:4549").to_crs(
        "EPSG:4326"
    ).to_file(rem)
    gpd.GeoDataFrame(geometry=[box(X + 800, Y + 800, X + 1350, Y + 900)], crs="EPSG:4549").to_file(add)
    result = runner.invoke(
        app, ["balance", "check", "--county", LC, "--remove", str(rem), "--add", str(add), "--format", "json"]
    )
    assert result.exit_code == 1, result.output  # unbalanced
    body = json.loads(result.stdout)
    assert list(body)[:11] == [
        "county",
        "county_name",
        "policy",
        "article",
        "occupied_mu",
        "replaced_mu",
        "standing_balance_mu",
        "balance_after_mu",
        "county_balanced",
        "city_balance_after_mu",
        "city_balanced",
    ]
    # through lon/lat and back the boxes keep their area to well under a hundredth of a 亩
    assert (body["occupied_mu"], body["replaced_mu"], body["balance_after_mu"]) == (90.0, 82.5, -7.5)
    assert body["policy"] == "wenzhou-2020" and body["county_balanced"] is False
    refused = runner.invoke(
        app,
        [
            "balance",
            "record",
            "--county",
            LC,
            "--remove",
            str(rem),
            "--add",
            str(add),
            "--doc",
            "温政函〔2026〕9号",
        ],
    )
    assert refused.exit_code == 1 and "7.50" in refused.stderr
    nothing = runner.invoke(app, ["balance", "record", "--county", OH, "--add", str(add), "--doc", "y"])
    assert (
        nothing.exit_code == 2
    )  # the addition lies in 鹿城: nothing for 瓯海, a change of nothing is refused
    ok = runner.invoke(
        app, ["balance", "record", "--county", LC, "--add", str(add), "--doc", "x", "--format", "json"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["replaced_mu"] == 82.5
    ledger_json = json.loads(runner.invoke(app, ["balance", "ledger", "--format", "json"]).stdout)
    assert set(ledger_json) >= {"counties", "city_balance_mu", "entries"}
    assert {c["county"] for c in ledger_json["counties"]} == {LC, OH}
    assert set(ledger_json["counties"][0]) >= {"county", "name", "balance_mu", "level1_mu"}
    xlsx = tmp_path / "台账.xlsx"
    assert runner.invoke(app, ["balance", "ledger", "--format", "xlsx", "-o", str(xlsx)]).exit_code == 0
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["台账", "各县余额", "一级线总量"]
    assert wb["台账"].cell(1, 4).value == "批复文号" and wb["台账"].cell(2, 4).value == "x"


@pytest.mark.parametrize(
    "make",
    [
        lambda: "POLYGON((0 0,1 0,1 1,0 0))",  # text, not a geometry
        lambda: 42,
        lambda: shapely.MultiPolygon([box(X + 100, Y + 100, X + 200, Y + 200), box(1e300, 0, 2e300, 1)]),
        lambda: shapely.Polygon([(X, Y), (float("nan"), Y), (X + 100, Y + 100), (X, Y)]),
    ],
    ids=["text", "number", "huge", "nan"],
)
def test_garbage_instead_of_a_geometry_is_refused_with_nothing_written(city: sa.Engine, make) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # making the garbage warns; refusing it must not
        bad = make()
    before = _counts(city)
    with pytest.raises(InputError):
        check_adjustment(city, county=LC, removal=bad, profile=WZ)
    with pytest.raises(InputError):
        record_adjustment(
            city,
            county=LC,
            removal=bad,
            addition=box(X + 800, Y + 800, X + 900, Y + 900),
            approval_doc="温政函〔2026〕9号",
            user="approver",
            profile=WZ,
        )
    assert _counts(city) == before


# -- one fact: "the city's level-1 total fell" is "not city-balanced" (issue 17 item 3) --------------------
@pytest.mark.parametrize(
    ("city_balance_mu", "fell"),
    [
        (-0.01, True),  # the boundary 0 − ε (a hundredth of a 亩 is what a planner reports)
        (0.0, False),  # the boundary: the sum of balances ≥ 0 is balanced
        (0.01, False),  # 0 + ε
        (-0.0051, True),
        (-0.005, False),  # the rounding tolerance EPSILON_MU (0.005 亩) itself
    ],
)
def test_city_level1_fell_at_its_boundary(city_balance_mu: float, fell: bool) -> None:
    from zoning.balance import city_level1_fell

    assert city_level1_fell(city_balance_mu) is fell


def test_ledger_names_the_entry_that_made_the_city_total_fall(city: sa.Engine) -> None:
    # An entry kept from the paper ledger (entered before the check existed): 鹿城 gave up 15 亩 of level 1
    # with nothing in return. The recorder refuses such an entry today; the ledger must still say it fell.
    with city.begin() as conn:
        old = conn.execute(
            sa.text("""
            INSERT INTO adjustments (county_code, policy, approval_doc, recorded_by, occupied_mu, replaced_mu,
                                     balance_before_mu, balance_after_mu)
            VALUES (:c, 'wenzhou-2020', '温政函〔2019〕7号', 'paper', 15, 0, 0, -15) RETURNING id"""),
            {"c": LC},
        ).scalar_one()
    book = ledger(city)
    assert book["city_balance_mu"] == pytest.approx(-15.0) and book["city_balanced"] is False
    assert book["city_fell_by"] == old
    assert [(e["id"], e["fell"], e["city_balance_after_mu"]) for e in book["entries"]] == [(old, True, -15.0)]
    # a check now agrees: the city is 15 亩 short before anything else happens
    check = check_adjustment(city, county=OH, addition=box(X + 2100, Y + 800, X + 2200, Y + 900), profile=WZ)
    assert check.city_balance_after_mu == pytest.approx(0.0) and check.city_balanced  # 15 new 亩 cover it
    # 瓯海 adds 15 亩 of new level 1: the city is back at its loaded total, nothing has fallen any more
    new, _ = record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="瓯政〔2026〕8号",
        user="approver",
        profile=WZ,
    )
    book = ledger(city)
    assert [(e["id"], e["fell"]) for e in book["entries"]] == [(old, True), (new, False)]
    assert book["city_fell_by"] is None and book["city_balanced"] is True
    assert next(h for h in book["level1_history"] if h["adjustment_id"] == new)["fell"] is False


# -- an adjustment that changes nothing is refused (issue 19 item 2) --------------------------------------
@pytest.mark.parametrize(
    ("height_m", "refused"),
    [
        # a 1 m wide strip of new land in 鹿城 (outside both lines): 0.005 亩 = 10/3 m², the tolerance below
        # which a balance is rounding; ε = 0.001 亩 = 2/3 m² either side
        (8 / 3, True),  # 0.004 亩
        (4.0, False),  # 0.006 亩
    ],
)
def test_an_adjustment_of_next_to_nothing_at_the_boundary(
    city: sa.Engine, height_m: float, refused: bool
) -> None:
    strip = box(X + 1500, Y + 1500, X + 1501, Y + 1500 + height_m)
    before = _counts(city)
    if refused:
        with pytest.raises(InputError, match="would change nothing") as info:
            record_adjustment(
                city, county=LC, addition=strip, approval_doc="温政函〔2026〕21号", user="a", profile=WZ
            )
        assert info.value.exit_code == 2 and _counts(city) == before
    else:
        _, check = record_adjustment(
            city, county=LC, addition=strip, approval_doc="温政函〔2026〕21号", user="a", profile=WZ
        )
        assert check.replaced_mu == pytest.approx(0.006)


def test_an_adjustment_in_another_county_changes_nothing_and_is_refused(city: sa.Engine) -> None:
    elsewhere = box(X + 2100, Y + 800, X + 2200, Y + 900)  # 15 亩 of new land, but in 瓯海
    check = check_adjustment(city, county=LC, addition=elsewhere, profile=WZ)
    assert (check.occupied_mu, check.replaced_mu) == (0.0, 0.0)
    assert "no_change" in {w["code"] for w in check.warnings}  # the check says it plainly
    before = _counts(city)
    with pytest.raises(InputError, match="would change nothing") as info:
        record_adjustment(
            city, county=LC, addition=elsewhere, approval_doc="温政函〔2026〕22号", user="a", profile=WZ
        )
    assert "outside county 330302" in info.value.en  # and why: the land lies in another county
    assert _counts(city) == before


# -- exactly once (issue 19 item 1) -------------------------------------------------------------------------
def test_a_document_is_recorded_once_and_a_request_replays(city: sa.Engine) -> None:
    from zoning.balance import normalise_doc

    first = box(X + 1300, Y + 1300, X + 1400, Y + 1400)  # 15 亩 of new level 1 in 鹿城
    adj, check = record_adjustment(
        city, county=LC, addition=first, approval_doc="温政函〔2026〕5号", user="a", profile=WZ
    )
    assert not check.replayed and check.replaced_mu == pytest.approx(15.0)
    after_first = _counts(city)
    # the same request again (the document written with full-width digits and brackets): the first result
    again, replay = record_adjustment(
        city, county=LC, addition=first, approval_doc="温政函［２０２６］5号", user="a", profile=WZ
    )
    assert (again, replay.replayed, replay.replaced_mu) == (adj, True, pytest.approx(15.0))
    assert _counts(city) == after_first
    # another request with the same document: refused, naming the entry
    for doc in ("温政函〔2026〕5号", " 温政函 (2026) 5 号", "温政函【2026】5号"):
        assert normalise_doc(doc) == "温政函〔2026〕5号"
        with pytest.raises(InputError, match=f"#{adj}") as info:
            record_adjustment(
                city,
                county=LC,
                addition=box(X + 1500, Y + 1300, X + 1600, Y + 1400),
                approval_doc=doc,
                user="a",
                profile=WZ,
            )
        assert info.value.exit_code == 2 and "recorded once" in info.value.en
    # an explicit key reused for a different request is refused too; a new key with a new document records
    with pytest.raises(InputError, match="different content"):
        record_adjustment(
            city,
            county=LC,
            addition=box(X + 1500, Y + 1300, X + 1600, Y + 1400),
            approval_doc="温政函〔2026〕6号",
            user="a",
            profile=WZ,
            request_id=replay.request_id,
        )
    assert _counts(city) == after_first
    second, _ = record_adjustment(
        city,
        county=LC,
        addition=box(X + 1500, Y + 1300, X + 1600, Y + 1400),
        approval_doc="温政函〔2026〕6号",
        user="a",
        profile=WZ,
        request_id="req-6",
    )
    with city.connect() as conn:
        assert standing_balances(conn)[LC] == pytest.approx(30.0)
        keys = conn.execute(sa.text("SELECT approval_doc_key, request_id FROM adjustments ORDER BY id")).all()
    assert [tuple(k) for k in keys] == [
        ("温政函〔2026〕5号", replay.request_id),
        ("温政函〔2026〕6号", "req-6"),
    ]
    assert second == adj + 1


@pytest.mark.parametrize(("height_m", "flagged"), [(33.0, True), (100 / 3, False), (33.5, False)])
def test_a_sliver_is_an_addition_piece_under_the_threshold_as_reported(
    city: sa.Engine, height_m: float, flagged: bool
) -> None:
    # 20 m × 33 m = 660 m² = 0.99 亩 (不足 1 亩: a sliver); 20 m × 100/3 m = 1 亩 exactly, up to floating noise
    # (not one); 20 m × 33.5 m = 1.005 亩 (not one). Outside 鹿城's level 1 (X+100…X+700), inside the county.
    piece = box(X + 1000, Y + 1000, X + 1020, Y + 1000 + height_m)
    check = check_adjustment(city, county=LC, addition=piece, profile=WZ)
    assert check.replaced_mu == pytest.approx(20 * height_m / (10000 / 15))
    assert any(w["code"] == "sliver" for w in check.warnings) is flagged
