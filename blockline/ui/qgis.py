"""A QGIS project on the store: the app's layers, colours and Chinese names, for planners who work in QGIS.

``project_xml`` writes the ``.qgs`` document (QGIS 3 project XML) and ``write_project`` saves it as a
``.qgs`` file or a ``.qgz`` (a zip holding the ``.qgs``). Its layers read the store's tables through QGIS's
PostgreSQL provider, so the project always shows the data as it is in the database:

- 行政区: the county lines (``admin_areas`` of level ``county``);
- 二级线 and 一级线: the block lines as of the day the project is opened (a line retired yesterday or valid
  from tomorrow is not drawn: the filter compares ``valid_from``/``valid_to`` with ``now()``);
- 宗地: the current parcels coloured by their idle category (the policy engine's marks of the day the project
  was written, ``parcel_marks``), with the app's colours;
- 连片开发片区: the saved consolidation zones.

The connection is a PostgreSQL service name (``service='blockline'``, resolved by QGIS from
``pg_service.conf``) or the store's URL without its password (QGIS asks for it, or finds it in ``.pgpass``);
for the embedded store the host is its Unix socket folder.

Examples
--------
>>> conn = Connection(dbname="landuse", host="/tmp/bl/run", port=5432, user="postgres")
>>> conn.uri()
"dbname='landuse' host='/tmp/bl/run' port=5432 user='postgres'"
>>> Connection(service="blockline").uri()
"service='blockline'"
"""

from __future__ import annotations

import os
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from pyproj import CRS
from sqlalchemy.engine import make_url

from blockline.ui.i18n import translate
from blockline.ui.maps import _OTHER_COLOR, _STYLE, PALETTE
from geo.errors import InputError

__all__ = ["Connection", "LayerSpec", "connection_from_url", "layer_specs", "project_xml", "write_project"]

_MM_PER_PX = 0.26  # a screen pixel at 96 dpi, for line widths
#: the block lines in force on the day the project is opened (as geo.queries' as-of filter, with now())
_AS_OF_NOW = "valid_from <= now() AND (valid_to IS NULL OR valid_to > now())"


@dataclass(frozen=True)
class Connection:
    """How QGIS reaches the store: a service name, or host/port/database/user (never a password)."""

    service: str | None = None
    dbname: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None

    def uri(self) -> str:
        """The connection part of a QGIS PostgreSQL data source."""
        if self.service:
            return f"service={_quoted(self.service)}"
        parts = [f"dbname={_quoted(self.dbname or '')}"]
        if self.host:
            parts.append(f"host={_quoted(self.host)}")
        if self.port:
            parts.append(f"port={int(self.port)}")
        if self.user:
            parts.append(f"user={_quoted(self.user)}")
        return " ".join(parts)


