"""The document buttons in the browser (issue 15), each clicked as a planner reaches it: the file arrives, and
it is the paper asked for, about what the page shows.

- 全生命周期: the 履约核查函 of a parcel with a tax shortfall, found by its number (Word).
- 低效与闲置用地: a parcel with one idle finding, narrowed down by its holder and picked in the picker; its
  闲置土地调查通知书 (PDF) and 认定书 (Word) carry its number, the finding's article and its detail.
- 连片开发: the largest candidate zone taken as the drawn zone, saved under a name and opened; its 片区方案
  (Word) lists every parcel of the candidate and cites the threshold's article.
- 占补平衡: a removal dragged and an addition clicked with the mouse on the map; the 论证材料 (PDF) carries the
  occupied and replaced 亩 the page shows.

What each paper should say is worked out here, from the store, with ``zoning``'s functions (never from what the
page computed); where to click or what to type comes from the store too. PDFs are read with ``pdftotext``
(whitespace dropped: a line may break anywhere), Word files with python-docx.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from geo import clock
from tests.e2e.app_driver import (
    choose,
    metric_text,
    open_page,
    settle,
    wait_for_map,
)
from tests.e2e.test_drawing import (  # the drawing tests' way to find where to draw, and to draw there
    Site,
    draw_adjustment,
    site,  # noqa: F401 - a fixture, used by name
)

POLICY = "wenzhou-2020"  # the settings' profile, which every page opens with


def _flat(text: str) -> str:
    return "".join(text.split())


def _download(page: Page, button: str, folder: Path) -> Path:
    """Click the download button ``button`` and keep the file it gives (a timeout when it gives none)."""
    with page.expect_download(timeout=60_000) as caught:
        page.get_by_role("button", name=button, exact=True).click()
    path = folder / caught.value.suggested_filename
    caught.value.save_as(path)
    assert path.stat().st_size > 0, f"{button} gave an empty file"
    return path


def _docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    return "\n".join(
        [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
    )


def _pdf_text(path: Path) -> str:
    """The PDF's text without any whitespace (``pdftotext``, poppler)."""
    done = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True, timeout=60
    )
    return _flat(done.stdout)


def test_the_contract_letter_button_gives_the_word_file(
    page: Page, e2e_engine: sa.Engine, tmp_path: Path
) -> None:
    from geo.queries import read_parcels, read_ratings
    from zoning.lifecycle import lifecycle_findings
    from zoning.policy import get_profile

    found = lifecycle_findings(
        read_parcels(e2e_engine, geometry=False),
        read_ratings(e2e_engine),
        as_of=clock.today(),
        profile=get_profile(POLICY),
    )
    short = found[found["category"] == "tax_shortfall"].iloc[0]
    open_page(page, "lifecycle")
    page.get_by_label("查找宗地（宗地编号或权利人）").fill(short["parcel_no"])
    page.keyboard.press("Enter")
    settle(page)
    path = _download(page, "履约核查函（Word）", tmp_path)
    assert path.name == f"blockline-contract-{short['parcel_no']}.docx"
    text = _docx_text(path)
    assert "履约核查函" in text and short["parcel_no"] in text
    assert f"违约金 {short['penalty_wan']:,.2f} 万元" in text and short["article"] in text


def test_the_idle_papers_of_a_picked_parcel(page: Page, e2e_engine: sa.Engine, tmp_path: Path) -> None:
    from geo.queries import read_parcels
    from zoning.idle import idle_findings
    from zoning.policy import get_profile

    parcels = read_parcels(e2e_engine, geometry=False)
    found = idle_findings(parcels, as_of=clock.today(), profile=get_profile(POLICY))
    idle = found[found["category"].isin(["idle", "idle_reclaimable"])]
    alone = idle.groupby("parcel_no").filter(lambda g: len(g) == 1)  # one finding: the paper cites only it
    holders = parcels.set_index("parcel_no")["holder"]
    alone = alone[alone["parcel_no"].map(holders).fillna("").str.len() > 0]
    finding = alone.iloc[0]
    no, holder = str(finding["parcel_no"]), str(holders[finding["parcel_no"]])

    open_page(page, "idle")
    page.get_by_label("权利人包含").fill(holder)  # the city has more flagged parcels than the picker offers
    page.keyboard.press("Enter")
    settle(page)
    choose(page, "在地图上定位宗地", no, typed=no)
    expect(page.get_by_text(f"定位：{no}，{holder}")).to_be_visible()

    notice = _download(page, "闲置土地调查通知书（PDF）", tmp_path)
    assert notice.name == f"blockline-idle-notice-{no}.pdf"
    text = _pdf_text(notice)
    assert "闲置土地调查通知书" in text and no in text
    assert _flat(finding["article"]) in text and _flat(finding["detail"]) in text

    decision = _download(page, "闲置土地认定书（Word）", tmp_path)
    assert decision.name == f"blockline-idle-decision-{no}.docx"
    text = _docx_text(decision)
    assert "闲置土地认定书" in text and no in text
    assert finding["article"] in text and finding["detail"] in text


def test_the_zone_plan_of_a_saved_candidate(page: Page, e2e_engine: sa.Engine, tmp_path: Path) -> None:
    from geo.queries import read_parcels, read_ratings
    from zoning.consolidation import detect_zones
    from zoning.idle import low_efficiency
    from zoning.policy import get_profile

    profile = get_profile(POLICY)
    parcels = read_parcels(e2e_engine)
    parcels["low_efficiency"] = low_efficiency(
        parcels, read_ratings(e2e_engine), as_of=clock.today(), profile=profile
    ).to_numpy()
    zones = detect_zones(
        parcels,
        min_mu=float(profile.value("consolidation.min_mu")),
        gap_m=float(profile.value("consolidation.gap_m")),
    )
    largest = zones.iloc[0]  # the page lists, offers and draws the largest first
    zone_id, members = str(largest["zone_id"]), [str(no) for no in largest["parcels"]]
    name = "e2e 片区方案"

    open_page(page, "zones")
    choose(page, "在地图上突出显示候选片区", re.compile(re.escape(zone_id)), typed=zone_id)
    page.get_by_role("button", name="以此候选片区为绘制范围", exact=True).click()
    settle(page)
    expect(page.get_by_text("片区评估", exact=True)).to_be_visible()
    wait_for_map(page)  # the zone on the map, before the form below it: nothing of the map comes in later
    settle(page)
    form = page.get_by_text("命名并保存片区", exact=True)
    name_box = page.get_by_label("片区名称（必填）")
    form.click()
    name_box.fill(name)
    name_box.press("Enter")
    settle(page)
    # The first rerun after a candidate is taken closes the form (the one-time notice above it goes, and the
    # form is drawn anew, collapsed): open it again, as the planner must.
    if not name_box.is_visible():
        form.click()
    expect(name_box).to_have_value(name)
    page.get_by_role("button", name="保存片区", exact=True).click()
    settle(page)
    saved = page.get_by_text(re.compile(r"已保存片区 #\d+。"))
    expect(saved).to_be_visible()
    found = re.search(r"#(\d+)", saved.inner_text())
    assert found is not None
    zone_no = int(found.group(1))
    wait_for_map(page)  # the map drawn anew, emptied (the zone is saved, no longer drawn)
    settle(page)
    choose(page, "打开片区", re.compile(re.escape(f"#{zone_no} {name}")), typed=f"#{zone_no}")

    plan = _download(page, "连片开发片区方案（Word）", tmp_path)
    assert plan.name == f"blockline-zone-{zone_no}-plan.docx"
    text = _docx_text(plan)
    assert "连片开发片区方案" in text and name in text
    assert profile.cite("consolidation.min_mu") in text
    missing = [no for no in members if no not in text]
    assert not missing, f"the plan leaves out parcels of the zone: {missing}"


def test_the_balance_paper_of_a_drawn_adjustment(page: Page, site: Site, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    open_page(page, "balance")
    choose(page, "县（市、区）", f"{site.county} {site.name}")
    draw_adjustment(page, site)
    occupied, replaced = metric_text(page, "占用一级线"), metric_text(page, "补划一级线")

    paper = _download(page, "占补平衡调整论证材料（PDF）", tmp_path)
    assert paper.name == f"blockline-balance-{site.county}.pdf"
    text = _pdf_text(paper)
    assert "占补平衡调整论证材料" in text and _flat(f"{site.county} {site.name}") in text
    # the figures the page shows, in the paper's opening sentence and in its table
    assert _flat(f"调出（占用）一级工业区块线 {occupied}，补入一级工业区块线 {replaced}") in text
    assert _flat(f"占用一级线面积 {occupied}") in text and _flat(f"补充一级线面积 {replaced}") in text
