"""The documents planners file, through the ``blockline report`` command (issue 15).

Each document is written as .docx and .pdf, read back with python-docx and with poppler (``pdftotext`` for
the text, ``pdfimages`` for the map's resolution, ``pdftoppm`` to render the map's page), and its figures are
compared with the command's JSON for the same case and with values worked out by hand.

The balance city is tests.files.two_counties (worked numbers in tests/zoning/test_balance.py): 鹿城 330302
level 1 [X+100, X+700] × [Y+100, Y+700]; a 100 m × 100 m box is 15 亩. Files are written in EPSG:4549 and in
EPSG:4528 (the same zone, the zone number 40 in front of the eastings).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import docx
import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import affinity, box
from typer.testing import CliRunner

from blockline.cli import app
from blockline.demo import load_demo
from geo.settings import get_settings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

runner = CliRunner()
LC, OH = "330302", "330304"
AS_OF = "2026-11-01"


def test_poppler_is_installed() -> None:
    """The PDF checks need poppler-utils (./dev.sh test installs it): missing, they fail rather than skip."""
    assert all(shutil.which(t) for t in ("pdftotext", "pdftoppm", "pdfimages", "pdfinfo"))


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict:
    code, out, err = _run(*args, "--format", "json")
    assert code in (0, 1), err
    return json.loads(out)


class _Text(str):
    """A document's text, where ``needle in text`` ignores white space (a page may wrap a line at any space)."""

    def __contains__(self, needle: object) -> bool:
        return "".join(str(needle).split()) in "".join(self.split())


def _docx_text(path: Path) -> _Text:
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return _Text("\n".join([p.text for p in d.paragraphs] + cells))


def _pdf_text(path: Path) -> _Text:
    # -raw keeps the text in the order it was written, so a sentence is not broken up by a table's columns
    return _Text(
        subprocess.run(
            ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    )


def _map_width_px(path: Path) -> int:
    """The widest image in the PDF, in pixels (``pdfimages -list``)."""
    out = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    widths = [int(line.split()[3]) for line in out.splitlines()[2:] if line.split()]
    return max(widths, default=0)


def _render_last_page(path: Path, tmp: Path) -> Path:
    """pdftoppm renders the document's last page (the one with the map); returns the PNG."""
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(path)], check=True, capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    prefix = tmp / path.stem
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", str(pages), "-l", str(pages), str(path), str(prefix)],
        check=True,
    )
    (png,) = tmp.glob(f"{path.stem}-*.png")
    return png


def _ink_share(png: Path) -> float:
    """The share of pixels that are not white on a rendered page."""
    import matplotlib.image

    img = matplotlib.image.imread(str(png))[..., :3]
    return float((img.sum(axis=2) < 2.9).mean())


def _both(tmp: Path, name: str, *args: str) -> tuple[_Text, _Text, Path]:
    """Run ``report ... -o`` to a .docx and a .pdf; the docx text, the pdf text and the pdf."""
    texts = []
    for suffix in ("docx", "pdf"):
        out = tmp / f"{name}.{suffix}"
        code, _, err = _run("report", *args, "-o", str(out))
        assert code == 0, err
        assert out.is_file()
        texts.append(_docx_text(out) if suffix == "docx" else _pdf_text(out))
    return texts[0], texts[1], tmp / f"{name}.pdf"


def _assert_map_printed(pdf: Path, tmp: Path) -> None:
    assert _map_width_px(pdf) >= 1500  # 160 mm at 300 dpi is 1890 px: print resolution, not a screenshot
    assert _ink_share(_render_last_page(pdf, tmp)) > 0.02  # the page with the map is drawn, not blank


# -- 占补平衡调整论证材料 ------------------------------------------------------------------------------------------
@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    load_two_county_city(engine, tmp_path)
    return engine


def _file(folder: Path, name: str, geom: object, crs: str) -> Path:
    if crs == "EPSG:4528":
        geom = affinity.translate(geom, xoff=40_000_000)  # same zone (CM 120°E), false easting 40 500 000
    path = folder / name
    gpd.GeoDataFrame(geometry=[geom], crs=crs).to_file(path, engine="pyogrio")
    return path


@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:4528"])
def test_the_balance_paper_of_a_checked_adjustment_has_the_checks_figures_its_articles_and_a_map(
    city: sa.Engine, tmp_path: Path, crs: str
) -> None:
    removal = _file(
        tmp_path, "rem.gpkg", box(X + 100, Y + 100, X + 700, Y + 200), crs
    )  # 6 × 15 = 90 亩 of level 1
    addition = _file(
        tmp_path, "add.gpkg", box(X + 800, Y + 800, X + 1350, Y + 900), crs
    )  # 5.5 × 15 = 82.5 亩
    files = ("--county", LC, "--remove", str(removal), "--add", str(addition))
    check = _json("balance", "check", *files)
    assert (check["occupied_mu"], check["replaced_mu"], check["balance_after_mu"]) == (
        90.0,
        82.5,
        -7.5,
    )  # by hand
    word, pdf_text, pdf = _both(
        tmp_path,
        "balance",
        "balance",
        *files,
        "--authority",
        "温州市自然资源和规划局",
        "--prepared-by",
        "李工",
        "--date",
        "2026-11-22",
    )
    for text in (word, pdf_text):
        assert (
            "占补平衡调整论证材料" in text
            and "温州市自然资源和规划局" in text
            and "2026-11-22" in text
            and "李工" in text
        )
        assert "〔" in text and "〕" in text  # the 文号 placeholder
        for key in (
            "occupied_mu",
            "replaced_mu",
            "standing_balance_mu",
            "balance_after_mu",
            "city_balance_after_mu",
            "level1_before_mu",
            "level1_after_mu",
        ):
            assert f"{check[key]:,.2f} 亩" in text, key
        assert "90.00 亩" in text and "82.50 亩" in text and "-7.50 亩" in text
        assert check["article"] in text
        assert "县域不平衡，缺口 7.50 亩" in text
        for w in check["warnings"]:
            assert w["code"] in text and w["article"] in text
    _assert_map_printed(pdf, tmp_path)


def test_the_balance_paper_of_a_recorded_adjustment_names_its_document_transfer_and_the_citys_standing(
    city: sa.Engine, tmp_path: Path
) -> None:
    crs = "EPSG:4528"
    surplus = _file(tmp_path, "oh.gpkg", box(X + 2100, Y + 800, X + 2200, Y + 900), crs)  # 瓯海 +15 亩
    assert (
        _run("balance", "record", "--county", OH, "--add", str(surplus), "--doc", "瓯政〔2026〕2号")[0] == 0
    )
    removal = _file(tmp_path, "rem.gpkg", box(X + 100, Y + 100, X + 700, Y + 200), crs)
    addition = _file(tmp_path, "add.gpkg", box(X + 800, Y + 800, X + 1350, Y + 900), crs)
    recorded = _json(
        "balance",
        "record",
        "--county",
        LC,
        "--remove",
        str(removal),
        "--add",
        str(addition),
        "--doc",
        "温政函〔2026〕3号",
        "--reason",
        "道路建设",
        "--transfer",
        f"{OH}:7.5",
    )
    book = _json("balance", "ledger")
    entry = next(e for e in book["entries"] if e["id"] == recorded["adjustment_id"])
    word, pdf_text, pdf = _both(tmp_path, "recorded", "balance", "--doc", "温政函〔2026〕3号")
    for text in (word, pdf_text):
        assert "温政函〔2026〕3号" in text and "道路建设" in text and f"#{recorded['adjustment_id']}" in text
        assert "90.00 亩" in text and "82.50 亩" in text
        # the city: 15 亩 up before (瓯政〔2026〕2号), 7.5 亩 up after; by hand and as the ledger says
        assert entry["city_balance_after_mu"] == 7.5
        assert "15.00 亩" in text and "7.50 亩" in text
        assert OH in text and "7.50" in text  # the transfer
    _assert_map_printed(pdf, tmp_path)


def test_a_balance_paper_for_an_unknown_document_or_a_wrong_suffix_is_refused_and_nothing_is_written(
    city: sa.Engine, tmp_path: Path
) -> None:
    out = tmp_path / "x.pdf"
    code, _, err = _run("report", "balance", "--doc", "无此文号", "-o", str(out))
    assert code == 2 and "无此文号" in err and "Traceback" not in err and not out.exists()
    txt = tmp_path / "x.txt"
    code, _, err = _run("report", "balance", "--county", LC, "-o", str(txt))
    assert code == 2 and ".docx" in err and not txt.exists()
    code, _, err = _run("report", "balance", "-o", str(out))
    assert code == 2 and "--county" in err and not out.exists()


