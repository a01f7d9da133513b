"""占一补一 (WZ §5) on the store: an adjustment checked against the current lines and ledger, and the ledger.

The geometry work runs in PostGIS, in one statement per question, so a check at city scale takes a fraction
of a second. :func:`check_adjustment` writes nothing; :func:`ledger` and :func:`level1_history` read the
台账. Recording is ``blockline.services.ledger_record``'s; the rules are ``zoning.balance``'s.
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import M2_PER_MU
from geo.clock import shown, shown_iso
from geo.errors import InputError
from geo.fixes import fix
from geo.landuse import industrial_land_uses, label
from geo.store import storage_srid
from zoning.balance import EPSILON_MU, BalanceCheck, balance_after, city_level1_fell, geometry_param
from zoning.policy import Profile

__all__ = ["check_adjustment", "check_on", "ledger", "level1_history", "standing_balances"]

_CHECK_SQL = """
WITH
county AS (SELECT code, name, geom FROM admin_areas WHERE code = :county),
l1c AS (SELECT ST_Union(geom) AS geom FROM block_lines WHERE valid_to IS NULL AND level = 1 AND county_code = :county),
rem AS (SELECT ST_MakeValid(ST_GeomFromEWKB(decode(:removal, 'hex'))) AS geom),
add AS (SELECT ST_MakeValid(ST_GeomFromEWKB(decode(:addition, 'hex'))) AS geom),
l1 AS (SELECT ST_Union(b.geom) AS geom FROM block_lines b, add
       WHERE b.valid_to IS NULL AND b.level = 1 AND ST_Intersects(b.geom, add.geom)),
l2 AS (SELECT ST_Union(b.geom) AS geom FROM block_lines b, county c
       WHERE b.valid_to IS NULL AND b.level = 2 AND ST_Intersects(b.geom, c.geom)),
occ AS (SELECT CASE WHEN rem.geom IS NULL OR l1c.geom IS NULL THEN NULL
                    ELSE ST_CollectionExtract(ST_Intersection(rem.geom, l1c.geom), 3) END AS geom FROM rem, l1c),
new_land AS (SELECT CASE WHEN add.geom IS NULL THEN NULL
                         WHEN l1.geom IS NULL THEN add.geom
                         ELSE ST_CollectionExtract(ST_Difference(add.geom, l1.geom), 3) END AS geom FROM add, l1),
rep AS (SELECT ST_CollectionExtract(ST_Intersection(n.geom, c.geom), 3) AS geom FROM new_land n, county c),
industrial AS (
    SELECT ST_Union(p.geom) AS geom FROM parcels p, add
    WHERE p.valid_to IS NULL AND ST_Intersects(p.geom, add.geom)
      AND p.land_use = ANY(:industrial)),
non_industrial AS (
    SELECT p.parcel_no, p.land_use, ST_Area(ST_Intersection(p.geom, rep.geom)) AS m2
    FROM parcels p, rep
    WHERE p.valid_to IS NULL AND rep.geom IS NOT NULL AND ST_Intersects(p.geom, rep.geom)
      AND p.land_use IS NOT NULL
      AND NOT p.land_use = ANY(:industrial))
SELECT
    (SELECT name FROM county) AS county_name,
    coalesce(ST_Area(occ.geom), 0) AS occupied_m2,
    coalesce(ST_Area(rep.geom), 0) AS replaced_m2,
    coalesce((SELECT ST_Area(geom) FROM l1c), 0) AS level1_m2,
    coalesce(ST_Area(rem.geom), 0) AS removal_m2,
    coalesce(ST_Area(add.geom), 0) AS addition_m2,
    coalesce(ST_Area(new_land.geom), 0) AS new_land_m2,
    CASE WHEN rep.geom IS NULL OR ST_IsEmpty(rep.geom) THEN 0
         ELSE ST_Area(ST_Difference(rep.geom, ST_Union(
             coalesce((SELECT geom FROM l2), ST_SetSRID('POLYGON EMPTY'::geometry, ST_SRID(rep.geom))),
             coalesce((SELECT geom FROM industrial), ST_SetSRID('POLYGON EMPTY'::geometry, ST_SRID(rep.geom))))))
         END AS outside_industrial_m2,
    (SELECT json_agg(json_build_object('parcel_no', parcel_no, 'land_use', land_use, 'm2', m2))
     FROM non_industrial WHERE m2 > 1) AS non_industrial,
    (SELECT json_agg(ST_Area(d.geom)) FROM ST_Dump(rep.geom) d) AS piece_m2,
    ST_AsEWKB(occ.geom) AS occ_wkb,
    ST_AsEWKB(rep.geom) AS rep_wkb
