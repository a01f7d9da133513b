"""Parcel labels on a paper's map never overlap, and every labelled parcel can be told from the paper (issue 15).

A row of twelve 12 m-wide parcels side by side and one 400 m × 300 m parcel, in EPSG:4549: at the map's scale
(about 3.5 m to the millimetre) a number of 6 pt (some 16 mm, 55 m) fits the large parcel and none of the
slim ones, so by hand: the large parcel carries its number (the shared county code left off), the slim ones
keys 1–12 from left to right, and the paper lists each key with its parcel number after the map.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docx
import geopandas as gpd
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from shapely import box

from blockline.reports.document import Cover, write_document
from blockline.reports.papers import zone_paper
from geo.paper_labels import LABEL_GID
from geo.paper_map import MapLayer, PaperMap, render_map
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y

SLIM = [box(X + 12 * i, Y, X + 12 * (i + 1), Y + 80) for i in range(12)]
LARGE = box(X - 100, Y - 400, X + 300, Y - 100)
NUMBERS = [f"330327-2020-0004-{i + 1:04d}" for i in range(12)] + ["330327-2019-0001"]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PaperMap, Figure]]:
    """The map, and its figure kept open (render_map closes it) to read the labels' extents back."""
    figures: list[Figure] = []
    monkeypatch.setattr(plt, "close", figures.append)
    layer = MapLayer("宗地", gpd.GeoSeries([*SLIM, LARGE], crs="EPSG:4549"), face="#deebf7", labels=NUMBERS)
    made = render_map([layer], title="连片开发片区", note="坐标系 EPSG:4549")
    monkeypatch.undo()
    yield made, figures[0]
    plt.close(figures[0])


def _labels(fig: Figure) -> list[Text]:
    return [t for t in fig.axes[0].texts if t.get_gid() == LABEL_GID]


def test_no_two_labels_overlap_and_each_parcel_has_one(drawn: tuple[PaperMap, Figure]) -> None:
    made, fig = drawn
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = _labels(fig)
    # the text's own extent (Text's, not Annotation's, which takes in the leader line)
    boxes = [Text.get_window_extent(t, renderer) for t in texts]
    assert len(texts) == len(NUMBERS)
    assert not [
        (a.get_text(), b.get_text())
        for (a, ba), (b, bb) in itertools.combinations(zip(texts, boxes, strict=True), 2)
        if ba.overlaps(bb)
    ]
    frame = fig.axes[0].bbox
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)
    assert made.prefix == "330327-"
    assert sorted(t.get_text() for t in texts) == sorted(p.drawn for p in made.labels)


def test_what_does_not_fit_gets_a_key_in_reading_order(drawn: tuple[PaperMap, Figure]) -> None:
    made, _ = drawn
    assert [(p.drawn, p.keyed) for p in made.labels[-1:]] == [("2019-0001", False)]
    assert made.keys == tuple((str(i + 1), NUMBERS[i]) for i in range(12))


def test_every_parcel_number_is_on_the_paper_by_its_label_or_its_key(
    drawn: tuple[PaperMap, Figure], tmp_path: Path
) -> None:
    made, fig = drawn
    on_map = {t.get_text() for t in _labels(fig)}
    parcels = [
        {"parcel_no": n, "holder": "甲", "area_in_zone_mu": 1.0, "share": 1.0, "low_efficiency": False}
        for n in NUMBERS
    ]
    assessment = {
        "area_mu": 13.0,
        "parcels": parcels,
        "holders": 1,
        "low_efficiency_share": 0.0,
        "article": "WZ §12",
        "meets_threshold": False,
        "block_line_levels": [1],
    }
    doc = zone_paper(
        {"id": 1, "name": "东片", "county_code": "330327", "requirements": {}},
        assessment,
        cover=Cover("温州市自然资源和规划局", dt.date(2026, 11, 1), "李工"),
        min_mu=300.0,
        as_of=dt.date(2026, 11, 1),
        map_png=made.png,
        map_keys=made.keys,
    )
    pdf = write_document(doc, tmp_path / "zone.pdf")
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    key = re.compile(r"(\d+)=(330327-[\d-]+\d)")  # "1 = 330327-…；2 = …", white space left out (pages wrap)
    listed = dict(key.findall("".join(text.split("图上序号：", 1)[1].split())))
    word = docx.Document(str(write_document(doc, tmp_path / "zone.docx")))
    caption = next(p.text for p in word.paragraphs if "图上序号：" in p.text)
    assert listed == dict(key.findall("".join(caption.split("图上序号：", 1)[1].split()))) == dict(made.keys)
    for number in NUMBERS:
        short = number.removeprefix(made.prefix)
        keys = [k for k, n in listed.items() if n == number]
        assert short in on_map or (len(keys) == 1 and keys[0] in on_map), number
    assert f"图上标注略去共同前缀“{made.prefix}”" in {t.get_text().split("\n")[-1] for t in fig.axes[0].texts}
