"""The policy commands on the demo city: JSON field for field as CLI.md specifies it."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from blockline.cli import app
from blockline.demo import load_demo
from tests.services.test_judged import _done

runner = CliRunner()


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    load_demo(engine, user="test", n_parcels=800, seed=3)
    return engine


def _json(*args: str) -> dict:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_idle_and_lifecycle_json(demo: sa.Engine) -> None:
    for command in ("idle", "lifecycle"):
        body = _json(command, "--as-of", "2026-11-01", "--policy", "yiwu", "--format", "json")
        assert list(body)[:3] == ["as_of", "policy", "parcels"]
        assert body["as_of"] == "2026-11-01" and body["policy"] == "yiwu" and body["parcels"]
        for p in body["parcels"]:
            assert set(p) >= {"parcel_no", "categories", "findings"}
            assert p["categories"] == sorted(set(p["categories"]), key=p["categories"].index)
            for f in p["findings"]:
                assert set(f) >= {"category", "article", "detail"} and f["article"].startswith("yiwu ")
    codes = {
        c
        for p in _json("idle", "--as-of", "2026-11-01", "--format", "json")["parcels"]
        for c in p["categories"]
    }
    assert {"idle", "late_start", "late_completion", "built_not_operating"} <= codes
    life = {
        c
        for p in _json("lifecycle", "--as-of", "2026-11-01", "--format", "json")["parcels"]
        for c in p["categories"]
    }
    assert {"tax_shortfall", "evaluation_due"} <= life


def test_zones_detect_save_and_assess(demo: sa.Engine, tmp_path: Path) -> None:
    body = _json("zones", "detect", "--as-of", "2026-11-01", "--format", "json", "--save")
    assert (body["min_mu"], body["gap_m"]) == (50.0, 15.0) and body["zones"]
    for z in body["zones"]:
        assert set(z) >= {"zone_id", "area_mu", "parcels", "holders", "block_line_levels", "rating_mix"}
        assert z["area_mu"] >= 49.995 and set(z["block_line_levels"]) <= {1, 2}
        assert sum(z["rating_mix"].values()) == len(z["parcels"])
    with demo.connect() as conn:
        saved = conn.execute(sa.text("SELECT count(*) FROM zones WHERE kind = 'candidate'")).scalar_one()
        # the zone's area is the sum of its parcels' (checked by PostGIS)
        first = body["zones"][0]
        total = conn.execute(
            sa.text("SELECT sum(area_mu) FROM parcels WHERE valid_to IS NULL AND parcel_no = ANY(:n)"),
            {"n": first["parcels"]},
        ).scalar_one()
    assert saved == len(body["zones"]) and total == pytest.approx(first["area_mu"], abs=0.01)
    # draw the first zone's outline again, as a planner would, and assess it
    zones = gpd.read_file(_export_zones(tmp_path), engine="pyogrio")
    drawn = tmp_path / "drawn.geojson"
    zones.iloc[[0]].to_file(drawn, engine="pyogrio")
    result = _json(
        "zones",
        "assess",
        str(drawn),
        "--as-of",
        "2026-11-01",
        "--format",
        "json",
        "--save",
        "东片改造",
        "--requirement",
        "tax_per_mu_wan=30",
        "--requirement",
        "industry=智能装备",
    )
    with demo.connect() as conn:
        name, req = conn.execute(sa.text("SELECT name, requirements FROM zones WHERE kind = 'drawn'")).one()
    assert name == "东片改造" and req == {"tax_per_mu_wan": "30", "industry": "智能装备"}
    assert list(result)[:6] == [
        "area_mu",
        "meets_threshold",
        "holders",
        "low_efficiency_share",
        "parcels",
        "block_line_levels",
    ]
    assert {p["parcel_no"] for p in result["parcels"]} >= set(first["parcels"])
    assert all(
        set(p) >= {"parcel_no", "share", "area_in_zone_mu", "low_efficiency"} for p in result["parcels"]
    )


def _export_zones(tmp_path: Path) -> Path:
    path = tmp_path / "zones.geojson"
    result = runner.invoke(
        app, ["zones", "detect", "--as-of", "2026-11-01", "--format", "geojson", "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def test_policy_list_and_show() -> None:
    listed = _json("policy", "list", "--format", "json")["profiles"]
    assert [(p["name"], p["jurisdiction"]) for p in listed] == [
        ("wenzhou-2020", ["330300"]),
        ("yiwu", ["330782"]),
    ]
    shown = _json("policy", "show", "yiwu", "--format", "json")
    assert shown["parameters"]["ratings.d_years_running"] == {
        "value": 2,
        "article": "YW §12",
        "note": "连续两年被评为D类",
        "boundary": "满",
        "includes": True,
        "adopted_from": None,
    }


def test_a_load_can_leave_todays_judgement_to_the_background(engine: sa.Engine) -> None:
    """``--judge background``: the demo returns once its data is committed and says which process judges;
    ``idle`` asked meanwhile is served that one judgement (or judges first and the child reads it)."""
    import os
    import re

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
    result = runner.invoke(app, ["demo", "--parcels", "300", "--seed", "5", "--judge", "background"])
    assert result.exit_code == 0, result.output
    said = re.search(r"进程 (\d+)，日志 (\S+)）", result.output.replace("\n", ""))
    assert said and "judged in the background" in result.output.replace("\n", " "), result.output
    pid, log = int(said.group(1)), Path(said.group(2))
    body = _json("idle", "--format", "json")
    done = _done(pid, log, f"{body['as_of']} {body['policy']}: ")
    log.unlink()  # the user's to read; the test's to remove
    assert "Traceback" not in done, done
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT profile, judged_by, served FROM judgements")).all()
    assert len(rows) == 1 and rows[0].profile == body["policy"]  # judged once
    assert rows[0].judged_by.endswith((f":{pid}", f":{os.getpid()}")) and rows[0].served == 1
    assert _json("idle", "--format", "json") == body  # the stored judgement, served again


#: what a stored answer must not import: 0.6 s (pandas), 0.1 s more (geopandas), 0.2 s (alembic) of start-up
HEAVY = ("pandas", "geopandas", "shapely", "pyarrow", "alembic")


@pytest.mark.parametrize(
    "command",
    [
        ["idle", "--format", "json"],
        ["lifecycle", "--format", "json"],
        ["zones", "detect", "--format", "json"],
    ],
)
def test_a_stored_answer_starts_without_the_heavy_libraries(demo: sa.Engine, command: list[str]) -> None:
    """Once judged (and the zones kept), ``idle``, ``lifecycle`` and ``zones detect`` read what is stored: a
    process that answers imports none of pandas, geopandas or alembic (each whole process, as the shell runs it)."""
    import subprocess
    import sys

    def run() -> tuple[dict, list[str]]:
        script = (
            "import json, sys\n"
            f"sys.argv = ['blockline', *{command!r}]\n"
            "from blockline.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout), json.loads(done.stderr.strip().splitlines()[-1])

    judged, imported = run()  # the first judges (and keeps the zones): it needs the rules
    assert {"pandas", "geopandas"} <= set(imported)
    stored, imported = run()
    assert stored == judged and imported == []
