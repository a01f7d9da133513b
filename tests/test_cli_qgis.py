"""``blockline qgis``: a QGIS project whose layers are the store's tables, opened by QGIS itself.

QGIS (Debian's ``python3-qgis``, installed by ``./dev.sh test``) runs headless from the system Python in a
subprocess: it reads the project, and every layer must be valid, hold features and draw them as the app does.
The expected counts come from PostGIS and from ``blockline idle``, not from the project writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from blockline.cli import app
from blockline.ui.maps import PALETTE
from geo.settings import get_settings
from zoning.idle import IDLE_CATEGORIES

runner = CliRunner()
QGIS_PYTHON = "/usr/bin/python3"  # Debian's python3-qgis belongs to the system Python, not the venv

_OPEN = r"""
import json, sys
from qgis.core import QgsApplication, QgsFeatureRequest, QgsProject
QgsApplication.setPrefixPath("/usr", True)
qa = QgsApplication([], False)
qa.initQgis()
result = {}
for path in sys.argv[1:]:
    project = QgsProject.instance()
    project.clear()
    ok = project.read(path)
    layers = {}
    for node in project.layerTreeRoot().findLayers():
        lyr = node.layer()
        r = lyr.renderer()
        d = {"valid": lyr.isValid(), "count": lyr.featureCount(), "crs": lyr.crs().authid(), "renderer": r.type()}
        if r.type() == "categorizedSymbol":
            d["attr"] = r.classAttribute()
            d["categories"] = {str(c.value() or ""): [c.label(), c.symbol().color().name()] for c in r.categories()}
            req = QgsFeatureRequest().setFilterExpression('"idle" IS NOT NULL')
            d["marked"] = sum(1 for _ in lyr.getFeatures(req))
        else:
            d["fill"] = r.symbol().color().name()
            d["stroke"] = r.symbol().symbolLayer(0).strokeColor().name()
        layers[lyr.name()] = d
    result[path] = {"read": ok, "crs": project.crs().authid(), "layers": layers}
print("RESULT" + json.dumps(result, ensure_ascii=False))
"""


def _qgis_open(*paths: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    """What QGIS finds in each project: read or not, its CRS, and per layer validity, count and symbols."""
    proc = subprocess.run(
        [QGIS_PYTHON, "-c", _OPEN, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert proc.returncode == 0 and lines, f"QGIS failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][len("RESULT") :])


def _scalar(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def city(engine: sa.Engine) -> sa.Engine:
    """The demo city with saved zones, one level-1 line retired yesterday and one valid only from tomorrow."""
    assert runner.invoke(app, ["demo", "--parcels", "300", "--seed", "7"]).exit_code == 0
    saved = runner.invoke(app, ["zones", "detect", "--min-mu", "20", "--save", "--format", "json"])
    assert saved.exit_code == 0, saved.output
    with engine.begin() as conn:
        ids = (
            conn.execute(sa.text("SELECT id FROM block_lines WHERE level = 1 ORDER BY id LIMIT 2"))
            .scalars()
            .all()
        )
        conn.execute(
            sa.text(
                "UPDATE block_lines SET valid_from = now() - interval '30 days', "
                "valid_to = now() - interval '1 day' WHERE id = :i"
            ),
            {"i": ids[0]},
        )
        conn.execute(
            sa.text("UPDATE block_lines SET valid_from = now() + interval '1 day' WHERE id = :i"),
            {"i": ids[1]},
        )
    return engine


def test_qgis_opens_every_layer_valid_with_the_store_s_features_and_the_app_s_colours(
    city: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "区块线.qgz"
    result = runner.invoke(app, ["qgis", "-o", str(path)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["区块线.qgs"]

    srid = _scalar(city, "SELECT value::int FROM store_meta WHERE key = 'storage_srid'")
    expected_counts = {
        "行政区": _scalar(city, "SELECT count(*) FROM admin_areas WHERE level = 'county'"),
        # the lines of today: all current ones but the one that starts tomorrow (the retired one is not current)
        "一级线": _scalar(city, "SELECT count(*) FROM block_lines WHERE level = 1 AND valid_to IS NULL") - 1,
        "二级线": _scalar(city, "SELECT count(*) FROM block_lines WHERE level = 2 AND valid_to IS NULL"),
        "宗地": _scalar(city, "SELECT count(*) FROM parcels WHERE valid_to IS NULL"),
        "连片开发片区": _scalar(city, "SELECT count(*) FROM zones"),
    }
    idle = json.loads(runner.invoke(app, ["idle", "--format", "json"]).stdout)
    # a parcel is marked by what holds today: a breach cured since (its finding has an ``until``) marks nothing
    marked = {
        p["parcel_no"]
        for p in idle["parcels"]
        if any(f["category"] in IDLE_CATEGORIES and not f.get("until") for f in p["findings"])
    }

    opened = _qgis_open(path)[str(path)]
    assert opened["read"] is True
    assert opened["crs"] == f"EPSG:{srid}"
    layers = opened["layers"]
    assert set(layers) == set(expected_counts)
    for name, layer in layers.items():
        assert layer["valid"], name
        assert layer["count"] == expected_counts[name] > 0, name
        assert layer["crs"] == f"EPSG:{srid}", name
    parcels = layers["宗地"]
    assert parcels["renderer"] == "categorizedSymbol" and parcels["attr"] == "idle"
    assert parcels["marked"] == len(marked) > 0
    # the 闲置 page's colours (blockline/app_pages/idle.py: IDLE_CATEGORIES zipped with the map palette) and labels
    assert {v: c for v, (_, c) in parcels["categories"].items() if v} == dict(
        zip(IDLE_CATEGORIES, PALETTE, strict=False)
    )
    assert parcels["categories"]["idle"][0] == "闲置土地"
    assert parcels["categories"][""][1] == "#cccccc"
    assert (layers["一级线"]["fill"], layers["一级线"]["stroke"]) == ("#e74c3c", "#b03a2e")
    assert (layers["二级线"]["fill"], layers["二级线"]["stroke"]) == ("#f5b041", "#b9770e")


def test_a_service_name_replaces_the_url_and_qgis_connects_through_it(
    city: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "service.qgs"
    result = runner.invoke(app, ["qgis", "-o", str(path), "--service", "blockline_test", "--format", "json"])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert "service='blockline_test'" in text and "dbname=" not in text
    url = city.url
    services = tmp_path / "pg_service.conf"
    host, port = url.query.get("host") or url.host, url.port or url.query.get("port") or 5432
    services.write_text(
        f"[blockline_test]\nhost={host}\nport={port}\ndbname={url.database}\nuser={url.username}\n",
        encoding="utf-8",
    )
    opened = _qgis_open(path, env={"PGSERVICEFILE": str(services)})[str(path)]
    assert opened["read"] is True
    assert all(layer["valid"] and layer["count"] > 0 for layer in opened["layers"].values())


def test_the_embedded_store_is_reached_through_its_socket_folder(city: sa.Engine, tmp_path: Path) -> None:
    if os.environ.get("BLOCKLINE_TEST_DATABASE_URL"):
        pytest.skip("an external store has no socket folder of its own")
    result = runner.invoke(app, ["qgis", "-o", str(tmp_path / "p.qgs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    home = Path(os.environ["BLOCKLINE_HOME"])
    assert json.loads(result.stdout)["connection"].startswith(
        f"dbname='{city.url.database}' host='{home / 'run'}'"
    )


@pytest.mark.parametrize("name", ["区块线.txt", "no-such-folder/区块线.qgz"])
def test_a_bad_output_path_is_refused_with_exit_2_and_nothing_written(
    city: sa.Engine, tmp_path: Path, name: str
) -> None:
    result = runner.invoke(app, ["qgis", "-o", str(tmp_path / name)])
    assert result.exit_code == 2
    assert "Fix:" in result.stderr and "处理" in result.stderr
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_today_is_the_day_the_marks_are_computed_for(
    city: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 UTC on 2026-12-05 is 07:30 on 2026-12-06 in Beijing: the office's day, not the machine's
    monkeypatch.setenv("BLOCKLINE_NOW", "2026-12-05T23:30:00+00:00")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["qgis", "-o", str(tmp_path / "p.qgz"), "--format", "json"])
    finally:
        monkeypatch.delenv("BLOCKLINE_NOW")
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mark_set"].split("|")[1] == "2026-12-06"