FROM occ, rep, rem, add, new_land
"""

_BALANCES_SQL = """
SELECT a.code,
       coalesce((SELECT sum(replaced_mu - occupied_mu) FROM adjustments j WHERE j.county_code = a.code), 0)
     + coalesce((SELECT sum(mu) FROM quota_transfers t WHERE t.to_county = a.code), 0)
     - coalesce((SELECT sum(mu) FROM quota_transfers t WHERE t.from_county = a.code), 0) AS balance
FROM admin_areas a WHERE a.level = 'county' ORDER BY a.code
"""


def standing_balances(conn: Connection) -> dict[str, float]:
    """Every county's standing 占补 balance (亩): recorded adjustments and transfers so far."""
    return {code: float(b) for code, b in conn.execute(sa.text(_BALANCES_SQL)).all()}


def _level1_totals(conn: Connection) -> dict[str, float]:
    rows = conn.execute(
        sa.text("""
        SELECT county_code, sum(ST_Area(geom)) FROM block_lines WHERE valid_to IS NULL AND level = 1
        GROUP BY county_code""")
    ).all()
    return {c: float(m2) / M2_PER_MU for c, m2 in rows}


def check_on(conn: Connection, *, county: str, removal: Any, addition: Any, profile: Profile) -> BalanceCheck:
    """:func:`check_adjustment` on an open connection (the recording's transaction reads what it checks)."""
    row = _measure(conn, county=county, removal=removal, addition=addition)
    occupied = row["occupied_m2"] / M2_PER_MU
    replaced = row["replaced_m2"] / M2_PER_MU
    balances = standing_balances(conn)
    standing = balances.get(county, 0.0)
    after = balance_after(standing_mu=standing, occupied_mu=occupied, replaced_mu=replaced)
    city_after = sum(balances.values()) + replaced - occupied
    level1 = _level1_totals(conn)
    level1_before = row["level1_m2"] / M2_PER_MU
    outside_county = (row["new_land_m2"] - row["replaced_m2"]) / M2_PER_MU
    already = (row["addition_m2"] - row["new_land_m2"]) / M2_PER_MU
    removal_outside = (row["removal_m2"] - row["occupied_m2"]) / M2_PER_MU
    return BalanceCheck(
        county=county,
        county_name=row["county_name"],
        policy=profile.name,
        article=profile.cite("balance.occupy_replace"),
        occupied_mu=occupied,
        replaced_mu=replaced,
        standing_balance_mu=standing,
        balance_after_mu=after,
        county_balanced=after >= -EPSILON_MU,
        city_balance_after_mu=city_after,
        city_balanced=not city_level1_fell(city_after),
        level1_before_mu=level1_before,
        level1_after_mu=level1_before - occupied + replaced,
        city_level1_before_mu=sum(level1.values()),
        city_level1_after_mu=sum(level1.values()) - occupied + replaced,
        removal_outside_level1_mu=max(removal_outside, 0.0),
        addition_already_level1_mu=max(already, 0.0),
        addition_outside_county_mu=max(outside_county, 0.0),
        warnings=_warnings(row, county=county, profile=profile),
        occupied_wkb=bytes(row["occ_wkb"]) if row["occ_wkb"] is not None else None,
        replaced_wkb=bytes(row["rep_wkb"]) if row["rep_wkb"] is not None else None,
    )


def _measure(conn: Connection, *, county: str, removal: Any, addition: Any) -> sa.RowMapping:
    """The areas of the adjustment in county ``county`` (``_CHECK_SQL``), once the county and drawings are checked."""
    srid = storage_srid(conn)
    if (
        conn.execute(
            sa.text("SELECT 1 FROM admin_areas WHERE code = :c AND level = 'county'"), {"c": county}
        ).first()
        is None
    ):
        raise InputError(
            f"没有县级行政区 {county}", f"no county {county} among the loaded boundaries", **fix("county")
        )
    rem = geometry_param(removal, srid, what="调出范围/removal")
    add = geometry_param(addition, srid, what="补入范围/addition")
    if rem is None and add is None:
        raise InputError(
            "调整方案既无调出也无补入范围",
            "the adjustment has neither removal nor addition",
            **fix("remove_add"),
        )
    return (
        conn.execute(
            sa.text(_CHECK_SQL),
            {
                "county": county,
                "removal": rem,
                "addition": add,
                "industrial": industrial_land_uses(conn),
            },
        )
        .mappings()
        .one()
    )


