"""`blockline zones detect` / `zones assess` through the command, on hand-built cities loaded from files.

- Block-line levels of candidate zones (issue 20): the same in table, JSON and GeoJSON output, computed in the
  store; a zone inside level 1, inside level 2, straddling both and outside both.
- A store with parcels but no block lines (issue 11.8): no block line, not a traceback.
- The boundaries of WZ §12 (issue 11.2/11.3): 达到50亩 includes 50.00 亩 (areas to the 0.01 亩 planners
  report), 不超过15米 includes 15.000 m (distances to the millimetre), from files in EPSG:4528 (the "40" zone
  prefix in the false easting) and EPSG:4549 (none).

All expected values are worked out by hand from boxes: a 200 m × 100 m parcel is 30 亩, and a
100 m × (mu × 20/3) m box is ``mu`` 亩.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box
from typer.testing import CliRunner

from blockline import cli
from blockline.cli import app
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import two_counties

runner = CliRunner()

#: what EPSG:4528 adds to the easting of EPSG:4549 (the zone number 40 in front of the false easting)
ZONE_PREFIX = {"EPSG:4549": 0.0, "EPSG:4528": 40_000_000.0}


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def _json(*args: str) -> dict:
    code, out = _run(*args, "--format", "json")
    assert code == 0, out
    return json.loads(out)


def _write(tmp_path: Path, name: str, rows: list[dict], geoms: list, crs: str) -> Path:
    """Boxes given in EPSG:4549 coordinates, written in ``crs`` by shifting the easting (no reprojection)."""
    shift = ZONE_PREFIX[crs]
    moved = [box(g.bounds[0] + shift, g.bounds[1], g.bounds[2] + shift, g.bounds[3]) for g in geoms]
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame(rows, geometry=moved, crs=crs).to_file(path, engine="pyogrio")
    return path


def _load_city(
    engine: sa.Engine, tmp_path: Path, parcels: dict[str, object], *, crs: str = "EPSG:4549"
) -> None:
    """The two counties, then low-efficiency (低效用地 = 是) parcels ``{parcel_no: box in EPSG:4549}``."""
    counties = tmp_path / "counties.gpkg"
    two_counties().to_file(counties, engine="pyogrio")
    assert _run("load", "boundaries", str(counties))[0] == 0
    rows = [
        {"宗地编号": no, "权利人": f"企业{no}", "土地用途": "工业用地", "低效用地": "是"} for no in parcels
    ]
    path = _write(tmp_path, f"parcels-{crs.replace(':', '')}", rows, list(parcels.values()), crs)
    code, out = _run("load", "parcels", str(path), "--format", "json")
    assert code == 0, out


def _load_lines(tmp_path: Path, level: int, geoms: list) -> None:
    path = _write(
        tmp_path,
        f"level{level}",
        [{"名称": f"{level}级线{i}"} for i in range(len(geoms))],
        geoms,
        "EPSG:4549",
    )
    code, out = _run("load", "blocklines", str(path), "--level", str(level))
    assert code == 0, out


def _far_lines(tmp_path: Path) -> None:
    """A level-1 and a level-2 line in 瓯海, far from the parcels of the boundary tests (in 鹿城)."""
    _load_lines(tmp_path, 1, [box(X + 2100, Y + 100, X + 2700, Y + 700)])
    _load_lines(tmp_path, 2, [box(X + 2800, Y + 100, X + 3200, Y + 700)])


# -- issue 20: block-line levels in every output -----------------------------------------------------------------

#: level 1 over [X+100, X+700] × [Y+100, Y+700], level 2 over [X+800, X+1200] × [Y+100, Y+700]
LEVEL1 = box(X + 100, Y + 100, X + 700, Y + 700)
LEVEL2 = box(X + 800, Y + 100, X + 1200, Y + 700)

#: four zones of two 30-亩 parcels each (60 亩), and the levels each lies in, by hand
CITY = {
    "IN1-a": box(X + 200, Y + 200, X + 400, Y + 300),
    "IN1-b": box(X + 200, Y + 300, X + 400, Y + 400),
    "IN2-a": box(X + 900, Y + 200, X + 1100, Y + 300),
    "IN2-b": box(X + 900, Y + 300, X + 1100, Y + 400),
    # 100 m of the first inside level 1, 100 m of the second inside level 2; they share y = Y+600 over 100 m
    "BOTH-a": box(X + 600, Y + 500, X + 800, Y + 600),
    "BOTH-b": box(X + 700, Y + 600, X + 900, Y + 700),
    "OUT-a": box(X + 1300, Y + 1000, X + 1500, Y + 1100),
    "OUT-b": box(X + 1300, Y + 1100, X + 1500, Y + 1200),
}
EXPECTED_LEVELS = {"IN1": [1], "IN2": [2], "BOTH": [1, 2], "OUT": []}


def _by_group(zones: list[dict], parcels_key: str = "parcels") -> dict[str, object]:
    out = {}
    for z in zones:
        parcels = z[parcels_key] if isinstance(z[parcels_key], list) else z[parcels_key].split(",")
        groups = {p.split("-")[0] for p in parcels}
        assert len(groups) == 1 and len(parcels) == 2, parcels
        out[groups.pop()] = z
    return out


def _table_levels(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """zone_id → the block_line_levels cell of the human table (a wide terminal, so no cell folds)."""
    monkeypatch.setattr(cli.out, "width", 400)
    code, out = _run("zones", "detect", "--as-of", "2026-11-01")
    assert code == 0, out
    header = next(line for line in out.splitlines() if "block_line_levels" in line)
    names = [c.strip() for c in header.strip().strip("┃").split("┃")]
    cells = {}
    for line in out.splitlines():
        row = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(row) == len(names) and row[0].startswith("Z-"):
            cells[row[0]] = row[names.index("block_line_levels")]
    return cells


def test_block_line_levels_identical_in_table_json_and_geojson(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load_city(engine, tmp_path, CITY)
    _load_lines(tmp_path, 1, [LEVEL1])
    _load_lines(tmp_path, 2, [LEVEL2])

    body = _json("zones", "detect", "--as-of", "2026-11-01")
    zones = _by_group(body["zones"])
    assert {g: z["block_line_levels"] for g, z in zones.items()} == EXPECTED_LEVELS
    assert all(z["area_mu"] == 60.0 for z in zones.values())

    path = tmp_path / "zones.geojson"
    code, out = _run("zones", "detect", "--as-of", "2026-11-01", "--format", "geojson", "-o", str(path))
    assert code == 0, out
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    assert all(f["geometry"] for f in features)
    from_geojson = {f["properties"]["zone_id"]: f["properties"]["block_line_levels"] for f in features}
    from_geojson = {k: json.loads(v) if isinstance(v, str) else v for k, v in from_geojson.items()}
    assert from_geojson == {z["zone_id"]: z["block_line_levels"] for z in body["zones"]}

    table = _table_levels(monkeypatch)
    assert table == {z["zone_id"]: str(z["block_line_levels"]) for z in body["zones"]}

    # the level areas, by hand: IN1 60 亩 in level 1; BOTH 15 亩 in each (100 m × 100 m of each parcel)
    import pandas as pd

    from blockline.services.zones import describe_zones_in_store

    ids = {g: z["zone_id"] for g, z in zones.items()}
    frame = pd.DataFrame(
        {"zone_id": [z["zone_id"] for z in body["zones"]], "parcels": [z["parcels"] for z in body["zones"]]}
    )
    described = describe_zones_in_store(
        engine,
        frame,
        ratings=pd.DataFrame({"parcel_no": [], "year": [], "grade": []}),
        as_of=pd.Timestamp("2026-11-01").date(),
    )
    mu = {
        g: (
            described.loc[described["zone_id"] == i, "level1_mu"].item(),
            described.loc[described["zone_id"] == i, "level2_mu"].item(),
        )
        for g, i in ids.items()
    }
    assert mu["IN1"] == pytest.approx((60.0, 0.0)) and mu["IN2"] == pytest.approx((0.0, 60.0))
    assert mu["BOTH"] == pytest.approx((15.0, 15.0)) and mu["OUT"] == pytest.approx((0.0, 0.0))


def test_describe_zones_without_geometry_raises() -> None:
    import datetime as dt

    import pandas as pd

    from zoning.consolidation import describe_zones, detect_zones

    parcels = gpd.GeoDataFrame(
        {"parcel_no": ["A", "B"], "low_efficiency": True},
        geometry=[CITY["IN1-a"], CITY["IN1-b"]],
        crs="EPSG:4549",
    )
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    lines = gpd.GeoDataFrame(geometry=[LEVEL1], crs="EPSG:4549")
    ratings = pd.DataFrame({"parcel_no": [], "year": [], "grade": []})
    described = describe_zones(
        zones, parcels, level1=lines, level2=lines.iloc[:0], ratings=ratings, as_of=dt.date(2026, 11, 1)
    )
    assert described["block_line_levels"].tolist() == [[1]]
    no_geometry = zones.set_geometry(gpd.GeoSeries([None], crs="EPSG:4549"))
    with pytest.raises(ValueError, match="no geometry"):
        describe_zones(
            no_geometry,
            parcels,
            level1=lines,
            level2=lines.iloc[:0],
            ratings=ratings,
            as_of=dt.date(2026, 11, 1),
        )


# -- issue 11.8: no block lines at all is a normal state ---------------------------------------------------------


def test_detect_and_assess_without_block_lines(engine: sa.Engine, tmp_path: Path) -> None:
    _load_city(engine, tmp_path, {k: v for k, v in CITY.items() if k.startswith("IN1")})
    body = _json("zones", "detect", "--as-of", "2026-11-01")
    assert [(z["parcels"], z["block_line_levels"]) for z in body["zones"]] == [(["IN1-a", "IN1-b"], [])]
    code, out = _run("zones", "detect", "--as-of", "2026-11-01")
    assert code == 0 and "Traceback" not in out and "Z-330302-" in out
    drawn = _write(
        tmp_path, "drawn", [{"名称": "东片"}], [box(X + 200, Y + 200, X + 400, Y + 400)], "EPSG:4549"
    )
    result = _json("zones", "assess", str(drawn), "--as-of", "2026-11-01")
    assert result["block_line_levels"] == [] and result["area_mu"] == pytest.approx(60.0)
    assert result["meets_threshold"] is True and result["holders"] == 2
    code, out = _run("zones", "assess", str(drawn), "--as-of", "2026-11-01")
    assert code == 0 and "Traceback" not in out


# -- issue 11.2/11.3: 达到50亩 and 不超过15米 at the boundary, from zone-prefixed files ---------------------------

#: gaps between the two 30-亩 parcels of each pair (m): −ε, twelve at the boundary, +ε
GAPS = [14.999] + [15.000] * 12 + [15.001]


def _pairs() -> dict[str, object]:
    """Pairs of 200 m × 100 m parcels side by side, ``GAPS[i]`` apart, at uneven offsets (so that each pair's
    coordinates round differently), all inside 鹿城 [X, X+2000] × [Y, Y+2000]."""
    out = {}
    for i, gap in enumerate(GAPS):
        x0 = X + 10.0 + (i % 4) * 480.123 + i * 0.0137
        y0 = Y + 10.0 + (i // 4) * 150.77 + i * 0.0291
        out[f"G{i:02d}-a"] = box(x0, y0, x0 + 200.0, y0 + 100.0)
        out[f"G{i:02d}-b"] = box(x0 + 200.0 + gap, y0, x0 + 400.0 + gap, y0 + 100.0)
    return out


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_gap_of_15_m_joins_at_the_millimetre(engine: sa.Engine, tmp_path: Path, crs: str) -> None:
    _load_city(engine, tmp_path, _pairs(), crs=crs)
    _far_lines(tmp_path)
    zones = _json("zones", "detect", "--as-of", "2026-11-01")["zones"]
    joined = sorted(z["parcels"][0].split("-")[0] for z in zones)
    expected = sorted(f"G{i:02d}" for i, gap in enumerate(GAPS) if gap <= 15.000)
    assert joined == expected  # 14.999 and every 15.000 join; 15.001 does not
    assert all(z["area_mu"] == 60.0 and len(z["parcels"]) == 2 for z in zones)
    # the stored distances, measured by PostGIS: to the millimetre what the file said
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT left(a.parcel_no, 3), ST_Distance(a.geom, b.geom) FROM parcels a JOIN parcels b
            ON left(a.parcel_no, 3) = left(b.parcel_no, 3) AND a.parcel_no LIKE '%-a' AND b.parcel_no LIKE '%-b'
            ORDER BY 1""")
        ).all()
    assert [round(d, 3) for _, d in rows] == GAPS


#: single parcels of −ε, the boundary and +ε (亩), far apart
AREAS = {"A4999": 49.99, "A5000": 50.00, "A5001": 50.01}


def _area_box(i: int, mu: float):
    x0, y0 = X + 100.0 + i * 600.0 + 0.123, Y + 1000.0 + 0.457
    return box(x0, y0, x0 + 100.0, y0 + mu * 20.0 / 3.0)


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_50_mu_reached_at_the_hundredth(engine: sa.Engine, tmp_path: Path, crs: str) -> None:
    _load_city(engine, tmp_path, {no: _area_box(i, mu) for i, (no, mu) in enumerate(AREAS.items())}, crs=crs)
    _far_lines(tmp_path)
    zones = _json("zones", "detect", "--as-of", "2026-11-01")["zones"]
    assert sorted((z["parcels"], z["area_mu"]) for z in zones) == [(["A5000"], 50.0), (["A5001"], 50.01)]
    for i, (no, mu) in enumerate(AREAS.items()):
        drawn = _write(tmp_path, f"drawn-{no}-{crs[5:]}", [{"名称": no}], [_area_box(i, mu)], crs)
        result = _json("zones", "assess", str(drawn), "--as-of", "2026-11-01")
        assert round(result["area_mu"], 2) == mu
        assert result["meets_threshold"] is (mu >= 50.0), (no, result["area_mu"])
        assert [p["parcel_no"] for p in result["parcels"]] == [no]
