"""``blockline idle`` and ``blockline lifecycle``: the findings of the city's stored judgement, with articles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

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

__all__ = ["idle_cmd", "lifecycle_cmd"]


def _emit_findings(
    findings: Any, *, kind: str, as_of: Any, profile: Any, fmt: Fmt, output: Path | None
) -> None:
    """Findings as a table or file; as a map layer, one feature per parcel with its categories and articles."""
    # lazy: zoning.findings imports geopandas: +0.3 s (CPU) on blockline --help
    from zoning.findings import findings_json

    body = findings_json(findings, as_of=as_of, profile=profile)
    if fmt in (Fmt.geojson, Fmt.gpkg):
        # lazy: geo.queries imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
        from geo.queries import read_parcels

        parcels = read_parcels(engine())
        per = findings.groupby("parcel_no").agg(
            categories=("category", lambda c: ",".join(sorted(set(c)))),
            articles=("article", lambda a: "；".join(sorted(set(a)))),
        )
        layer = parcels[["parcel_no", "holder", "county_code", "area_mu", "geometry"]].merge(
            per, left_on="parcel_no", right_index=True
        )
        emit(layer, fmt=fmt, output=output, json_body=lambda: body, title=kind, layer=kind)
        return
    emit(
        findings.drop(columns=["figures"]),
        fmt=fmt,
        output=output,
        json_body=lambda: body,
        title=f"{kind}（{profile.name}，截至 {as_of.isoformat()}）",
        columns=["parcel_no", "category", "article", "detail"],
        layer=kind,
    )


def _judged_findings(
    kind: str,
    *,
    as_of: Any,
    profile: Any,
    fmt: Fmt,
    output: Path | None,
    city_standard_tax: float | None = None,
) -> None:
    """Findings of ``kind`` from the city's stored judgement (judged and stored first when there is none)."""
    # lazy: blockline.services.judged imports sqlalchemy and geopandas: +0.6 s (CPU) on blockline --help
    from blockline.services.judged import judge_city

    judgement = judge_city(
        engine(), as_of=as_of, profile=profile, city_standard_tax_per_mu_wan=city_standard_tax
    )
    if fmt == Fmt.json:  # the stored document, as findings_json gives it, written piece by piece
        if output:
            with output.open("w", encoding="utf-8") as f:
                f.writelines(judgement.document(kind))
                f.write("\n")
        else:
            sys.stdout.writelines(judgement.document(kind))
            sys.stdout.write("\n")
        return
    _emit_findings(judgement.findings(kind), kind=kind, as_of=as_of, profile=profile, fmt=fmt, output=output)


@handled
def idle_cmd(
    as_of: AsOfOpt = None, policy: PolicyOpt = None, fmt: FmtOpt = Fmt.table, output: OutOpt = None
) -> None:
    """闲置与低效用地 / idle and low-efficiency land, each finding with its article."""
    profile, day = profile_of(policy), day_of(as_of)
    _judged_findings("idle", as_of=day, profile=profile, fmt=fmt, output=output)


@handled
def lifecycle_cmd(
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
    city_standard_tax: Annotated[
        float | None,
        typer.Option(
            "--city-standard-tax", help="全市亩均税收标准（万元/亩）/ the city's published standard"
        ),
    ] = None,
) -> None:
    """全生命周期履约：达产验收、三年考核、评级、评估、到期 / contract compliance."""
    profile, day = profile_of(policy), day_of(as_of)
    _judged_findings(
        "lifecycle", as_of=day, profile=profile, fmt=fmt, output=output, city_standard_tax=city_standard_tax
    )