def connection_from_url(url: str) -> Connection:
    """The connection of a SQLAlchemy URL; a Unix socket folder given as ``?host=`` becomes the host.

    Examples
    --------
    >>> connection_from_url("postgresql+psycopg://postgres@/blockline?host=/srv/bl/run&port=5432")
    Connection(service=None, dbname='blockline', host='/srv/bl/run', port=5432, user='postgres')
    """
    u = make_url(url)
    host = u.host or u.query.get("host")
    port = u.port or u.query.get("port")
    if isinstance(host, tuple):
        host = host[0]
    if isinstance(port, tuple):
        port = port[0]
    return Connection(dbname=u.database, host=host or None, port=int(port) if port else None, user=u.username)


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its name, the table or subquery it reads, its key, filter and symbols.

    ``categories`` (value, label, fill colour) colour the features by ``attribute``; the empty value is the
    symbol of every other value (no mark).
    """

    name: str
    table: str
    key: str
    style: Mapping[str, object]
    subset: str = ""
    attribute: str | None = None
    categories: Sequence[tuple[str, str, str]] = ()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def layer_specs(
    *, schema: str, mark_set: str, categories: Sequence[str], lang: str = "zh"
) -> list[LayerSpec]:
    """The project's layers, bottom first, with the app's names and styles.

    The names are ``blockline.ui.i18n``'s, the styles ``blockline.ui.maps``'s. ``mark_set`` names the policy
    engine's marks the parcels are coloured by; ``categories`` are the idle categories in the app's order
    (``zoning.idle.IDLE_CATEGORIES``), coloured as on the 闲置 page.
    """
    s = '"' + schema.replace('"', '""') + '"'
    parcels = (
        f"(SELECT p.id, p.parcel_no, p.holder, p.land_use, p.county_code, p.area_mu, m.idle, p.geom "
        f"FROM {s}.parcels p LEFT JOIN {s}.parcel_marks m "
        f"ON m.parcel_no = p.parcel_no AND m.mark_set = {_sql_text(mark_set)} WHERE p.valid_to IS NULL)"
    )
    cats = [(c, translate(f"cat.{c}", lang), color) for c, color in zip(categories, PALETTE, strict=False)]
    cats.append(("", translate("legend.no_mark", lang), _OTHER_COLOR))
    return [
        LayerSpec(
            translate("layer.admin", lang),
            f'{s}."admin_areas"',
            "code",
            _STYLE["layer.admin"],
            subset="level = 'county'",
        ),
        LayerSpec(
            translate("layer.parcels", lang),
            parcels,
            "id",
            _STYLE["layer.parcels"],
            attribute="idle",
            categories=cats,
        ),
        LayerSpec(translate("zones.title", lang), f'{s}."zones"', "id", _STYLE["layer.focus"]),
        LayerSpec(
            translate("layer.level2", lang),
            f'{s}."block_lines"',
            "id",
            _STYLE["layer.level2"],
            subset=f"level = 2 AND {_AS_OF_NOW}",
        ),
        LayerSpec(
            translate("layer.level1", lang),
            f'{s}."block_lines"',
            "id",
            _STYLE["layer.level1"],
            subset=f"level = 1 AND {_AS_OF_NOW}",
        ),
    ]


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _datasource(conn: Connection, layer: LayerSpec, srid: int) -> str:
    table = layer.table
    if table.startswith("("):  # a subquery: QGIS takes it as the table, double-quoted
        table = '"' + table.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (
        f"{conn.uri()} key={_quoted(layer.key)} srid={srid} type=MultiPolygon checkPrimaryKeyUnicity='0' "
        f"table={table} (geom) sql={layer.subset}"
    )


def _rgba(color: str, opacity: float = 1.0) -> str:
    h = color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * opacity)}"


def _props(parent: ET.Element, values: Mapping[str, str]) -> None:
    """Symbol-layer properties, in both forms QGIS 3 reads (``<Option>`` map and legacy ``<prop>``)."""
    option = ET.SubElement(parent, "Option", type="Map")
    for k, v in values.items():
        ET.SubElement(option, "Option", name=k, type="QString", value=v)
    for k, v in values.items():
        ET.SubElement(parent, "prop", k=k, v=v)


def _float(value: object) -> float:
    """A style's number (``float`` of it; anything else is a ``TypeError``, as ``float`` says)."""
    if isinstance(value, (int, float, str)):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def _symbol(parent: ET.Element, name: str, style: Mapping[str, object], fill: str | None = None) -> None:
    symbol = ET.SubElement(
        parent, "symbol", type="fill", name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer = ET.SubElement(
        symbol, "layer", attrib={"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    filled = bool(style.get("fill", True))
    dashed = bool(style.get("dashArray"))
    _props(
        layer,
        {
            "color": _rgba(
                fill or str(style.get("fillColor", style["color"])), _float(style.get("fillOpacity", 0.0))
            ),
            "style": "solid" if filled else "no",
            "outline_color": _rgba(str(style["color"])),
            "outline_style": "dash" if dashed else "solid",
            "outline_width": f"{_float(style.get('weight', 1)) * _MM_PER_PX:.2f}",
            "outline_width_unit": "MM",
            "joinstyle": "round",
        },
    )


def _renderer(parent: ET.Element, layer: LayerSpec) -> None:
    attrs = {"symbollevels": "0", "enableorderby": "0", "forceraster": "0"}
    if layer.attribute is None:
        renderer = ET.SubElement(parent, "renderer-v2", {"type": "singleSymbol", **attrs})
        _symbol(ET.SubElement(renderer, "symbols"), "0", layer.style)
        return
    renderer = ET.SubElement(
        parent, "renderer-v2", {"type": "categorizedSymbol", "attr": layer.attribute, **attrs}
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, label, color) in enumerate(layer.categories):
        ET.SubElement(categories, "category", render="true", symbol=str(i), value=value, label=label)
        _symbol(symbols, str(i), layer.style, fill=color)
    source = ET.SubElement(renderer, "source-symbol")
    _symbol(source, "0", layer.style)


def _spatialrefsys(parent: ET.Element, srid: int) -> None:
    crs = CRS.from_epsg(srid)
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "authid").text = f"EPSG:{srid}"
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "geographicflag").text = "false"


def project_xml(conn: Connection, layers: Sequence[LayerSpec], *, srid: int, title: str) -> bytes:
    """The ``.qgs`` document: ``layers`` (bottom first) on ``conn``, in the store's CRS ``EPSG:srid``."""
    root = ET.Element("qgis", projectname=title, version="3.22.0-Białowieża")
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _spatialrefsys(ET.SubElement(root, "projectCrs"), srid)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    project_layers = ET.SubElement(root, "projectlayers")
    ids = [
        f"blockline_{i}_{uuid.uuid5(uuid.NAMESPACE_URL, layer.name).hex[:12]}"
        for i, layer in enumerate(layers)
    ]
    for layer_id, layer in reversed(
        list(zip(ids, layers, strict=True))
    ):  # the tree lists the top layer first
        source = _datasource(conn, layer, srid)
        node = ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer_id,
            name=layer.name,
            source=source,
            providerKey="postgres",
            checked="Qt::Checked",
            expanded="1",
        )
        ET.SubElement(node, "customproperties")
        ml = ET.SubElement(
            project_layers,
            "maplayer",
            type="vector",
            geometry="Polygon",
            wkbType="MultiPolygon",
            autoRefreshEnabled="0",
            readOnly="0",
            simplifyDrawingHints="1",
            labelsEnabled="0",
        )
        ET.SubElement(ml, "id").text = layer_id
        ET.SubElement(ml, "datasource").text = source
        ET.SubElement(ml, "layername").text = layer.name
        _spatialrefsys(ET.SubElement(ml, "srs"), srid)
        ET.SubElement(ml, "provider", encoding="UTF-8").text = "postgres"
        _renderer(ml, layer)
    # QGIS reads <projectCrs> only when the project says its layers are projected on the fly
    srs_props = ET.SubElement(ET.SubElement(root, "properties"), "SpatialRefSys")
    ET.SubElement(srs_props, "ProjectionsEnabled", type="int").text = "1"
    order = ET.SubElement(root, "layerorder")
    for layer_id in reversed(ids):
        ET.SubElement(order, "layer", id=layer_id)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n").encode("utf-8")


def write_project(path: Path, xml: bytes) -> Path:
    """Save the project as ``.qgz`` (zipped) or ``.qgs``, whole or not at all.

    Raises
    ------
    InputError
        When the name ends in neither ``.qgz`` nor ``.qgs``, or its folder does not exist.
    """
    suffix = path.suffix.lower()
    if suffix not in (".qgz", ".qgs"):
        raise InputError(
            "QGIS 项目文件名须以 .qgz 或 .qgs 结尾",
            "a QGIS project's name must end in .qgz or .qgs",
            file=str(path),
            fix_zh="例如 -o 区块线.qgz",
            fix_en="e.g. -o 区块线.qgz",
        )
    if not path.parent.is_dir():
        raise InputError(
            "输出文件夹不存在",
            "the output folder does not exist",
            file=str(path),
            fix_zh="先创建该文件夹，或换一个路径",
            fix_en="create the folder first, or choose another path",
        )
    fd, tmp = tempfile.mkstemp(prefix=".blockline-", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if suffix == ".qgs":
                out.write(xml)
            else:
                with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
                    z.writestr(f"{path.stem}.qgs", xml)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
