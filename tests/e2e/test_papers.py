"""A document button in the browser (issue 15): on 全生命周期, the 履约核查函 of a parcel with a tax shortfall is
downloaded as a Word file and carries the engine's penalty and article."""

from __future__ import annotations

from pathlib import Path

import docx
import sqlalchemy as sa
from playwright.sync_api import Page

from geo import clock
from tests.e2e.app_driver import open_page, settle


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
        profile=get_profile("wenzhou-2020"),
    )
    short = found[found["category"] == "tax_shortfall"].iloc[0]
    open_page(page, "lifecycle")
    page.get_by_label("查找宗地（宗地编号或权利人）").fill(short["parcel_no"])
    page.keyboard.press("Enter")
    settle(page)
    with page.expect_download() as caught:
        page.get_by_role("button", name="履约核查函（Word）").click()
    path = tmp_path / caught.value.suggested_filename
    caught.value.save_as(path)
    assert path.name == f"blockline-contract-{short['parcel_no']}.docx"
    d = docx.Document(str(path))
    text = "\n".join(
        [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
    )
    assert "履约核查函" in text and short["parcel_no"] in text
    assert f"违约金 {short['penalty_wan']:,.2f} 万元" in text and short["article"] in text
