"""数据: a zipped GBK shapefile without .cpg, uploaded through the file uploader, previews with its Chinese decoded.

Nothing is loaded (the preview writes nothing), so the demo city the other tests see is unchanged.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
from playwright.sync_api import Page, expect

from tests.e2e.app_driver import metric_text, open_page, screenshot, settle
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, write_shapefile

HOLDERS = ["温州瓯江阀门有限公司", "浙江鹿城鞋业集团股份有限公司"]


def _gbk_zip(folder: Path) -> Path:
    """Two 100 m parcels in EPSG:4549, attributes in GBK and no .cpg (as many offices send them), zipped."""
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["E2E-001", "E2E-002"], "权利人": HOLDERS, "土地用途": ["100101", "100102"]},
        geometry=[square(X + 100, Y + 100), square(X + 300, Y + 100)],
        crs="EPSG:4549",
    )
    shp = write_shapefile(gdf, folder / "宗地.shp", encoding="GBK", cpg=False)
    raw = (folder / "宗地.dbf").read_bytes()
    assert HOLDERS[0].encode("gbk") in raw and HOLDERS[0].encode("utf-8") not in raw  # truly GBK
    archive = folder / "宗地.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(folder.glob(f"{shp.stem}.*")):
            if part != archive:
                zf.write(part, part.name)
    return archive


def test_upload_gbk_shapefile_preview(page: Page, shots: Path, tmp_path: Path) -> None:
    archive = _gbk_zip(tmp_path)
    open_page(page, "data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(archive)
    expect(page.get_by_role("heading", name="预览（尚未写入数据库）")).to_be_visible(timeout=60_000)
    settle(page)
    assert metric_text(page, "要素数") == "2"
    assert metric_text(page, "编码") in ("GBK", "GB18030")
    assert "4549" in metric_text(page, "坐标系")
    # The attribute table is drawn on a canvas; the grid keeps its cells in an accessible (visually hidden)
    # table too, which is what is read here: the headers and the holders decoded from GBK.
    table = page.locator('[data-testid="stDataFrame"]').first
    for header in ("宗地编号", "权利人", "土地用途"):
        expect(table.get_by_role("columnheader", name=header, exact=True, include_hidden=True)).to_have_count(
            1
        )
    for holder in HOLDERS:
        expect(table.get_by_role("gridcell", name=holder, exact=True, include_hidden=True)).to_have_count(1)
    expect(page.get_by_text("可以导入")).to_be_visible()
    screenshot(page, shots / "data-preview.png")
