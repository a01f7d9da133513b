"""``blockline zones``: consolidation zones — candidates detected in the store, a drawn zone assessed."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from blockline.cli._shared import (
    AsOfOpt,
    CrsOpt,
    EncOpt,
    Fmt,
    FmtOpt,
    OutOpt,
    PolicyOpt,
    day_of,
    emit,
    engine,
    err,
    handled,
    out,
    polygons,
    print_json,
    profile_of,
    settings,
)

if TYPE_CHECKING:
    import datetime as dt

    from geopandas import GeoDataFrame
    from sqlalchemy import Engine

    from zoning.policy import Profile

__all__ = ["zones_app"]

zones_app = typer.Typer(no_args_is_help=True, help="连片开发片区 / consolidation zones")

_ZONE_COLUMNS = ["zone_id", "county_code", "area_mu", "parcels", "holders", "block_line_levels", "rating_mix"]


@zones_app.command("detect")
@handled
def zones_detect(
    min_mu: Annotated[
        float | None, typer.Option("--min-mu", help="默认取政策配置 / default from the profile")
    ] = None,
    gap_m: Annotated[
        float | None, typer.Option("--gap-m", help="默认取政策配置 / default from the profile")
    ] = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
    save: Annotated[bool, typer.Option("--save", help="保存为候选片区 / save as candidate zones")] = False,
) -> None:
    """识别连片开发候选片区（低效工业用地相连或隔路相邻，合计达到面积门槛）/ detect candidate zones."""
    # lazy: blockline.services.zones imports sqlalchemy: +0.1 s (CPU) on blockline --help
    from blockline.services.zones import candidate_zone_rows, candidate_zones, kept_rows
    from blockline.services.zones_kept import paused_gc  # lazy: with the line above

    profile, day = profile_of(policy, needs="consolidation.min_mu"), day_of(as_of)
    min_mu = profile.value("consolidation.min_mu") if min_mu is None else min_mu
    gap_m = profile.value("consolidation.gap_m") if gap_m is None else gap_m
    store = engine()
    if fmt == Fmt.json and not save:  # the zones' rows as kept, without a frame
        _write_json(
            candidate_zone_rows(store, as_of=day, profile=profile, min_mu=min_mu, gap_m=gap_m),
            output=output,
            min_mu=min_mu,
            gap_m=gap_m,
            profile=profile,
            day=day,
        )
        return
    # from the stored judgement, described in the store (geometry read only for the formats that show it)
    zones = candidate_zones(
        store,
        as_of=day,
        profile=profile,
        min_mu=min_mu,
        gap_m=gap_m,
        geometry=save or fmt in (Fmt.geojson, Fmt.gpkg),
    )
    if save:
        # lazy: the zones' store imports sqlalchemy and geopandas: +0.5 s (CPU) on blockline --help
        from blockline.services.zones_store import save_candidates

        save_candidates(store, zones, min_mu=min_mu, gap_m=gap_m, profile=profile, user=settings().user)

    def body() -> dict[str, Any]:
        with paused_gc():
            return _zones_body(kept_rows(zones), min_mu=min_mu, gap_m=gap_m, profile=profile, day=day)

    if fmt in (Fmt.geojson, Fmt.gpkg):
        emit(_zones_layer(zones), fmt=fmt, output=output, json_body=body, title="zones", layer="zones")
        return
    if fmt == Fmt.json:
        rows = kept_rows(zones)
        del zones  # the frame's copies of the lists and mappings are not needed to write them
        _write_json(rows, output=output, min_mu=min_mu, gap_m=gap_m, profile=profile, day=day)
        return
    where = f"≥ {min_mu:g} 亩，间距 ≤ {gap_m:g} 米，{profile.cite('consolidation.min_mu')}"
    emit(
        zones.drop(columns=["geometry"]).assign(parcels=zones["parcels"].map(len)),
        fmt=fmt,
        output=output,
        json_body=body,
        title=f"连片开发候选片区 / candidate zones（{where}）",
        columns=_ZONE_COLUMNS,
        layer="zones",
    )


def _zones_body(
    rows: list[tuple[Any, ...]], *, min_mu: float, gap_m: float, profile: Profile, day: dt.date
) -> dict[str, Any]:
    """The candidate zones as ``--format json`` gives them, with the thresholds and the article.

    From the zones' rows (``blockline.services.zones_kept.COLUMNS``). A zone without a main county has null
    there (before 2026-12-06 it was NaN, pandas' missing text, which is not JSON: strict parsers refuse it).
    """
    from zoning.zone_terms import GRADES, zone_levels  # lazy: with candidate_zones in zones_detect

    categories = [*GRADES, "unrated"]
    levels = zone_levels([float(r[6]) for r in rows], [float(r[7]) for r in rows])
    return {
        "min_mu": min_mu,
        "gap_m": gap_m,
        "policy": profile.name,
        "article": profile.cite("consolidation.min_mu"),
        "as_of": day.isoformat(),
        "zones": [
            {
                "zone_id": zone_id,
                "area_mu": round(float(area_mu), 2),
                "parcels": list(parcels),
                "holders": int(holders),
                "county_code": county_code,
                "block_line_levels": lv,
                "rating_mix": dict(zip(categories, map(int, mix), strict=True)),
            }
            for (zone_id, area_mu, parcels, holders, county_code, _, _, _, mix, _), lv in zip(
                rows, levels, strict=True
            )
        ],
    }


def _write_json(
    rows: list[tuple[Any, ...]],
    *,
    output: Path | None,
    min_mu: float,
    gap_m: float,
    profile: Profile,
    day: dt.date,
) -> None:
    """The zones as ``emit`` writes ``--format json``: the same bytes, by orjson where that is the same text."""
    from blockline.services.zones_kept import paused_gc  # lazy: with candidate_zones in zones_detect

    with paused_gc():  # a dict and a list or two per zone (zones_kept.paused_gc)
        doc = _zones_body(rows, min_mu=min_mu, gap_m=gap_m, profile=profile, day=day)
        del rows
        data = _json_bytes(doc)
    del doc
    # the bytes emit's write_text(…, encoding="utf-8") and sys.stdout.write write (POSIX, a UTF-8 stdout),
    # not decoded and encoded again (28 MB of text at 1,000,000 parcels: 50 MB less at the peak)
    if output:
        output.write_bytes(data)
    elif (sys.stdout.encoding or "").lower().replace("-", "") == "utf8":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


def _json_bytes(body: dict[str, Any]) -> bytes:
    """The text ``emit`` writes, in UTF-8: ``json.dumps(body, ensure_ascii=False, indent=2, default=str)``, a newline.

    By orjson when it gives the same text: every float finite and written without an exponent (orjson writes
    1e-05 as 0.00001, and NaN as null, where json writes 1e-05 and NaN); otherwise by json.
    """
    import orjson  # lazy: only this command's JSON needs it

    def same(x: float) -> bool:
        return math.isfinite(x) and (x == 0 or 1e-4 <= abs(x) < 1e16)

    zones = body["zones"]
    if same(float(body["min_mu"])) and same(float(body["gap_m"])) and all(same(z["area_mu"]) for z in zones):
        return orjson.dumps(body, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    return (json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def _zones_layer(zones: Any) -> Any:
    """The candidate zones as a map layer: lists joined by commas, mappings as JSON text."""
    layer = zones.assign(
        parcels=zones["parcels"].map(",".join), county_codes=zones["county_codes"].map(",".join)
    )
    for c in ("block_line_levels", "rating_mix", "rating_mix_mu"):
        if c in layer.columns:
            layer[c] = layer[c].map(lambda v: json.dumps(v, ensure_ascii=False, default=str))
    return layer


@zones_app.command("assess")
@handled
def zones_assess(
    file: Path,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    min_mu: Annotated[float | None, typer.Option("--min-mu")] = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
    save: Annotated[
        str | None, typer.Option("--save", help="以此名称保存片区 / save the zone under this name")
    ] = None,
    requirement: Annotated[
        list[str] | None,
        typer.Option(
            "--requirement",
            help="片区要求 KEY=VALUE：investment_per_mu_wan, industry, tax_per_mu_wan, entry_conditions",
        ),
    ] = None,
) -> None:
    """评估绘制（或文件给出）的片区 / assess a drawn zone: area, parcels taken, holders, share, lines."""
    # lazy: pandas, shapely, geo.queries, zoning's rules (geopandas, scipy): +0.6 s (CPU) on blockline --help
    import pandas as pd
    import shapely  # lazy: with pandas above

    from geo.queries import read_blocklines, read_parcels, read_ratings  # lazy: with pandas above
    from zoning.consolidation import assess_zone  # lazy: with pandas above
    from zoning.idle import low_efficiency  # lazy: with pandas above

    profile, day = profile_of(policy, needs="consolidation.min_mu"), day_of(as_of)
    store = engine()
    zone = shapely.union_all(polygons(file, crs=crs, encoding=encoding))
    parcels = cast("GeoDataFrame", read_parcels(store))  # with its geometry: a GeoDataFrame
    near = parcels[parcels.intersects(zone)].copy()
    near["low_efficiency"] = low_efficiency(near, read_ratings(store), as_of=day, profile=profile).to_numpy()
    result = assess_zone(
        zone,
        near,
        level1=read_blocklines(store, level=1),
        level2=read_blocklines(store, level=2),
        profile=profile,
        min_mu=min_mu,
    )
    if save:
        result["zone_id"] = _save_zone(store, save, zone, result, requirement or [])
    if fmt == Fmt.json:
        print_json(result)
        return
    out.print(
        f"片区面积 / area: {result['area_mu']:,.2f} 亩；达到门槛 / meets threshold: "
        f"{'是' if result['meets_threshold'] else '否'}（{result['article']}）；权利人 / holders: {result['holders']}；"
        f"低效占比 / low-efficiency share: {result['low_efficiency_share']:.0%}；"
        f"区块线 / block lines: {result['block_line_levels']}",
        highlight=False,
    )
    emit(
        pd.DataFrame(result["parcels"]),
        fmt=Fmt.table,
        output=None,
        json_body=lambda: result,
        title="宗地 / parcels",
    )


def _save_zone(store: Engine, name: str, zone: Any, result: dict[str, Any], requirement: list[str]) -> Any:
    """Save an assessed zone under ``name`` with its requirements (``KEY=VALUE``; exit 2 on another form)."""
    # lazy: the zones' store imports sqlalchemy and geopandas: +0.5 s (CPU) on blockline --help
    from blockline.services.zones_store import save_zone

    requirements = {}
    for item in requirement:
        key, sep, value = item.partition("=")
        if not sep:
            err.print(f"--requirement 须为 KEY=VALUE：{item}")
            raise typer.Exit(2)
        requirements[key.strip()] = value.strip()
    return save_zone(
        store,
        name=name,
        geometry=zone,
        assessment=result,
        requirements=requirements,
        user=settings().user,
    )
