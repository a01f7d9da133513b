"""`blockline demo --region zhejiang`: a province of 11 cities on the real county lines, one transaction.

What is checked is computed here, by PostGIS or by hand from the policy texts, not read from the generator:
the admin areas loaded, every parcel inside the county it is filed under, each city's parcels, the map's
squares adding up to the parcels, 义乌's contract terms (YW §5: start within 1 year of delivery, complete
within 3 years of delivery) beside Wenzhou's (WZ §6: start within 3 months), the enterprises named by their
own city.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from blockline.cli import app
from blockline.demo import load_demo

runner = CliRunner()
N = 4000


@pytest.fixture(scope="module")
def province(_engine: sa.Engine, owner_engine: sa.Engine) -> sa.Engine:
    from tests.conftest import empty_store

    empty_store(owner_engine)
    result = load_demo(_engine, user="test", n_parcels=N, seed=5, region="zhejiang")
    assert (result.inserted, result.updated, result.closed) == (N, 0, 0)
    return _engine


def test_the_province_s_areas_are_loaded(province: sa.Engine) -> None:
    with province.connect() as conn:
        levels = dict(conn.execute(sa.text("SELECT level, count(*) FROM admin_areas GROUP BY level")).all())
        parents = conn.execute(
            sa.text("""
            SELECT count(*) FROM admin_areas c JOIN admin_areas p ON p.code = c.parent_code
            WHERE (c.level = 'county' AND p.level = 'city') OR (c.level = 'city' AND p.code = '330000')""")
        ).scalar_one()
    assert levels == {"province": 1, "city": 11, "county": 90}
    assert parents == 101


def test_every_city_has_parcels_inside_their_county(province: sa.Engine) -> None:
    with province.connect() as conn:
        per_city = dict(
            conn.execute(
                sa.text("""
            SELECT a.parent_code, count(*) FROM parcels p JOIN admin_areas a ON a.code = p.county_code
            WHERE p.valid_to IS NULL GROUP BY 1""")
            ).all()
        )
        misplaced = conn.execute(
            sa.text("""
            SELECT count(*) FROM parcels p JOIN admin_areas a ON a.code = p.county_code
            WHERE p.valid_to IS NULL AND NOT ST_Covers(ST_Buffer(a.geom, 0.01), p.geom)""")
        ).scalar_one()
        numbers = conn.execute(
            sa.text("SELECT count(DISTINCT parcel_no), count(*) FROM parcels WHERE valid_to IS NULL")
        ).one()
        cells = conn.execute(sa.text("SELECT sum(parcels) FROM parcel_cells")).scalar_one()
        overlapping = conn.execute(
            sa.text("""
            SELECT count(*) FROM parcels a JOIN parcels b ON a.id < b.id AND a.geom && b.geom
            WHERE a.valid_to IS NULL AND b.valid_to IS NULL
              AND ST_Area(ST_Intersection(a.geom, b.geom)) > 0.01""")
        ).scalar_one()
    assert sorted(per_city) == [
        "330100",
        "330200",
        "330300",
        "330400",
        "330500",
        "330600",
        "330700",
        "330800",
        "330900",
        "331000",
        "331100",
    ]
    assert sum(per_city.values()) == N
    assert misplaced == 0 and overlapping == 0
    assert tuple(numbers) == (N, N)
    assert cells == N  # the map's squares count every parcel once


def test_the_squares_counted_city_by_city_are_those_postgis_counts(province: sa.Engine) -> None:
    """Each city's parcels are counted in as they are written, their cells found by shapely and pyproj
    (``geo.tiles_cells.cells_of``, ``count_in``).

    Recounted here by PostGIS from the parcels: each one's ``ST_PointOnSurface`` taken to Web Mercator by
    ``ST_Transform``, its cell the zoom-16 tile holding it; the counts, 亩 and low-efficiency 亩 of each cell
    and county, and the 亩 of each land use, county and low-efficiency value, against what the load stored.
    """
    import pandas as pd

    from geo.tiles_cells import CELL_M, HALF_WORLD

    with province.connect() as conn:
        parcels = pd.read_sql_query(
            sa.text(f"""
            SELECT id, county_code, land_use, is_low_efficiency, area_mu,
                   floor((ST_X(p) + {HALF_WORLD}) / {CELL_M})::int AS i,
                   floor(({HALF_WORLD} - ST_Y(p)) / {CELL_M})::int AS j
            FROM (SELECT *, ST_Transform(ST_PointOnSurface(geom), 3857) AS p FROM parcels
                  WHERE valid_to IS NULL) s"""),
            conn,
        )
        stored_of = {
            k: (i, j) for k, i, j in conn.execute(sa.text("SELECT parcel_id, i, j FROM parcel_cell_of")).all()
        }
        stored = {
            (i, j, c): (n, mu, low)
            for i, j, c, n, mu, low in conn.execute(sa.text("SELECT * FROM parcel_cells")).all()
        }
        values = {
            (b, i, j, c, v): mu
            for b, i, j, c, v, mu in conn.execute(sa.text("SELECT * FROM parcel_cell_values")).all()
        }
    assert stored_of == {k: (i, j) for k, i, j in zip(parcels["id"], parcels["i"], parcels["j"], strict=True)}
    parcels["low"] = parcels["area_mu"].where(parcels["is_low_efficiency"].fillna(False).astype(bool), 0.0)
    counted = parcels.groupby(["i", "j", "county_code"]).agg(
        n=("id", "size"), mu=("area_mu", "sum"), low=("low", "sum")
    )
    assert sorted(stored) == sorted(counted.index)
    for key, row in counted.iterrows():
        n, mu, low = stored[key]
        assert (n, mu, low) == (
            row["n"],
            pytest.approx(row["mu"], abs=1e-6),
            pytest.approx(row["low"], abs=1e-6),
        )
    parcels["is_low_efficiency"] = parcels["is_low_efficiency"].map({True: "true", False: "false"})
    expected = {}
    for by in ("land_use", "county_code", "is_low_efficiency"):
        for (i, j, c, v), mu in parcels.groupby(["i", "j", "county_code", by])["area_mu"].sum().items():
            expected[(by, i, j, c, v)] = mu
    assert sorted(values) == sorted(expected)
    assert all(values[k] == pytest.approx(mu, abs=1e-6) for k, mu in expected.items())


def test_yiwu_contracts_follow_yw_5_and_wenzhou_s_wz_6(province: sa.Engine) -> None:
    # YW §5: 交地后1年内开工、3年内竣工 → 12 and 36 months after delivery; WZ §6: 开工期一般为3个月.
    # A month here is 365.25 / 12 days, rounded: 3 → 91, 12 → 365, 36 → 1096 days.
    with province.connect() as conn:
        rows = dict(
            conn.execute(
                sa.text("""
            SELECT county_code = '330782',
                   array_agg(DISTINCT agreed_start_on - delivered_on ORDER BY agreed_start_on - delivered_on)
            FROM parcels WHERE valid_to IS NULL AND agreed_start_on IS NOT NULL AND delivered_on IS NOT NULL
            GROUP BY 1""")
            ).all()
        )
        yiwu_completion = conn.execute(
            sa.text("""
            SELECT array_agg(DISTINCT agreed_completion_on - delivered_on) FROM parcels
            WHERE valid_to IS NULL AND county_code = '330782' AND agreed_completion_on IS NOT NULL
              AND delivered_on IS NOT NULL""")
        ).scalar_one()
        yiwu_major_lease = conn.execute(
            sa.text(
                "SELECT max(lease_years) FROM parcels WHERE county_code = '330782' AND planned_investment >= 100000"
            )
        ).scalar_one()
    assert rows[True] == [365]
    assert rows[False] == [91]
    assert yiwu_completion == [1096]
    assert yiwu_major_lease is None or yiwu_major_lease <= 40  # YW §5: 重大项目 ≤ 40 years (WZ §6: 50)


def test_enterprises_are_named_by_their_own_city(province: sa.Engine) -> None:
    with province.connect() as conn:
        wrong = conn.execute(
            sa.text("""
            SELECT p.holder, a.name, c.name FROM parcels p JOIN admin_areas a ON a.code = p.county_code
            JOIN admin_areas c ON c.code = a.parent_code
            WHERE p.valid_to IS NULL AND NOT (p.holder LIKE c.name || '%' OR p.holder LIKE a.name || '%')
            LIMIT 5""")
        ).all()
    assert wrong == []


def test_the_command_names_the_region_and_refuses_an_unknown_one(province: sa.Engine) -> None:
    bad = runner.invoke(app, ["demo", "--region", "jiangsu", "--parcels", "100", "--format", "json"])
    assert bad.exit_code == 2, bad.output
    assert "zhejiang" in bad.output and "Traceback" not in bad.output
    with province.connect() as conn:  # nothing written by the refused command
        assert conn.execute(sa.text("SELECT count(*) FROM loads")).scalar_one() == 1
    good = runner.invoke(
        app, ["demo", "--region", "zhejiang", "--parcels", "1500", "--seed", "5", "--format", "json"]
    )
    assert good.exit_code == 0, good.output
    data = json.loads(good.stdout)
    assert (data["inserted"], data["closed"]) == (1500, N)
    assert "region=zhejiang" in data["file"]


def test_more_parcels_than_wenzhou_holds_is_refused_with_the_fix(province: sa.Engine) -> None:
    """1,000,000 parcels of ~24,000 m² gross need ~24,000 km²; Wenzhou's counties have 12,288 km²: exit 2, a
    message that names the way out, no traceback, nothing written (the province stays as loaded)."""
    with province.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM loads")).scalar_one()
    bad = runner.invoke(app, ["demo", "--parcels", "1000000", "--format", "json"])
    assert bad.exit_code == 2, bad.output
    assert "--region zhejiang" in bad.output and "Traceback" not in bad.output
    with province.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM loads")).scalar_one() == before


def test_yiwu_is_judged_by_its_own_text_under_the_wenzhou_deployment(
    province: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployment's profile is wenzhou-2020; 义乌市's parcels are judged by the Yiwu text (its jurisdiction),
    every other county's by Wenzhou's. The referee: the rules run here on each county's parcels under its text.
    Judged 211 parcels at a time, so that parts hold both texts' parcels, or one's, or the other's."""
    from blockline.services import judged as judged_module

    monkeypatch.setattr(judged_module, "PARCELS_PER_PART", 211)
    import datetime as dt

    import pandas as pd
    from pandas.testing import assert_frame_equal

    from blockline.services.judged import judge_city
    from tests.services.test_judged import _rows_read
    from zoning.idle import idle_findings, low_efficiency
    from zoning.lifecycle import lifecycle_findings
    from zoning.policy import get_profile

    as_of = dt.date(2026, 11, 1)
    wz, yw = get_profile("wenzhou-2020"), get_profile("yiwu")
    parcels, ratings = _rows_read(province)
    in_yiwu = (parcels["county_code"] == "330782").to_numpy()
    assert 10 < in_yiwu.sum() < len(parcels) / 10  # the 1,500-parcel province the command above loaded
    parts = {
        "yiwu": (parcels[in_yiwu].reset_index(drop=True), yw),
        "wz": (parcels[~in_yiwu].reset_index(drop=True), wz),
    }
    judged = judge_city(province, as_of=as_of, profile=wz)
    assert judged.county_policies == {"330782": "yiwu"}
    yiwu_nos = set(parts["yiwu"][0]["parcel_no"])
    for kind in ("idle", "lifecycle"):
        stored = judged.findings(kind)
        mine = stored["parcel_no"].isin(yiwu_nos).to_numpy()
        for name, (frame, profile) in parts.items():
            fresh = (
                idle_findings(frame, as_of=as_of, profile=profile)
                if kind == "idle"
                else lifecycle_findings(frame, ratings, as_of=as_of, profile=profile)
            )
            got = stored[mine if name == "yiwu" else ~mine].reset_index(drop=True)
            assert_frame_equal(got, fresh, check_exact=True)
            assert got["article"].str.startswith(f"{profile.name} ").all() and len(got) > 0
        # the Yiwu text gives 义乌's parcels other findings than Wenzhou's would (else this test proves nothing)
        under_wz = (
            idle_findings(parts["yiwu"][0], as_of=as_of, profile=wz)
            if kind == "idle"
            else lifecycle_findings(parts["yiwu"][0], ratings, as_of=as_of, profile=wz)
        )
        assert (
            set(under_wz["category"] + under_wz["parcel_no"])
            != set(stored.loc[mine, "category"] + stored.loc[mine, "parcel_no"])
            or kind == "idle"
        )
        head = json.loads("".join(judged.document(kind)))
        assert head["policy"] == "wenzhou-2020" and head["county_policies"] == {"330782": "yiwu"}
    low = sorted(
        no
        for frame, profile in parts.values()
        for no in frame.loc[
            low_efficiency(frame, ratings, as_of=as_of, profile=profile).to_numpy(), "parcel_no"
        ]
    )
    assert judged.low_efficiency() == low
    # the command's JSON says so too
    result = runner.invoke(app, ["idle", "--as-of", "2026-11-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["county_policies"] == {"330782": "yiwu"}
    # another profile named is a what-if: every parcel under it, none by county
    what_if = judge_city(province, as_of=as_of, profile=yw)
    assert what_if.county_policies == {} and what_if.id != judged.id
    assert what_if.findings("idle")["article"].str.startswith("yiwu ").all()
    assert "county_policies" not in json.loads("".join(what_if.document("idle")))
    assert pd.Series(what_if.low_efficiency()).isin(parcels["parcel_no"]).all()


def test_the_papers_of_a_yiwu_parcel_cite_the_yiwu_text(province: sa.Engine) -> None:
    """A 义乌 parcel's 闲置土地 notice and 履约核查函, made under the Wenzhou deployment, cite what its findings cite:
    the Yiwu profile, never Wenzhou's (a 认定书 must not cite another city's text)."""
    import datetime as dt

    from blockline.reports.document import Cover
    from blockline.reports.gather import contract_document, idle_document
    from blockline.reports.papers import CONTRACT_CATEGORIES, IDLE_CATEGORIES
    from blockline.services.judged import judge_city
    from zoning.policy import get_profile

    as_of = dt.date(2026, 11, 1)
    wz = get_profile("wenzhou-2020")
    judged = judge_city(province, as_of=as_of, profile=wz)
    with province.connect() as conn:
        yiwu = set(
            conn.execute(
                sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL AND county_code = '330782'")
            ).scalars()
        )
    made = 0
    for kind, wanted in (("idle", IDLE_CATEGORIES), ("lifecycle", CONTRACT_CATEGORIES)):
        f = judged.findings(kind)
        picked = f[f["parcel_no"].isin(yiwu) & f["category"].isin(wanted)]
        if picked.empty:
            continue
        no = picked["parcel_no"].iloc[0]
        cover = Cover(authority="义乌市自然资源和规划局", date=as_of, prepared_by="test")
        paper = (
            idle_document(province, parcel_no=no, kind="notice", profile=wz, as_of=as_of, cover=cover)
            if kind == "idle"
            else contract_document(province, parcel_no=no, profile=wz, as_of=as_of, cover=cover)
        )
        text = paper.text()
        assert "yiwu" in text and "wenzhou-2020" not in text, text
        for article in picked.loc[picked["parcel_no"] == no, "article"]:
            assert article in text
        made += 1
    assert made >= 1  # at least one of 义乌's parcels has such a finding (else nothing above was shown)
