"""Who may write, checked where the write happens, and the audit trail the database will not let anyone rewrite.

The city is tests.files.load_two_county_city (鹿城 LC = 330302, 瓯海 OH = 330304). A balanced adjustment in
鹿城: remove 600 m × 100 m of level 1 (90 亩), add 600 m × 100 m outside it (90 亩).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from psycopg.errors import InsufficientPrivilege
from shapely.geometry import box

from blockline.services.ledger_record import record_adjustment
from blockline.services.zones_store import save_zone
from geo.audit import read_audit
from geo.auth import NotPermitted, add_user, authenticate, disable_user, list_users, set_password
from geo.drafts import new_sketch, save_drafts
from geo.load import load_parcels
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from zoning.policy import get_profile

from .conftest import LC, OH

WZ = get_profile("wenzhou-2020")
REMOVAL = box(X + 100, Y + 100, X + 700, Y + 200)  # 90 亩 of 鹿城's level 1
ADDITION = box(X + 800, Y + 800, X + 1400, Y + 900)  # 90 亩 outside any line
PASSWORD = "correct horse battery"


def last_audit_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit")).scalar_one())


def audit_after(engine: sa.Engine, start: int):
    """The audit rows written after row ``start``, newest first."""
    trail = read_audit(engine)
    return trail[trail["id"] > start]


def counts(engine: sa.Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("adjustments", "quota_transfers", "block_lines", "loads", "zones", "drafts")
        )


@pytest.fixture
def staff(city: sa.Engine) -> sa.Engine:
    """An admin (the first user, added in setup mode), and one user per role; 'lc_approver' only for 鹿城."""
    add_user(city, "admin", PASSWORD, roles=["admin"], by="installer")
    for name, roles, counties in [
        ("viewer", ["viewer"], []),
        ("planner", ["planner"], []),
        ("approver", ["approver"], []),
        ("lc_approver", ["approver"], [LC]),
        ("officer", ["data_officer"], []),
    ]:
        add_user(city, name, PASSWORD, roles=roles, counties=counties, by="admin")
    return city


def test_setup_mode_ends_with_the_first_user_and_user_changes_are_audited(city: sa.Engine) -> None:
    start = last_audit_id(city)
    add_user(
        city, "admin", PASSWORD, roles=["admin"], by="installer"
    )  # no user yet: anyone may add the first
    with pytest.raises(NotPermitted):
        add_user(city, "mallory", PASSWORD, roles=["admin"], by="mallory")  # now only an admin may
    add_user(city, "li", PASSWORD, roles=["planner"], counties=[LC], by="admin")
    set_password(city, "li", "another long secret", by="li")
    with pytest.raises(NotPermitted):
        set_password(city, "admin", "taken over at last", by="li")
    disable_user(city, "li", by="admin")
    users = list_users(city).set_index("name")
    assert (
        users.loc["li", "roles"] == "planner"
        and users.loc["li", "counties"] == LC
        and users.loc["li", "disabled"]
    )
    assert "password_hash" not in users.columns
    trail = audit_after(city, start)
    assert trail.sort_values("id")[["actor", "action", "target"]].values.tolist() == [
        ["installer", "user.add", "admin"],
        ["admin", "user.add", "li"],
        ["li", "user.passwd", "li"],
        ["admin", "user.disable", "li"],
    ]


def test_sign_in(staff: sa.Engine) -> None:
    actor = authenticate(staff, "lc_approver", PASSWORD)
    assert actor is not None and actor.roles == {"approver"} and actor.counties == {LC}
    assert authenticate(staff, "lc_approver", "wrong password!") is None
    assert authenticate(staff, "nobody", PASSWORD) is None
    disable_user(staff, "lc_approver", by="admin")
    assert authenticate(staff, "lc_approver", PASSWORD) is None
    with staff.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users WHERE name = 'viewer'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize("user", ["viewer", "planner", "officer", "admin", "nobody"])
def test_only_an_approver_records_and_nothing_is_written_otherwise(staff: sa.Engine, user: str) -> None:
    before, audit_before = counts(staff), last_audit_id(staff)
    with pytest.raises(NotPermitted) as info:
        record_adjustment(
            staff,
            county=LC,
            removal=REMOVAL,
            addition=ADDITION,
            approval_doc="温政函〔2026〕9号",
            user=user,
            profile=WZ,
        )
    assert info.value.exit_code == 4
    assert counts(staff) == before and last_audit_id(staff) == audit_before


def test_a_county_limited_approver_records_in_their_county_only(staff: sa.Engine) -> None:
    with pytest.raises(NotPermitted, match=OH):
        record_adjustment(
            staff,
            county=OH,
            addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
            approval_doc="瓯政〔2026〕2号",
            user="lc_approver",
            profile=WZ,
        )
    start = last_audit_id(staff)
    adj_id, _ = record_adjustment(
        staff,
        county=LC,
        removal=REMOVAL,
        addition=ADDITION,
        approval_doc="温政函〔2026〕9号",
        user="lc_approver",
        profile=WZ,
    )
    row = audit_after(staff, start).iloc[0]
    assert (row["actor"], row["action"], row["approval_doc"]) == (
        "lc_approver",
        "adjustment.record",
        "温政函〔2026〕9号",
    )
    assert row["target"] == f"adjustment {adj_id} ({LC})"
    assert row["before"]["balance_mu"] == pytest.approx(0.0)
    assert (row["after"]["occupied_mu"], row["after"]["replaced_mu"]) == (
        pytest.approx(90.0),
        pytest.approx(90.0),
    )
    assert row["before"]["city_level1_mu"] - row["after"]["city_level1_mu"] == pytest.approx(
        0.0
    )  # 540+540 both


def test_loads_drafts_and_zones_need_their_roles(staff: sa.Engine, tmp_path) -> None:
    gpd.GeoDataFrame(
        {"宗地编号": ["R-1"]}, geometry=[box(X + 900, Y + 900, X + 1000, Y + 1000)], crs="EPSG:4549"
    ).to_file(tmp_path / "p.gpkg", engine="pyogrio")
    before = counts(staff)
    for user in ("viewer", "planner", "approver"):
        with pytest.raises(NotPermitted):
            load_parcels(staff, tmp_path / "p.gpkg", user=user)
    assert counts(staff) == before
    start = last_audit_id(staff)
    result = load_parcels(staff, tmp_path / "p.gpkg", user="officer")
    row = audit_after(staff, start).iloc[0]
    assert (row["actor"], row["action"], row["after"]["inserted"]) == ("officer", "load.parcels", 1)
    assert row["target"].startswith(f"load {result.load_id}: ")
    square = {
        "type": "Polygon",
        "coordinates": [[[120.6, 28.0], [120.601, 28.0], [120.601, 28.001], [120.6, 28.0]]],
    }
    with pytest.raises(NotPermitted):
        save_drafts(staff, new_sketch(), "zones:zone", [square], user="viewer")
    assert save_drafts(staff, new_sketch(), "zones:zone", [square], user="planner") == 1
    with pytest.raises(NotPermitted):
        save_zone(
            staff,
            name="北片",
            geometry=ADDITION,
            assessment={"area_mu": 90.0},
            requirements={},
            user="lc_approver",
            county_code=OH,
        )
    zone_id = save_zone(
        staff,
        name="北片",
        geometry=ADDITION,
        assessment={"area_mu": 90.0},
        requirements={},
        user="planner",
        county_code=LC,
    )
    assert read_audit(staff, action="zone.").iloc[0]["target"] == f"zone {zone_id}: 北片"


def test_the_database_refuses_to_rewrite_the_audit_trail_and_the_records(staff: sa.Engine) -> None:
    record_adjustment(
        staff,
        county=LC,
        removal=REMOVAL,
        addition=ADDITION,
        approval_doc="温政函〔2026〕9号",
        user="approver",
        profile=WZ,
    )
    for statement in (
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "DELETE FROM adjustments",
        "DELETE FROM loads",
    ):
        with pytest.raises(sa.exc.ProgrammingError) as info, staff.begin() as conn:
            conn.execute(sa.text(statement))
        assert isinstance(info.value.orig, InsufficientPrivilege)
        # the app's role has no right to change the audit trail at all; the records' triggers refuse the rest
        assert (
            "permission denied for table audit" if "audit" in statement else "cannot be rewritten"
        ) in str(info.value.orig)
    assert set(read_audit(staff)["actor"]) >= {"installer", "admin", "approver"}
