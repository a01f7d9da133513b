"""Maps on paper: geometries in a metric CRS → a PNG at print resolution, with no web tiles and no policy.

The map has what a planner's printed map needs: the features, the context (block lines, the county line),
a scale bar, a north arrow, a legend and Chinese labels in the CJK font the project installs
(Debian's ``fonts-noto-cjk``; ``BLOCKLINE_CJK_FONT`` names another file).

Examples
--------
>>> from shapely import box
>>> import geopandas as gpd
>>> layer = MapLayer("宗地", gpd.GeoSeries([box(0, 0, 100, 100)], crs="EPSG:4549"), face="#e41a1c")
>>> drawn = render_map([layer], title="示例")  # doctest: +SKIP
>>> drawn.keys  # doctest: +SKIP
()

Labels (``MapLayer.labels``) never overlap: where one does not fit its feature it is replaced on the map by a
key (``geo.paper_labels``), and ``PaperMap.keys`` says which label each key stands for, to be printed with
the map.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import sqlalchemy as sa
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import LineStyleType
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from geo.errors import BlocklineError
from geo.paper_labels import Placed, common_prefix, place_labels
from geo.settings import get_settings

__all__ = [
    "FONT_CANDIDATES",
    "MapLayer",
    "MissingFont",
    "PaperMap",
    "cjk_font_path",
    "context_layers",
    "nice_length_m",
    "render_map",
]

#: where Debian's fonts-noto-cjk (and a few other CJK fonts) put their files, in the order tried
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)

DPI = 300  # print resolution


class MissingFont(BlocklineError):
    """No CJK font file: documents and maps cannot print Chinese (exit code 2)."""


def cjk_font_path() -> Path:
    """The CJK font file: ``BLOCKLINE_CJK_FONT`` if set, else the first of ``FONT_CANDIDATES`` present.

    Raises
    ------
    MissingFont
        When none is there, saying which package to install.
    """
    named = get_settings().cjk_font
    if named:
        if Path(named).is_file():
            return Path(named)
        raise MissingFont(
            f"BLOCKLINE_CJK_FONT 指定的字体文件不存在：{named}",
            f"the font file BLOCKLINE_CJK_FONT names does not exist: {named}",
            fix_zh="改为存在的 .ttc/.otf/.ttf 文件，或删去此设置",
            fix_en="name an existing font file, or unset it",
        )
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MissingFont(
        "找不到中文字体，无法生成含中文的地图和文书",
        "no CJK font: maps and documents cannot print Chinese",
        fix_zh="安装 fonts-noto-cjk（sudo apt-get install fonts-noto-cjk，或运行 ./dev.sh setup），"
        "或用 BLOCKLINE_CJK_FONT 指定字体文件",
        fix_en="install fonts-noto-cjk (sudo apt-get install fonts-noto-cjk, or ./dev.sh setup), "
        "or name a font file in BLOCKLINE_CJK_FONT",
    )


@dataclass(frozen=True)
class MapLayer:
    """One layer of the map: its legend label, its geometries (metric CRS) and how it is drawn."""

    label: str
    geometries: gpd.GeoSeries
    face: str = "none"
    edge: str = "#333333"
    linewidth: float = 0.8
    alpha: float = 0.6
    linestyle: LineStyleType = "-"
    hatch: str | None = None
    #: text drawn at each geometry's representative point (e.g. parcel numbers), or None
    labels: Sequence[str] | None = None


@dataclass(frozen=True)
class PaperMap:
    """A rendered map: the PNG, and what its labels say.

    ``keys`` holds (key, label) for each feature whose label did not fit on the map and got a key (1, 2, …)
    instead, in key order: the document prints them with the map. ``prefix`` is what every label shared
    and the map leaves off (said in the map's note), ``labels`` what was drawn for each label.
    """

    png: bytes
    keys: tuple[tuple[str, str], ...] = ()
    prefix: str = ""
    labels: tuple[Placed, ...] = ()


def nice_length_m(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ metres) of at most a quarter of the map's width.

    Examples
    --------
    >>> nice_length_m(1000.0), nice_length_m(4000.0), nice_length_m(130.0)
    (200.0, 1000.0, 20.0)
    """
    target = max(width_m / 4.0, 1e-9)
    exp = math.floor(math.log10(target))
    for step in (5.0, 2.0, 1.0):
        if step * 10**exp <= target:
            return step * 10**exp
    return 10.0**exp


def context_layers(engine: Engine, *, bounds: tuple[float, float, float, float], srid: int) -> list[MapLayer]:
    """The context of a map from PostGIS: county lines and current level-1/level-2 block lines within ``bounds``."""
    env = "ST_MakeEnvelope(:x0, :y0, :x1, :y1, :srid)"
    params = dict(zip(("x0", "y0", "x1", "y1"), bounds, strict=True)) | {"srid": srid}
    with engine.connect() as conn:
        counties = gpd.read_postgis(
            sa.text(f"""
            SELECT name, ST_Boundary(geom) AS geom FROM admin_areas
            WHERE level = 'county' AND geom && {env}"""),
            conn,
            geom_col="geom",
            params=params,
        )
        lines = gpd.read_postgis(
            sa.text(f"""
            SELECT level, ST_Boundary(geom) AS geom FROM block_lines WHERE valid_to IS NULL AND geom && {env}"""),
            conn,
            geom_col="geom",
            params=params,
        )
    layers = []
    for level, color in ((1, "#d7301f"), (2, "#fc8d59")):
        geoms = lines[lines["level"] == level].geometry
        if len(geoms):
            layers.append(
                MapLayer(
                    f"{'一' if level == 1 else '二'}级工业区块线",
                    geoms,
                    face="none",
                    edge=color,
                    linewidth=1.2,
                    alpha=1.0,
                    linestyle="--" if level == 2 else "-",
                )
            )
    if len(counties):
        layers.append(
            MapLayer(
                "县（市、区）界", counties.geometry, edge="#555555", linewidth=1.6, alpha=1.0, linestyle="-."
            )
        )
    return layers


def _font_name(path: Path) -> str:
    """The family name of the font file ``path``, registered with matplotlib."""
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _bounds(layers: Sequence[MapLayer], pad: float, aspect: float) -> tuple[float, float, float, float]:
    """The layers' bounds, padded, widened to ``aspect`` (width ÷ height), with room at the foot for the scale."""
    x0, y0, x1, y1 = math.inf, math.inf, -math.inf, -math.inf
    for layer in layers:
        if len(layer.geometries) == 0:
            continue
        a, b, c, d = layer.geometries.total_bounds
        x0, y0, x1, y1 = min(x0, a), min(y0, b), max(x1, c), max(y1, d)
    if not math.isfinite(x0):
        raise ValueError("nothing to draw: every focus layer is empty")
    w, h = max(x1 - x0, 50.0) * (1 + pad), max(y1 - y0, 50.0) * (1 + pad)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h *= 1.12  # the scale bar's strip
    cy -= h * 0.05
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _draw(ax: Axes, layer: MapLayer, handles: list[object]) -> None:
    """Draw one layer on ``ax`` and add its legend entry to ``handles``."""
    geoms = layer.geometries
    if len(geoms) == 0:
        return
    is_line = all(t in ("LineString", "MultiLineString") for t in geoms.geom_type)
    if is_line:
        geoms.plot(ax=ax, color=layer.edge, linewidth=layer.linewidth, linestyle=layer.linestyle, zorder=3)
        handles.append(
            Line2D(
                [0],
                [0],
                color=layer.edge,
                linewidth=layer.linewidth,
                linestyle=layer.linestyle,
                label=layer.label,
            )
        )
    else:
        geoms.plot(
            ax=ax,
            facecolor=layer.face,
            edgecolor=layer.edge,
            linewidth=layer.linewidth,
            alpha=layer.alpha,
            linestyle=layer.linestyle,
            hatch=layer.hatch,
            zorder=2,
        )
        handles.append(
            Patch(
                facecolor=layer.face,
                edgecolor=layer.edge,
                alpha=layer.alpha,
                hatch=layer.hatch,
                linestyle=layer.linestyle,
                label=layer.label,
            )
        )


def _scale_bar(ax: Axes, bounds: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = bounds
    length = nice_length_m(x1 - x0)
    bx, by = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.06
    half = length / 2
    ax.fill(
        [
            bx - (x1 - x0) * 0.02,
            bx + length + (x1 - x0) * 0.02,
            bx + length + (x1 - x0) * 0.02,
            bx - (x1 - x0) * 0.02,
        ],
        [by - (y1 - y0) * 0.04, by - (y1 - y0) * 0.04, by + (y1 - y0) * 0.07, by + (y1 - y0) * 0.07],
        facecolor="white",
        alpha=0.8,
        edgecolor="none",
        zorder=5,
    )
    ax.fill(
        [bx, bx + half, bx + half, bx],
        [by, by, by + (y1 - y0) * 0.012, by + (y1 - y0) * 0.012],
        color="black",
        zorder=6,
    )
    ax.fill(
        [bx + half, bx + length, bx + length, bx + half],
        [by, by, by + (y1 - y0) * 0.012, by + (y1 - y0) * 0.012],
        facecolor="white",
        edgecolor="black",
        zorder=6,
    )
    text = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    ax.text(bx + length / 2, by + (y1 - y0) * 0.02, text, ha="center", va="bottom", fontsize=7, zorder=6)
    ax.text(bx, by - (y1 - y0) * 0.005, "0", ha="center", va="top", fontsize=6, zorder=6)
    ax.text(bx + length, by - (y1 - y0) * 0.005, f"{length:g}", ha="center", va="top", fontsize=6, zorder=6)
    return length


def _north_arrow(ax: Axes) -> None:
    ax.annotate(
        "北",
        xy=(0.94, 0.95),
        xytext=(0.94, 0.83),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        zorder=7,
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 9},
    )


def render_map(
    layers: Sequence[MapLayer],
    *,
    context: Sequence[MapLayer] = (),
    title: str = "",
    size_mm: tuple[float, float] = (160.0, 120.0),
    dpi: int = DPI,
    pad: float = 0.25,
    note: str = "",
) -> PaperMap:
    """Render ``layers`` (which set the extent) over ``context`` (clipped to it) as a PNG.

    Parameters
    ----------
    layers : sequence of MapLayer
        The features the map is about; the extent is their bounds, padded by ``pad`` (a share of the size).
    context : sequence of MapLayer
        Drawn beneath, for orientation (block lines, county lines); they do not widen the extent.
    title : str
        Printed above the map.
    size_mm : (float, float)
        The map's width and height on paper.
    dpi : int
        Print resolution (300 by default).
    note : str
        A line printed under the map (e.g. the coordinate system).

    Returns
    -------
    PaperMap
        The PNG file, and the keys that stand for labels which did not fit (to be printed with the map).
    """
    matplotlib.use("Agg", force=False)
    font = _font_name(cjk_font_path())
    bounds = _bounds(layers, pad, size_mm[0] / size_mm[1])
    labelled = [lay for lay in [*context, *layers] if lay.labels is not None and len(lay.geometries)]
    geoms = [g for lay in labelled for g in lay.geometries]
    labels = [str(t) for lay in labelled for t in (lay.labels or ())]
    if len(geoms) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(geoms)} geometries")
    prefix = common_prefix(labels)
    if prefix:
        note = "\n".join(filter(None, [note, f"图上标注略去共同前缀“{prefix}”"]))
    inch = 25.4
    with matplotlib.rc_context({"font.family": font, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(size_mm[0] / inch, size_mm[1] / inch), dpi=dpi)
        try:
            handles: list[object] = []
            for layer in [*context, *layers]:
                _draw(ax, layer, handles)
            drawn = set(
                ax.get_children()
            )  # the features, context and the axes' own parts: labels go over them
            ax.set_xlim(bounds[0], bounds[2])
            ax.set_ylim(bounds[1], bounds[3])
            ax.set_aspect("equal", adjustable="box")  # the extent stays; the frame takes its shape
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
            if title:
                ax.set_title(title, fontsize=10)
            _scale_bar(ax, bounds)
            _north_arrow(ax)
            _legend_and_note(ax, handles, note)
            placed = _labels(ax, geoms, labels, prefix=prefix, under=drawn)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
    keys = tuple(sorted(((p.drawn, p.label) for p in placed if p.keyed), key=lambda k: int(k[0])))
    return PaperMap(png=buf.getvalue(), keys=keys, prefix=prefix, labels=tuple(placed))


def _labels(
    ax: Axes, geoms: list[BaseGeometry], labels: list[str], *, prefix: str, under: set[Artist]
) -> list[Placed]:
    """Place the labels last, clear of what was drawn on the map after ``under`` (scale bar, arrow, note)."""
    if not labels:
        return []
    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.draw_without_rendering()  # the frame's final shape (equal aspect) and the legend's place
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    avoid = [a.get_window_extent(renderer) for a in ax.get_children() if a not in under and a.get_visible()]
    return place_labels(ax, geoms, labels, avoid=avoid, prefix=prefix)


def _legend_and_note(ax: Axes, handles: list[object], note: str) -> None:
    """The legend under the map and ``note`` (if any) in its bottom-right corner."""
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=min(len(handles), 3),
        fontsize=7,
        frameon=False,
    )
    if note:
        ax.text(
            0.99,
            0.01,
            note,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=5.5,
            color="#444444",
            zorder=7,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
        )