def test_without_a_cjk_font_the_command_says_which_package_to_install(
    city: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKLINE_CJK_FONT", str(tmp_path / "none.ttc"))
    get_settings.cache_clear()  # the font is a setting, read once
    removal = _file(tmp_path, "rem.gpkg", box(X + 100, Y + 100, X + 700, Y + 200), "EPSG:4549")
    out = tmp_path / "x.pdf"
    try:
        code, _, err = _run("report", "balance", "--county", LC, "--remove", str(removal), "-o", str(out))
    finally:
        monkeypatch.delenv("BLOCKLINE_CJK_FONT")
        get_settings.cache_clear()
    assert code == 2 and "BLOCKLINE_CJK_FONT" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".blockline-*"))


# -- the demo city: idle land, contracts, zones ------------------------------------------------------------------
@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    load_demo(engine, user="test", n_parcels=800, seed=3)
    return engine


def _parcel_with(body: dict, category: str, without: str | None = None) -> dict:
    return next(
        p
        for p in body["parcels"]
        if category in p["categories"] and (without is None or without not in p["categories"])
    )


def test_the_idle_notice_and_decision_carry_the_finding_its_article_the_clock_and_the_fee(
    demo: sa.Engine, tmp_path: Path
) -> None:
    body = _json("idle", "--as-of", AS_OF)
    parcel = _parcel_with(body, "idle", without="idle_reclaimable")
    idle = next(f for f in parcel["findings"] if f["category"] == "idle")
    no = parcel["parcel_no"]
    for kind, title in (("notice", "闲置土地调查通知书"), ("decision", "闲置土地认定书")):
        word, pdf_text, pdf = _both(
            tmp_path, kind, "idle", no, "--kind", kind, "--as-of", AS_OF, "--price-wan", "1200"
        )
        for text in (word, pdf_text):
            assert title in text and no in text
            assert idle["article"] in text and idle["since"] in text
            assert "1,200.00 万元 × 20% = 240.00 万元" in text  # 1200 × 20 %, by hand
            assert "无偿收回" in text and "第十四条" in text
            if kind == "notice":
                assert "30日内" in text and "第九条" in text
        assert idle["detail"] in word  # the clock, as the engine said it
        _assert_map_printed(pdf, tmp_path)


def test_the_idle_paper_says_taken_back_from_the_day_the_engine_says_two_years(
    demo: sa.Engine, tmp_path: Path
) -> None:
    body = _json("idle", "--as-of", AS_OF)
    parcel = _parcel_with(body, "idle_reclaimable")
    since = dt.date.fromisoformat(
        next(f for f in parcel["findings"] if f["category"] == "idle_reclaimable")["since"]
    )
    no = parcel["parcel_no"]
    for day, reclaimable in (
        (since - dt.timedelta(days=1), False),
        (since, True),
        (since + dt.timedelta(days=1), True),
    ):
        engine_says = "idle_reclaimable" in next(
            (
                p["categories"]
                for p in _json("idle", "--as-of", day.isoformat())["parcels"]
                if p["parcel_no"] == no
            ),
            [],
        )
        assert engine_says is reclaimable
        out = tmp_path / f"d-{day}.docx"
        assert (
            _run("report", "idle", no, "--kind", "decision", "--as-of", day.isoformat(), "-o", str(out))[0]
            == 0
        )
        text = _docx_text(out)
        assert ("该宗地已闲置满两年" in text) is reclaimable
        assert ("该宗地已闲置满一年" in text) is not reclaimable


