"""Coordinate reference systems at the edge: what a file is in, and getting it into the storage CRS.

Chinese data comes in CGCS2000 lon/lat (EPSG:4490), its 3-degree Gauss-Krüger zones with the zone
number prefixed to the easting (EPSG:4513–4533) or not (EPSG:4534–4554), WGS84, and GCJ-02, the
offset lon/lat of AMap/Gaode, which has no EPSG code and is converted explicitly (``geo.gcj02``).

Examples
--------
>>> parse_crs_option("gcj02")
'gcj02'
>>> parse_crs_option("4528").to_epsg()
4528
>>> gk_zone_epsg(zone=40, prefixed=False)
4549
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo import gcj02
from geo.errors import InputError, Problem, ValidationError
from geo.fixes import fix

__all__ = [
    "GCJ02",
    "CHINA_BOUNDS",
    "parse_crs_option",
    "gk_zone_epsg",
    "gk6_zone_epsg",
    "CrsSuggestion",
    "suggest_crs",
    "describe_crs",
    "SourceCRS",
    "resolve_source_crs",
    "to_storage",
]

GCJ02 = "gcj02"
#: lon/lat box around China's territory (with its islands), for "probably mislabelled" checks
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


def gk_zone_epsg(*, zone: int, prefixed: bool) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone ``zone`` (25–45, central meridian 3·zone °E)."""
    if not 25 <= zone <= 45:
        raise ValueError(f"zone {zone} is not a CGCS2000 3-degree zone of China (25–45)")
    return (4513 if prefixed else 4534) + zone - 25


def gk6_zone_epsg(*, zone: int) -> int:
    """EPSG code of the CGCS2000 6-degree Gauss-Krüger zone ``zone`` with its prefix (13–23, CM 6·zone − 3 °E)."""
    if not 13 <= zone <= 23:
        raise ValueError(f"zone {zone} is not a CGCS2000 6-degree zone of China (13–23)")
    return 4491 + zone - 13


@dataclass(frozen=True)
class CrsSuggestion:
    """A CRS the coordinates of a file without one look like, and why."""

    epsg: int
    zh: str
    en: str


