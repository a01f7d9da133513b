"""Labels on a paper map that never overlap: each feature's text where it fits, else a numbered key.

A paper map labels its features (parcel numbers) at a point inside each. Drawn blindly, the labels of small
neighbouring parcels run into each other. Here the labels are placed largest feature first, each measured
with the figure's renderer: a label goes where it fits inside its feature and clear of every label already
placed (and of the scale bar, north arrow, legend and note); a feature whose label finds no such place gets
a short key instead (1, 2, … in reading order), inside it or beside it with a leader line, and the caller
lists key → label with the map. A prefix every label shares (a county code) is left off on the map, and
said once in its note.

Examples
--------
>>> common_prefix(["330327-2020-0004-0002", "330327-2021-0011"])
'330327-'
>>> common_prefix(["330327-2020-0004"]), common_prefix(["330327-2020-0004", "330302-2021-0002"])
('', '')
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.transforms import Bbox
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

__all__ = ["LABEL_GID", "Placed", "common_prefix", "place_labels"]

#: the ``gid`` of every label (and key) drawn, so that a reader of the figure can find them
LABEL_GID = "map-label"

_Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in display pixels


@dataclass(frozen=True)
class Placed:
    """One feature's label as drawn: the full ``label``, the ``drawn`` text, and whether that is a key."""

    label: str
    drawn: str
    keyed: bool


def common_prefix(labels: Sequence[str], *, sep: str = "-") -> str:
    """The first ``sep``-ended segment of the labels, when every label starts with it and has more after it.

    One label keeps its prefix: a map of one parcel names it in full (and its title does too).
    """
    if len(labels) < 2:
        return ""
    head, found, _ = labels[0].partition(sep)
    prefix = head + sep if found and head else ""
    if prefix and all(t.startswith(prefix) and len(t) > len(prefix) for t in labels):
        return prefix
    return ""


