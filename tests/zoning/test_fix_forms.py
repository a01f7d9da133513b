"""Each fix in the form its surface needs: the command names its flags, the app names its widgets (issue 16).

The same error object serves both: ``str(exc)`` is what the command prints, ``blockline.ui.i18n.error_text`` what a page
shows. Widget names are the pages' own labels (``blockline.ui.i18n``), looked up here rather than written twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box

from blockline.services.ledger_record import record_adjustment
from blockline.ui.i18n import error_text, translate
from geo.errors import BlocklineError, InputError
from geo.fields import parse_field_map
from geo.io import read_vector
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.zoning.conftest import LC, WZ
from zoning.balance import Unbalanced, parse_transfers

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _label(key: str, lang: str) -> str:
    """A widget's label without its (optional)/(可选) tail: what a planner reads beside the widget."""
    return re.sub(r"[（(].*$", "", translate(key, lang)).strip()


def _both(exc: BlocklineError, flag: str, widget_key: str) -> None:
    command = str(exc)
    assert flag in command  # the command keeps its flag, in both languages
    assert command.count(flag) >= 2
    for lang in ("zh", "en"):
        shown = error_text(exc.as_dict(), lang)
        assert not FLAG.search(shown), shown
        assert "blockline " not in shown
        assert _label(widget_key, lang) in shown, (lang, shown)


def test_unbalanced_adjustment_points_the_app_to_the_transfer_picker(city: sa.Engine) -> None:
    removal = box(X + 100, Y + 100, X + 700, Y + 200)  # 600 m × 100 m = 90 亩 of level 1
    addition = box(X + 800, Y + 800, X + 1350, Y + 900)  # 550 m × 100 m = 82.5 亩: 7.5 亩 short
    with pytest.raises(Unbalanced, match="7.50") as info:
        record_adjustment(
            city,
            county=LC,
            removal=removal,
            addition=addition,
            approval_doc="温政函〔2026〕9号",
            user="approver",
            profile=WZ,
        )
    _both(info.value, "--transfer", "balance.transfer_from")
    assert "在“从以下县调入指标”中选择" in error_text(info.value.as_dict(), "zh")


def test_missing_approval_document_names_the_field(city: sa.Engine) -> None:
    with pytest.raises(InputError) as info:
        record_adjustment(
            city,
            county=LC,
            addition=box(X + 800, Y + 800, X + 900, Y + 900),
            approval_doc=" ",
            user="approver",
            profile=WZ,
        )
    _both(info.value, "--doc", "balance.doc")


def test_bad_transfer_text_names_the_picker() -> None:
    with pytest.raises(InputError) as info:
        parse_transfers(["330303"])
    _both(info.value, "--transfer", "balance.transfer_from")


def test_bad_field_map_names_the_field_map_box() -> None:
    with pytest.raises(InputError) as info:
        parse_field_map(["地块号"])
    _both(info.value, "--field-map", "data.field_map")


@pytest.mark.parametrize("epsg", [4528, 4549])
def test_two_polygon_layers_name_the_layer_picker(tmp_path: Path, epsg: int) -> None:
    x0 = X + (40_000_000 if epsg == 4528 else 0)  # EPSG:4528 carries the zone number 40 in the false easting
    path = tmp_path / "two.gpkg"
    for name in ("宗地甲", "宗地乙"):
        gpd.GeoDataFrame(
            {"宗地编号": [name]}, geometry=[box(x0, Y, x0 + 100, Y + 100)], crs=f"EPSG:{epsg}"
        ).to_file(path, layer=name, driver="GPKG")
    with pytest.raises(InputError) as info:
        read_vector(path, storage_epsg=4549)
    _both(info.value, "--layer", "data.layer")
    assert "宗地甲、宗地乙" in error_text(info.value.as_dict(), "zh")
    assert "宗地甲, 宗地乙" in error_text(info.value.as_dict(), "en")


def test_no_fix_in_the_library_names_a_flag_without_an_app_form() -> None:
    """Every fix raised by geo/ and zoning/ that names a flag goes through the catalogue (geo.fixes).

    Left out: the cluster's ``db reset`` and the backup's ``db dump``/``db restore`` (never reached from a page;
    the app has no database controls).
    """
    offenders = []
    for path in [*(ROOT / "geo").rglob("*.py"), *(ROOT / "zoning").rglob("*.py")]:
        if path.name in ("fixes.py", "cluster.py", "backup.py", "errors.py"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"fix_(zh|en)=", line) and FLAG.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []
