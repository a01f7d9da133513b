"""``blockline qgis``: a QGIS project whose layers are the store's tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from blockline.cli._shared import (
    Fmt,
    FmtOpt,
    PolicyOpt,
    day_of,
    engine,
    handled,
    out,
    print_json,
    profile_of,
    settings,
)

__all__ = ["qgis_cmd"]


@handled
def qgis_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="项目文件 .qgz 或 .qgs / the project file")],
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            help="PostgreSQL 服务名（pg_service.conf），否则用数据库地址 / a service name, else the URL",
        ),
    ] = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
) -> None:
    """写出 QGIS 项目，图层即数据库中的表 / write a QGIS project whose layers are the store's tables."""
    # lazy: blockline.ui.qgis imports sqlalchemy and geopandas: +0.7 s (CPU) on blockline --help
    from blockline.services.marks import ensure_marks
    from blockline.ui.qgis import (  # lazy: with blockline.services.marks above
        Connection,
        connection_from_url,
        layer_specs,
        project_xml,
        write_project,
    )
    from geo.store import database_url, storage_srid  # lazy: with blockline.services.marks above
    from zoning.idle import IDLE_CATEGORIES  # lazy: with blockline.services.marks above

    store = engine()
    profile = profile_of(policy)
    with store.connect() as conn:
        srid = storage_srid(conn)
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    mark_set = ensure_marks(store, as_of=day_of(None), profile=profile)
    connection = Connection(service=service) if service else connection_from_url(database_url(settings()))
    layers = layer_specs(schema=schema, mark_set=mark_set, categories=IDLE_CATEGORIES)
    path = write_project(output, project_xml(connection, layers, srid=srid, title=output.stem))
    if fmt == Fmt.json:
        print_json(
            {
                "file": str(path),
                "srid": srid,
                "mark_set": mark_set,
                "connection": connection.uri(),
                "layers": [layer.name for layer in reversed(layers)],
            }
        )
    else:
        out.print(
            f"已写出 / written: {path}（{len(layers)} 个图层 / layers: "
            f"{'、'.join(layer.name for layer in reversed(layers))}）",
            highlight=False,
        )
