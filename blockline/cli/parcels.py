"""``blockline parcels``: the parcels of the store, or the public list (``--public``, YW §17)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from blockline.cli._shared import (
    AsOfOpt,
    Fmt,
    FmtOpt,
    OutOpt,
    PolicyOpt,
    day_of,
    emit,
    engine,
    handled,
    profile_of,
)
from geo.errors import InputError

__all__ = ["parcels_cmd"]


@handled
def parcels_cmd(
    county: Annotated[str | None, typer.Option("--county")] = None,
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="公开清单（义乌第17条）：纳入全生命周期管理的宗地，仅可公开字段 / the public list (YW §17)",
        ),
    ] = False,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """列出宗地 / list parcels; --public: the public list of parcels under lifecycle management (YW §17)."""
    # lazy: geo.export and geo.queries import sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from geo.export import records
    from geo.queries import read_parcels  # lazy: with geo.export above

    if public:
        _public_parcels(county=county, fmt=fmt, output=output, as_of=as_of, policy=policy)
        return
    gdf = read_parcels(engine(), county=county)
    emit(
        gdf,
        fmt=fmt,
        output=output,
        title="宗地 / parcels",
        layer="parcels",
        columns=["parcel_no", "holder", "county_code", "land_use", "area_mu"],
        json_body=lambda: {"county": county, "count": len(gdf), "parcels": records(gdf)},
    )


def _public_parcels(
    *, county: str | None, fmt: Fmt, output: Path | None, as_of: str | None, policy: str | None
) -> None:
    """``parcels --public``: the publishable fields only (``zoning.public``), verdicts by the profile's rules."""
    # lazy: geo.export, geo.queries and zoning.public import sqlalchemy and geopandas: +0.5 s (CPU) on blockline --help
    from geo.export import records
    from geo.queries import county_names, read_parcels  # lazy: with geo.export above
    from zoning.public import PUBLIC_COLUMNS, public_list, public_table  # lazy: with geo.export above

    if fmt in (Fmt.geojson, Fmt.gpkg):
        raise InputError(
            f"公开清单不含图形，不能导出为 {fmt.value}",
            f"the public list has no shapes: no {fmt.value}",
            fix_zh="用 --format table、json、csv 或 xlsx",
            fix_en="use --format table, json, csv or xlsx",
        )
    profile, day = profile_of(policy), day_of(as_of)
    store = engine()
    frame = public_list(
        read_parcels(store, county=county, geometry=False),
        county_names=county_names(store),
        as_of=day,
        profile=profile,
    )
    title = f"全生命周期管理工业用地清单（截至 {day.isoformat()}）/ public list"
    emit(
        public_table(frame) if fmt != Fmt.json else frame,
        fmt=fmt,
        output=output,
        title=title,
        layer="公开清单",
        json_body=lambda: {
            "as_of": day.isoformat(),
            "policy": profile.name,
            "county": county,
            "count": len(frame),
            "columns": PUBLIC_COLUMNS,
            "parcels": records(frame),
        },
    )