def _warnings(row: sa.RowMapping, *, county: str, profile: Profile) -> list[dict[str, str]]:
    """What a planner should look at before recording, in the order they read it (code, message, article)."""
    cite = profile.cite("balance.occupy_replace")
    fit = cite  # fit for industry (WZ §4) is judged with geo.landuse: 工业用地 of any standard, not 仓储
    warnings: list[dict[str, str]] = []

    def warn(code: str, zh: str, en: str, article: str = cite) -> None:
        warnings.append({"code": code, "message": f"{zh} / {en}", "article": article})

    outside_county = (row["new_land_m2"] - row["replaced_m2"]) / M2_PER_MU
    already = (row["addition_m2"] - row["new_land_m2"]) / M2_PER_MU
    removal_outside = (row["removal_m2"] - row["occupied_m2"]) / M2_PER_MU
    if outside_county > EPSILON_MU:
        warn(
            "outside_county",
            f"补入范围有 {outside_county:.2f} 亩位于 {county} 之外，不计入该县",
            f"{outside_county:.2f} mu of the addition lie outside county {county} and do not count",
        )
    if already > EPSILON_MU:
        warn(
            "already_level1",
            f"补入范围有 {already:.2f} 亩已在一级线内，不计入补充面积",
            f"{already:.2f} mu of the addition are already level 1 and count for nothing",
        )
    if removal_outside > EPSILON_MU:
        warn(
            "removal_outside_level1",
            f"调出范围有 {removal_outside:.2f} 亩不在该县一级线内，不计入占用面积",
            f"{removal_outside:.2f} mu of the removal are not level 1 of the county and do not count",
        )
    outside_ind = row["outside_industrial_m2"] / M2_PER_MU
    if outside_ind > EPSILON_MU:
        warn(
            "outside_industrial_land",
            f"补入范围有 {outside_ind:.2f} 亩既不在二级线内也不在工业用地上，是否适宜工业需核实",
            f"{outside_ind:.2f} mu of the addition lie neither in a level-2 line nor on industrial land: "
            "check they suit industry",
            fit,
        )
    for item in row["non_industrial"] or []:
        warn(
            "non_industrial_use",
            f"补入范围与非工业用途宗地 {item['parcel_no']}（{label(item['land_use'])}）"
            f"重叠 {item['m2'] / M2_PER_MU:.2f} 亩",
            f"the addition overlaps parcel {item['parcel_no']} of non-industrial use {label(item['land_use'], 'en')} "
            f"by {item['m2'] / M2_PER_MU:.2f} mu",
            fit,
        )
    sliver = profile.value("balance.sliver_min_mu")
    small = [
        m2 / M2_PER_MU
        for m2 in (row["piece_m2"] or [])  # 不足: below the threshold as planners report it
        if 0 < m2 / M2_PER_MU < sliver - EPSILON_MU
    ]
    if small:
        warn(
            "sliver",
            f"补入范围中有 {len(small)} 块小于 {sliver:g} 亩的碎片（合计 {sum(small):.2f} 亩）",
            f"{len(small)} piece(s) of the addition are smaller than {sliver:g} mu ({sum(small):.2f} mu in all)",
            profile.cite("balance.sliver_min_mu"),
        )
    occupied = row["occupied_m2"] / M2_PER_MU
    replaced = row["replaced_m2"] / M2_PER_MU
    if occupied < EPSILON_MU and replaced < EPSILON_MU:
        warn(
            "no_change",
            "该方案既不占用也不补充本县一级线（0 亩），记录它不会改变任何东西",
            f"the adjustment neither takes land out of nor adds land to county {county}'s level 1 (0 mu): "
            "recording it would change nothing",
        )
    return warnings


def check_adjustment(
    engine: Engine,
    *,
    county: str,
    removal: Any = None,
    addition: Any = None,
    profile: Profile,
) -> BalanceCheck:
    """Check an adjustment of county ``county`` against the current block lines and ledger; writes nothing.

    ``removal`` and ``addition`` are polygons (or sequences of polygons) in the storage CRS.
    """
    with engine.connect() as conn:
        return check_on(conn, county=county, removal=removal, addition=addition, profile=profile)


def level1_history(engine: Engine) -> pd.DataFrame:
    """The city's level-1 total (亩) through time: one row per change, the adjustment that made it if any.

    ``fell`` is the ledger's fact for that adjustment (``city_level1_fell`` of the city's balance after it):
    an adjustment covered by a transfer lowers the total of the moment without making the city's total fall
    below what the lines were loaded with. A load of lines (no adjustment) sets what they were loaded with.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT at, sum(delta) AS delta, max(adjustment_id) AS adjustment_id FROM (
                SELECT valid_from AS at, ST_Area(geom) AS delta, adjustment_id FROM block_lines WHERE level = 1
                UNION ALL
                SELECT valid_to, -ST_Area(geom), NULL FROM block_lines WHERE level = 1 AND valid_to IS NOT NULL) e
            GROUP BY at ORDER BY at""")
        ).all()
        city_after = _city_balances_after(conn)
    frame = pd.DataFrame(rows, columns=["at", "delta_m2", "adjustment_id"])
    frame["level1_mu"] = frame["delta_m2"].cumsum() / M2_PER_MU
    frame["change_mu"] = frame["delta_m2"] / M2_PER_MU
    frame["adjustment_id"] = pd.Series(
        [None if pd.isna(a) else int(a) for a in frame["adjustment_id"]], index=frame.index, dtype=object
    )
    frame["fell"] = [
        a is not None and city_level1_fell(city_after.get(a, 0.0)) for a in frame["adjustment_id"]
    ]
    return frame[["at", "level1_mu", "change_mu", "adjustment_id", "fell"]]


