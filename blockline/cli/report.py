"""``blockline report``: the documents planners file (issue 15), as Word or PDF with their maps."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from blockline.cli._shared import (
    AddOpt,
    AsOfOpt,
    CrsOpt,
    EncOpt,
    PolicyOpt,
    RemoveOpt,
    adjustment,
    day_of,
    engine,
    err,
    handled,
    profile_of,
    settings,
)
from blockline.reports.document import Cover, Document, format_of, write_document
from geo.errors import InputError

__all__ = ["report_app"]

report_app = typer.Typer(
    no_args_is_help=True, help="文书（Word/PDF，含附图）/ the documents planners file, with maps"
)
ReportOut = Annotated[Path, typer.Option("-o", "--output", help="FILE.docx 或 FILE.pdf")]
AuthorityOpt = Annotated[
    str | None, typer.Option("--authority", help="机关，默认取 BLOCKLINE_AUTHORITY / the issuing authority")
]
PreparedOpt = Annotated[
    str | None, typer.Option("--prepared-by", help="经办人，默认为当前用户 / who prepared it")
]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="文书日期 YYYY-MM-DD，默认今天 / the document's date")
]
DocNoOpt = Annotated[
    str | None, typer.Option("--doc-no", help="文号，默认留空待填 / the 文号 (a blank by default)")
]


class IdlePaper(StrEnum):
    """The idle-land papers: the investigation notice, or the decision."""

    notice = "notice"
    decision = "decision"


def _cover(authority: str | None, prepared_by: str | None, date: str | None, doc_no: str | None) -> Cover:
    """The cover block: the issuing authority, who prepared it, the document's date and 文号."""
    # lazy: blockline.reports.gather imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from blockline.reports.gather import cover_for

    day = day_of(date) if date else None
    return cover_for(prepared_by=prepared_by or settings().user, authority=authority, date=day, doc_no=doc_no)


def _write_report(doc: Document, output: Path) -> None:
    format_of(output)  # refuse a wrong suffix before anything else
    write_document(doc, output)
    err.print(f"已写出 / written: {output}", highlight=False)


def _paper(
    output: Path,
    gather: Callable[..., Document],
    *,
    policy: str | None,
    as_of: str | None,
    cover: tuple[str | None, str | None, str | None, str | None],
    **options: Any,
) -> None:
    """A paper of the city as of a day under a profile: ``gather`` makes it, written to ``output``.

    ``cover`` is ``--authority``, ``--prepared-by``, ``--date`` and ``--doc-no``; ``options`` what else
    ``gather`` takes (the zone, the parcel …).
    """
    format_of(output)
    paper = gather(engine(), profile=profile_of(policy), as_of=day_of(as_of), cover=_cover(*cover), **options)
    _write_report(paper, output)


@report_app.command("balance")
@handled
def report_balance(
    output: ReportOut,
    county: Annotated[
        str | None, typer.Option("--county", help="核算中的调整 / an adjustment to check")
    ] = None,
    remove: RemoveOpt = None,
    add: AddOpt = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    policy: PolicyOpt = None,
    doc: Annotated[
        str | None, typer.Option("--doc", help="已记录调整的批复文号 / a recorded adjustment")
    ] = None,
    authority: AuthorityOpt = None,
    prepared_by: PreparedOpt = None,
    date: DateOpt = None,
    doc_no: DocNoOpt = None,
) -> None:
    """占补平衡调整论证材料：--county 与 --remove/--add（核算），或 --doc（已记录）/ the balance paper."""
    # lazy: blockline.reports.gather imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from blockline.reports.gather import balance_check_document, balance_recorded_document

    format_of(output)
    cover = _cover(authority, prepared_by, date, doc_no)
    if doc is not None and county is None:
        paper = balance_recorded_document(engine(), approval_doc=doc, cover=cover)
    elif county is not None and doc is None:
        paper = balance_check_document(
            engine(),
            county=county,
            profile=profile_of(policy),
            cover=cover,
            **adjustment(remove, add, crs=crs, encoding=encoding),
        )
    else:
        raise InputError(
            "给出 --county（核算调整）或 --doc（已记录的调整）之一",
            "give --county (an adjustment to check) or --doc (a recorded adjustment), one of them",
            fix_zh="如 --county 330302 --remove 调出.shp --add 补入.shp",
            fix_en="e.g. --county 330302 --remove out.shp --add in.shp",
        )
    _write_report(paper, output)


@report_app.command("zone")
@handled
def report_zone(
    zone: Annotated[str, typer.Argument(help="已保存片区的编号或名称 / a saved zone's id or name")],
    output: ReportOut,
    min_mu: Annotated[float | None, typer.Option("--min-mu")] = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    authority: AuthorityOpt = None,
    prepared_by: PreparedOpt = None,
    date: DateOpt = None,
    doc_no: DocNoOpt = None,
) -> None:
    """连片开发片区方案 / the plan of a saved consolidation zone."""
    # lazy: blockline.reports.gather imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from blockline.reports.gather import zone_document

    cover = (authority, prepared_by, date, doc_no)
    _paper(output, zone_document, policy=policy, as_of=as_of, cover=cover, zone=zone, min_mu=min_mu)


@report_app.command("idle")
@handled
def report_idle(
    parcel_no: Annotated[str, typer.Argument(help="宗地编号 / the parcel")],
    output: ReportOut,
    kind: Annotated[
        IdlePaper,
        typer.Option("--kind", help="notice 调查通知书，decision 认定书 / the notice or the decision"),
    ] = IdlePaper.notice,
    price_wan: Annotated[
        float | None,
        typer.Option(
            "--price-wan", help="土地出让价款（万元），用于计算闲置费 / the land price, for the fee"
        ),
    ] = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    authority: AuthorityOpt = None,
    prepared_by: PreparedOpt = None,
    date: DateOpt = None,
    doc_no: DocNoOpt = None,
) -> None:
    """闲置土地调查通知书 / 认定书（草稿）/ the idle-land notice or decision draft."""
    # lazy: blockline.reports.gather imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from blockline.reports.gather import idle_document

    cover = (authority, prepared_by, date, doc_no)
    _paper(
        output,
        idle_document,
        policy=policy,
        as_of=as_of,
        cover=cover,
        parcel_no=parcel_no,
        kind=kind.value,
        price_wan=price_wan,
    )


@report_app.command("contract")
@handled
def report_contract(
    parcel_no: Annotated[str, typer.Argument(help="宗地编号 / the parcel")],
    output: ReportOut,
    city_standard_tax: Annotated[
        float | None,
        typer.Option(
            "--city-standard-tax", help="全市亩均税收标准（万元/亩）/ the city's published standard"
        ),
    ] = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    authority: AuthorityOpt = None,
    prepared_by: PreparedOpt = None,
    date: DateOpt = None,
    doc_no: DocNoOpt = None,
) -> None:
    """履约核查函（税收不足、可解除合同）/ the contract-compliance letter."""
    # lazy: blockline.reports.gather imports sqlalchemy and geopandas: +0.4 s (CPU) on blockline --help
    from blockline.reports.gather import contract_document

    cover = (authority, prepared_by, date, doc_no)
    _paper(
        output,
        contract_document,
        policy=policy,
        as_of=as_of,
        cover=cover,
        parcel_no=parcel_no,
        city_standard_tax_per_mu_wan=city_standard_tax,
    )