def _prefixed_zone(minx: float, maxx: float) -> int | None:
    """The zone number every easting carries in front (40 of 40 512 345.6), when they all carry the same."""
    if not (minx >= 1e7 and maxx < 1e8):
        return None
    zone = int(minx // 1e6)
    return zone if int(maxx // 1e6) == zone else None


def suggest_crs(bounds: tuple[float, float, float, float]) -> list[CrsSuggestion]:
    """The CRSs a file's coordinates (its ``minx, miny, maxx, maxy``) look like, the likeliest first.

    Only a suggestion for the refusal of a file without a CRS: blockline never guesses silently. Eastings
    with a zone prefix tell the zone (CGCS2000 3-degree zones 25–45 → EPSG:4513–4533; 6-degree zones 13–23
    → EPSG:4491–4501; the same prefixes in Xian 1980 and Beijing 1954 come after, as older datums);
    lon/lat in China's box suggests EPSG:4490; eastings without prefix suggest EPSG:4549 (CM 120°E).

    Examples
    --------
    >>> [s.epsg for s in suggest_crs((40_568_000.0, 3_097_000.0, 40_569_000.0, 3_098_000.0))]
    [4528, 2364, 2416]
    >>> [s.epsg for s in suggest_crs((120.6, 28.0, 120.7, 28.1))][0]
    4490
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(np.isfinite([minx, miny, maxx, maxy])):
        return []
    lon0, lat0, lon1, lat1 = CHINA_BOUNDS
    if lon0 <= minx and maxx <= lon1 and lat0 <= miny and maxy <= lat1:
        return [
            CrsSuggestion(4490, "CGCS2000 经纬度", "CGCS2000 longitude/latitude"),
            CrsSuggestion(
                4326, "WGS84 经纬度（若为高德坐标则用 gcj02）", "WGS84 lon/lat (gcj02 if from AMap/Gaode)"
            ),
        ]
    northing_in_china = miny >= 3e5 and maxy <= 6e6
    zone = _prefixed_zone(minx, maxx)
    if zone is not None and northing_in_china and 25 <= zone <= 45:
        return [
            CrsSuggestion(
                gk_zone_epsg(zone=zone, prefixed=True),
                f"CGCS2000 3度带第{zone}带（有带号）",
                f"CGCS2000 3-degree zone {zone} (prefixed)",
            ),
            CrsSuggestion(
                2349 + zone - 25,
                f"西安80 3度带第{zone}带（旧坐标系）",
                f"Xian 1980 3-degree zone {zone} (older datum)",
            ),
            CrsSuggestion(
                2401 + zone - 25,
                f"北京54 3度带第{zone}带（旧坐标系）",
                f"Beijing 1954 3-degree zone {zone} (older datum)",
            ),
        ]
    if zone is not None and northing_in_china and 13 <= zone <= 23:
        return [
            CrsSuggestion(
                gk6_zone_epsg(zone=zone),
                f"CGCS2000 6度带第{zone}带（有带号）",
                f"CGCS2000 6-degree zone {zone} (prefixed)",
            ),
            CrsSuggestion(
                2327 + zone - 13,
                f"西安80 6度带第{zone}带（旧坐标系）",
                f"Xian 1980 6-degree zone {zone} (older datum)",
            ),
            CrsSuggestion(
                21413 + zone - 13,
                f"北京54 6度带第{zone}带（旧坐标系）",
                f"Beijing 1954 6-degree zone {zone} (older datum)",
            ),
        ]
    if minx > 0 and maxx < 1e6 and northing_in_china:
        return [
            CrsSuggestion(
                4549,
                "CGCS2000 3度带中央经线 120°E（无带号；其他中央经线为 EPSG:4534–4554）",
                "CGCS2000 3-degree CM 120°E (no prefix; other central meridians are EPSG:4534–4554)",
            )
        ]
    return []


def parse_crs_option(value: str | int | None) -> CRS | str | None:
    """Read a ``--crs`` option: an EPSG code (``4549``, ``EPSG:4549``), any CRS pyproj reads, or ``gcj02``."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.lower().replace("-", "") in ("gcj02", "gcj", "mars", "amap", "gaode"):
        return GCJ02
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise InputError(
            f"无法识别坐标系“{value}”",
            f"unknown CRS '{value}'",
            **fix("crs_unknown"),
        ) from exc


def describe_crs(crs: CRS | str | None) -> str:
    """A short human name: ``EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E``."""
    if crs is None:
        return "none"
    if isinstance(crs, str) and crs == GCJ02:  # comparing a pyproj CRS with a string parses the string
        return "GCJ-02 (AMap/Gaode)"
    assert isinstance(crs, CRS)
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name


@dataclass(frozen=True)
class SourceCRS:
    """The CRS a file's coordinates are in, and how blockline knows."""

    crs: CRS | None  # None when gcj02
    gcj02: bool
    how: str  # "file", "option", "option overrides file"

    def describe(self) -> str:
        """The CRS in words, as a load reports it (GCJ-02 when the file was in it)."""
        return describe_crs(GCJ02 if self.gcj02 else self.crs)


def resolve_source_crs(
    file_crs: CRS | None,
    option: CRS | str | None,
    *,
    file: str,
    bounds: tuple[float, float, float, float] | None = None,
) -> SourceCRS:
    """Decide the source CRS: ``--crs`` wins; the file's own otherwise; neither is refused.

    The refusal suggests, first, the CRS the coordinates (``bounds``) look like (``suggest_crs``).
    """
    if isinstance(option, str) and option == GCJ02:
        return SourceCRS(None, True, "option" if file_crs is None else "option overrides file")
    if isinstance(option, CRS):
        return SourceCRS(option, False, "option" if file_crs is None else "option overrides file")
    if file_crs is None:
        raise _no_crs(file, suggest_crs(bounds) if bounds is not None else [])
    return SourceCRS(CRS.from_user_input(file_crs), False, "file")


def _no_crs(file: str, suggestions: list[CrsSuggestion]) -> InputError:
    """The refusal of a file without a CRS: the CRS its coordinates look like first, never applied silently."""
    what_zh = "文件没有坐标系信息（缺少 .prj 或 CRS），无法确定位置，未导入"
    what_en = (
        "the file has no coordinate reference system (no .prj or CRS), so its positions are unknown; "
        "nothing was loaded"
    )
    if not suggestions:
        return InputError(what_zh, what_en, file=file, **fix("crs_none"))
    first, others = suggestions[0], suggestions[1:]
    fix_zh = f"坐标看起来是 {first.zh}：请确认后用 --crs {first.epsg}"
    fix_en = f"the coordinates look like {first.en}: check, then give --crs {first.epsg}"
    if others:
        fix_zh += "；也可能是 " + "、".join(f"{s.zh}（--crs {s.epsg}）" for s in others)
        fix_en += "; it may also be " + ", ".join(f"{s.en} (--crs {s.epsg})" for s in others)
    return InputError(what_zh, what_en, file=file, fix_zh=fix_zh, fix_en=fix_en)


def _mislabel_hint(x: float, y: float, src: SourceCRS) -> tuple[str, str]:
    """Why coordinates (x, y) in the source CRS may fall outside China, and the fix."""
    crs = src.crs
    if src.gcj02 or (crs is not None and crs.is_geographic):
        if 3 <= x <= 54 and 73 <= y <= 136:
            return ("经纬度似乎颠倒（纬度在前）", "longitude and latitude look swapped (latitude first)")
        if abs(x) > 360 or abs(y) > 360:
            return (
                "坐标是投影坐标（米），不是经纬度；请用 --crs 指定投影坐标系，例如 4549 或 4528",
                "the coordinates are projected metres, not degrees; "
                "give the projected CRS with --crs, e.g. 4549 or 4528",
            )
        return ("", "")
    if crs is not None and crs.is_projected:
        if 73 <= abs(x) <= 136 and 3 <= abs(y) <= 54:
            return ("坐标像是经纬度，请用 --crs 4490", "the coordinates look like degrees: use --crs 4490")
        if 2.5e7 <= x < 4.6e7:
            zone = int(x // 1e6)
            if 25 <= zone <= 45:
                epsg = gk_zone_epsg(zone=zone, prefixed=True)
                return (
                    f"横坐标带有带号 {zone}，请用 --crs {epsg}（3度带第{zone}带，有带号）",
                    f"the eastings carry the zone prefix {zone}: use --crs {epsg} (3-degree zone {zone}, prefixed)",
                )
        if 0 < x < 1e6:
            return (
                "横坐标没有带号，请用不带带号的坐标系，例如 --crs 4549（中央经线 120°E）",
                "the eastings have no zone prefix: use a CRS without prefix, e.g. --crs 4549 (CM 120°E)",
            )
    return ("", "")


def to_storage(
    gdf: gpd.GeoDataFrame,
    *,
    source: SourceCRS,
    storage_epsg: int,
    file: str,
    labels: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Reproject to the storage CRS, refusing features that do not fall inside China for the CRS given.

    Returns a new GeoDataFrame (the input is not modified) with CRS ``EPSG:storage_epsg``.
    """
    geoms = np.asarray(gdf.geometry.array)
    src_bounds = shapely.bounds(geoms)
    if source.gcj02:
        lon = src_bounds[:, [0, 2, 0, 2]]
        lat = src_bounds[:, [1, 1, 3, 3]]
    else:
        # The four corners of each feature's bounding box, in CGCS2000 lon/lat: enough to tell China.
        tr = Transformer.from_crs(source.crs, "EPSG:4490", always_xy=True)
        lon, lat = tr.transform(src_bounds[:, [0, 2, 0, 2]], src_bounds[:, [1, 1, 3, 3]])
    minx, miny, maxx, maxy = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        inside = (
            np.isfinite(lon).all(axis=1)
            & np.isfinite(lat).all(axis=1)
            & (lon >= minx).all(axis=1)
            & (lon <= maxx).all(axis=1)
            & (lat >= miny).all(axis=1)
            & (lat <= maxy).all(axis=1)
        )
    if not inside.all():
        problems = []
        described = source.describe()
        for pos in np.flatnonzero(~inside):
            x, y = float(src_bounds[pos][0]), float(src_bounds[pos][1])
            hint_zh, hint_en = _mislabel_hint(x, y, source)
            problems.append(
                Problem(
                    int(pos) + 1,
                    labels[pos] if labels else None,
                    f"按坐标系 {described} 换算后位置不在中国境内（原坐标约 {x:.6g}, {y:.6g}），坐标系可能标错"
                    + (f"：{hint_zh}" if hint_zh else ""),
                    f"with CRS {described} this feature falls outside China (source coordinates ~{x:.6g}, {y:.6g});"
                    " the CRS is probably mislabelled" + (f": {hint_en}" if hint_en else ""),
                )
            )
        raise ValidationError(problems, file=file)

    target = f"EPSG:{storage_epsg}"
    if source.gcj02:
        # GCJ-02 → WGS84 by the exact iterative inverse; CGCS2000 and WGS84 differ by centimetres, and
        # pyproj treats them as one datum (a null transform), as surveying practice in China does.
        wgs = gcj02.transform_geometry(geoms, direction="gcj02_to_wgs84")
        out = gpd.GeoSeries(wgs, index=gdf.index, crs="EPSG:4490").to_crs(target)
    else:
        out = gpd.GeoSeries(geoms, index=gdf.index, crs=source.crs).to_crs(target)
    return gdf.set_geometry(out.values, crs=target)