def _overlaps(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Board:
    """What is on the map already: boxes (labels, decorations) and leader lines, in display pixels."""

    def __init__(self, ax: Axes, avoid: Sequence[Bbox]) -> None:
        self.frame: _Box = tuple(ax.bbox.extents)  # type: ignore[assignment]
        self.boxes: list[_Box] = [tuple(b.extents) for b in avoid]  # type: ignore[misc]
        self.leaders: list[shapely.LineString] = []
        self.anchors = np.empty((0, 2))  # the features' label points: a key beside its feature covers none

    def clear_of_anchors(self, box: _Box, margin_px: float) -> bool:
        x, y = self.anchors[:, 0], self.anchors[:, 1]
        near = (
            (x > box[0] - margin_px)
            & (x < box[2] + margin_px)
            & (y > box[1] - margin_px)
            & (y < box[3] + margin_px)
        )
        return not near.any()

    def free(self, box: _Box, leader: BaseGeometry | None = None) -> bool:
        f = self.frame
        if box[0] < f[0] or box[1] < f[1] or box[2] > f[2] or box[3] > f[3]:
            return False
        if any(_overlaps(box, b) for b in self.boxes):
            return False
        if self.leaders and shapely.intersects(shapely.box(*box), self.leaders).any():
            return False
        if leader is None:
            return True
        crossed = self.leaders and shapely.intersects(leader, self.leaders).any()  # leaders do not cross
        return not crossed and not any(leader.intersects(shapely.box(*b)) for b in self.boxes)


def _size(
    ax: Axes, renderer: RendererBase, text: str, fontsize: float, pad_px: float, *, keyed: bool
) -> tuple[float, float]:
    """The width and height (pixels) a label takes, its padding included."""
    weight = "bold" if keyed else "normal"
    t = ax.text(0, 0, text, fontsize=fontsize, fontweight=weight, ha="center", va="center")
    ext = t.get_window_extent(renderer)
    t.remove()
    return ext.width + 2 * pad_px, ext.height + 2 * pad_px


def _box(x: float, y: float, size: tuple[float, float]) -> _Box:
    return (x - size[0] / 2, y - size[1] / 2, x + size[0] / 2, y + size[1] / 2)


def _inside(shape: BaseGeometry, step_px: float) -> list[tuple[float, float]]:
    """Points of ``shape`` (display pixels) to try a label at: its centre, its pole, then a grid, nearest first."""
    parts = sorted(shapely.get_parts(shape), key=lambda p: -p.area)
    if not parts or parts[0].is_empty or parts[0].geom_type != "Polygon":
        return []
    pole = polylabel(parts[0], tolerance=1.0)
    centre = parts[0].centroid
    first = [(centre.x, centre.y)] if parts[0].contains(centre) else []
    x0, y0, x1, y1 = shape.bounds
    step = max(step_px, (x1 - x0) / 16, (y1 - y0) / 16)
    xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    grid = shapely.points(xs.ravel(), ys.ravel())
    grid = grid[shapely.contains(shape, grid)]
    order = np.argsort(shapely.distance(grid, pole), kind="stable")
    return [*first, (pole.x, pole.y), *((float(p.x), float(p.y)) for p in grid[order])]


def _around(x: float, y: float, step_px: float, reach_px: float) -> Iterator[tuple[float, float]]:
    """Points on rings about (x, y), nearest ring first, out to ``reach_px``."""
    r = step_px
    while r <= reach_px:
        n = max(8, int(2 * math.pi * r / step_px))
        for k in range(n):
            a = 2 * math.pi * k / n
            yield x + r * math.cos(a), y + r * math.sin(a)
        r += step_px


def place_labels(
    ax: Axes,
    geometries: Sequence[BaseGeometry],
    labels: Sequence[str],
    *,
    avoid: Sequence[Bbox] = (),
    prefix: str = "",
    fontsize: float = 6.0,
) -> list[Placed]:
    """Draw ``labels`` on ``ax`` at their ``geometries`` (data coordinates), no two overlapping.

    The axes' limits and aspect must be final (the figure laid out). Each label, with ``prefix`` left off,
    is drawn inside its feature where it fits clear of the others and of ``avoid`` (display boxes), largest
    feature first; the rest get keys 1, 2, … (top to bottom, left to right), inside their feature or beside
    it with a leader line. Returns, by input row, what was drawn.
    """
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    pad_px = (0.15 * fontsize + 0.6) * ax.figure.dpi / 72  # the label's white box, and a hair between
    board = _Board(ax, avoid)
    to_px = ax.transData.transform
    shapes = [shapely.transform(g, to_px) for g in geometries]
    anchors = [to_px([(p.x, p.y)])[0] for p in (g.representative_point() for g in geometries)]
    board.anchors = np.array(anchors).reshape(-1, 2)
    order = sorted(range(len(labels)), key=lambda i: (-geometries[i].area, i))
    drawn: dict[int, Placed] = {}
    step = fontsize * ax.figure.dpi / 72
    for i in order:
        text = labels[i][len(prefix) :] if prefix and labels[i].startswith(prefix) else labels[i]
        size = _size(ax, renderer, text, fontsize, pad_px, keyed=False)
        for x, y in _inside(shapes[i], step):
            box = _box(x, y, size)
            if board.free(box) and shapes[i].covers(shapely.box(*box)):
                _draw(ax, board, text, box, keyed=False, fontsize=fontsize)
                drawn[i] = Placed(labels[i], text, keyed=False)
                break
    rest = sorted((i for i in order if i not in drawn), key=lambda i: (-anchors[i][1], anchors[i][0]))
    keys = {i: str(k) for k, i in enumerate(rest, start=1)}
    reach = math.hypot(board.frame[2] - board.frame[0], board.frame[3] - board.frame[1])
    for i in (i for i in order if i in keys):
        size = _size(ax, renderer, keys[i], fontsize, pad_px, keyed=True)
        _place_key(
            ax, board, keys[i], size, shapes[i], anchors[i], step=step, reach_px=reach, fontsize=fontsize
        )
        drawn[i] = Placed(labels[i], keys[i], keyed=True)
    return [drawn[i] for i in range(len(labels))]


def _place_key(
    ax: Axes,
    board: _Board,
    key: str,
    size: tuple[float, float],
    shape: BaseGeometry,
    anchor: np.ndarray,
    *,
    step: float,
    reach_px: float,
    fontsize: float,
) -> None:
    """A key inside its feature if it fits there, else on the nearest free spot with a leader line to it."""
    for x, y in _inside(shape, step / 2):
        box = _box(x, y, size)
        if board.free(box) and shape.covers(shapely.box(*box)):
            _draw(ax, board, key, box, keyed=True, fontsize=fontsize)
            return
    ax_, ay = float(anchor[0]), float(anchor[1])
    for x, y in _around(ax_, ay, step, reach_px):
        box = _box(x, y, size)
        leader = shapely.LineString([(ax_, ay), (x, y)]).difference(shapely.box(*box))
        if board.clear_of_anchors(box, step / 2) and board.free(box, leader if not leader.is_empty else None):
            _draw(ax, board, key, box, keyed=True, fontsize=fontsize, leader_from=(ax_, ay))
            return
    _draw(
        ax, board, key, _box(ax_, ay, size), keyed=True, fontsize=fontsize
    )  # a full map: on its feature, as before


def _draw(
    ax: Axes,
    board: _Board,
    text: str,
    box: _Box,
    *,
    keyed: bool,
    fontsize: float,
    leader_from: tuple[float, float] | None = None,
) -> None:
    """Draw ``text`` centred in ``box`` (display pixels), with a leader line from ``leader_from``."""
    to_data = ax.transData.inverted().transform
    centre = to_data([((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)])[0]
    style = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#333333" if keyed else "none", "alpha": 0.8}
    ax.annotate(
        text,
        to_data([leader_from])[0] if leader_from else centre,
        xytext=centre,
        ha="center",
        va="center",
        fontsize=fontsize,
        fontweight="bold" if keyed else "normal",
        zorder=8,
        gid=LABEL_GID,
        bbox=style | ({"lw": 0.4} if keyed else {}),
        arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#333333", "shrinkA": 0, "shrinkB": 0}
        if leader_from
        else None,
    )
    board.boxes.append(box)
    if leader_from:
        board.leaders.append(
            shapely.LineString([leader_from, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)])
        )