def test_the_contract_letter_carries_the_penalty_in_wan_and_how_it_was_computed(
    demo: sa.Engine, tmp_path: Path
) -> None:
    body = _json("lifecycle", "--as-of", AS_OF)
    parcel = _parcel_with(body, "tax_shortfall")
    shortfalls = [f for f in parcel["findings"] if f["category"] == "tax_shortfall"]
    word, pdf_text, pdf = _both(tmp_path, "contract", "contract", parcel["parcel_no"], "--as-of", AS_OF)
    total = 0.0
    for f in shortfalls:
        g = f["figures"]
        by_hand = (g["committed_tax_per_mu_wan"] - g["tax_per_mu_wan"]) * g["area_mu"]
        # the JSON's figures are rounded to 4 decimals (± 5e-5 each): the product is off by at most
        # 5e-5 × (2 × area + |committed − actual|), whatever the parcel
        rounding = 5e-5 * (2 * g["area_mu"] + abs(g["committed_tax_per_mu_wan"] - g["tax_per_mu_wan"])) + 1e-9
        assert f["penalty_wan"] == pytest.approx(by_hand, abs=rounding)
        total += f["penalty_wan"]
        for text in (word, pdf_text):
            assert f"违约金 {f['penalty_wan']:,.2f} 万元" in text and f["article"] in text
        assert (
            f"= {f['penalty_wan']:,.2f} 万元" in word
        )  # how: (committed − actual) × area, the engine's sentence
    for text in (word, pdf_text):
        assert "履约核查函" in text and f"违约金合计：{total:,.2f} 万元" in text
    _assert_map_printed(pdf, tmp_path)


def test_a_parcel_without_such_a_finding_gets_no_paper(demo: sa.Engine, tmp_path: Path) -> None:
    idle = {
        p["parcel_no"]
        for p in _json("idle", "--as-of", AS_OF)["parcels"]
        if {"idle", "idle_reclaimable"} & set(p["categories"])
    }
    with demo.connect() as conn:
        no = next(
            n
            for (n,) in conn.execute(sa.text("SELECT parcel_no FROM parcels ORDER BY parcel_no"))
            if n not in idle
        )
    out = tmp_path / "x.docx"
    code, _, err = _run("report", "idle", no, "--as-of", AS_OF, "-o", str(out))
    assert code == 2 and no in err and "blockline idle" in err and not out.exists()
    code, _, err = _run("report", "contract", "无此宗地", "-o", str(out))
    assert code == 2 and "无此宗地" in err and not out.exists()


def test_the_zone_plan_has_the_assessments_area_parcels_holders_and_threshold(
    demo: sa.Engine, tmp_path: Path
) -> None:
    detected = _json("zones", "detect", "--as-of", AS_OF, "--save")
    zone = detected["zones"][0]
    # the same outline through zones assess, as a planner would draw it
    layer = tmp_path / "zones.geojson"
    assert _run("zones", "detect", "--as-of", AS_OF, "--format", "geojson", "-o", str(layer))[0] == 0
    drawn = tmp_path / "drawn.geojson"
    outlines = gpd.read_file(layer, engine="pyogrio")
    outlines[outlines["zone_id"] == zone["zone_id"]].to_file(drawn, engine="pyogrio")
    assessed = _json(
        "zones",
        "assess",
        str(drawn),
        "--as-of",
        AS_OF,
        "--save",
        "东片改造",
        "--requirement",
        "tax_per_mu_wan=30",
        "--requirement",
        "industry=智能装备",
    )
    word, pdf_text, pdf = _both(tmp_path, "zone", "zone", "东片改造", "--as-of", AS_OF)
    for text in (word, pdf_text):
        assert "连片开发片区方案" in text and "东片改造" in text
        assert f"{assessed['area_mu']:,.2f} 亩" in text and f"{zone['area_mu']:,.2f} 亩" in text
        assert f"权利人 {assessed['holders']} 个" in text and assessed["article"] in text
        assert "达到门槛" in text and "智能装备" in text and "30" in text
        # 开发期限 and 容积率 as the profile words them, with their articles (zoning/profiles/wenzhou-2020.toml)
        assert "开发期限" in text and "合同约定开工期一般为3个月（wenzhou-2020 WZ §6）" in text
        assert "容积率" in text and "wenzhou-2020 WZ §10" in text
        for p in assessed["parcels"]:
            assert p["parcel_no"] in text
    for p in assessed["parcels"]:
        assert f"{p['area_in_zone_mu']:,.2f}" in word and f"{p['share']:.1%}" in word
    _assert_map_printed(pdf, tmp_path)
    code, _, err = _run("report", "zone", "无此片区", "-o", str(tmp_path / "z.docx"))
    assert code == 2 and "无此片区" in err