def _city_balances_after(conn: Connection) -> dict[int, float]:
    """The city's balance (亩) after each recorded adjustment, in the order they were recorded.

    Transfers move balance between counties and leave the city's sum unchanged, so the city's balance after
    an entry is the running sum of (replaced − occupied) over the entries up to it.
    """
    return {
        int(i): float(b)
        for i, b in conn.execute(
            sa.text("""
        SELECT id, sum(replaced_mu - occupied_mu) OVER (ORDER BY recorded_at, id) FROM adjustments""")
        ).all()
    }


def _fall_of(entries: list[dict[str, Any]]) -> int | None:
    """The entry that made the city's level-1 total fall, if it is fallen now: the last one that took it under."""
    culprit: int | None = None
    was_fallen = False
    for e in entries:
        if e["fell"] and not was_fallen:
            culprit = e["id"]
        was_fallen = e["fell"]
    return culprit if was_fallen else None


def ledger(engine: Engine) -> dict[str, Any]:
    """The 台账: every county's balance and level-1 area, the city total, every entry, the total through time.

    Every entry carries the city's balance after it and ``fell`` (the city's level-1 total below what the
    lines were loaded with after it: the negation of the check's ``city_balanced``, by ``city_level1_fell``);
    ``city_fell_by`` names the entry that made the city's total fall, or is None while it has not fallen.
    """
    with engine.connect() as conn:
        balances = standing_balances(conn)
        level1 = _level1_totals(conn)
        city_after = _city_balances_after(conn)
        names: dict[str, str] = dict(
            conn.execute(sa.text("SELECT code, name FROM admin_areas WHERE level = 'county'")).all()
        )
        entries = (
            conn.execute(
                sa.text("""
            SELECT j.id, j.county_code, a.name AS county_name, j.policy, j.approval_doc, j.reason, j.recorded_by,
                   j.recorded_at, j.occupied_mu, j.replaced_mu, j.balance_before_mu, j.balance_after_mu,
                   j.level1_total_after_mu, j.request_id,
                   coalesce((SELECT json_agg(json_build_object('from', t.from_county, 'to', t.to_county, 'mu', t.mu))
                             FROM quota_transfers t WHERE t.adjustment_id = j.id), '[]'::json) AS transfers
            FROM adjustments j JOIN admin_areas a ON a.code = j.county_code ORDER BY j.recorded_at, j.id""")
            )
            .mappings()
            .all()
        )
    counties = [
        {
            "county": c,
            "name": names.get(c, ""),
            "balance_mu": round(b, 2),
            "level1_mu": round(level1.get(c, 0.0), 2),
        }
        for c, b in balances.items()
    ]
    history = level1_history(engine)
    city_balance = sum(balances.values())
    rows = [
        {
            **{k: v for k, v in e.items() if k != "recorded_at"},
            "recorded_at": shown(e["recorded_at"]),
            "occupied_mu": round(e["occupied_mu"], 2),
            "replaced_mu": round(e["replaced_mu"], 2),
            "balance_before_mu": round(e["balance_before_mu"], 2),
            "balance_after_mu": round(e["balance_after_mu"], 2),
            "city_balance_after_mu": round(city_after[e["id"]], 2),
            "fell": city_level1_fell(city_after[e["id"]]),
        }
        for e in entries
    ]
    return {
        "counties": counties,
        "city_balance_mu": round(city_balance, 2),
        "city_level1_mu": round(sum(level1.values()), 2),
        "city_balanced": not city_level1_fell(city_balance),
        "city_fell_by": _fall_of(rows),
        "entries": rows,
        "level1_history": [
            {
                "at": shown(r.at, seconds=True),  # as a planner reads it (Beijing wall time)
                "at_iso": shown_iso(r.at),  # the same instant for programs: ISO 8601 with the office's offset
                # numpy floats (cast for the type checker only: np.float64's own rounding stays)
                "level1_mu": round(cast(float, r.level1_mu), 2),
                "change_mu": round(cast(float, r.change_mu), 2),
                "adjustment_id": r.adjustment_id,
                "fell": bool(r.fell),
            }
            for r in history.itertuples()
        ],
    }
