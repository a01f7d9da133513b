"""``blockline balance``: occupy-one-replace-one — check an adjustment, record it, suggest cover, the ledger."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from blockline.cli._shared import (
    AddOpt,
    CrsOpt,
    EncOpt,
    Fmt,
    FmtOpt,
    OutOpt,
    PolicyOpt,
    RemoveOpt,
    adjustment,
    emit,
    engine,
    err,
    handled,
    out,
    print_json,
    profile_of,
    settings,
)

__all__ = ["balance_app"]

balance_app = typer.Typer(no_args_is_help=True, help="占一补一 / occupy-one-replace-one balance")

_ENTRY_COLUMNS = [
    "id",
    "county_code",
    "approval_doc",
    "occupied_mu",
    "replaced_mu",
    "balance_after_mu",
    "recorded_by",
    "recorded_at",
]


def _yes_no(b: bool) -> str:
    return "是 / yes" if b else "否 / no"


def _print_check(d: dict[str, Any]) -> None:
    """A balance check as lines: the county's figures in 亩, whether county and city balance, the warnings."""
    out.print(f"{d['county']} {d.get('county_name') or ''}（{d['policy']}，{d['article']}）", highlight=False)
    for label, key in (
        ("占用一级线 / occupied", "occupied_mu"),
        ("补充一级线 / replaced", "replaced_mu"),
        ("原有余额 / standing balance", "standing_balance_mu"),
        ("调整后余额 / balance after", "balance_after_mu"),
        ("全市调整后余额 / city balance after", "city_balance_after_mu"),
    ):
        out.print(f"  {label}: {d[key]:,.2f} 亩", highlight=False)
    out.print(f"  县域平衡 / county balanced: {_yes_no(d['county_balanced'])}", highlight=False)
    out.print(f"  市域平衡 / city balanced: {_yes_no(d['city_balanced'])}", highlight=False)
    for w in d["warnings"]:
        out.print(f"  注意/warning [{w['code']}] {w['message']}（{w['article']}）", highlight=False)


@balance_app.command("check")
@handled
def balance_check(
    county: Annotated[str, typer.Option("--county")],
    remove: RemoveOpt = None,
    add: AddOpt = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
) -> None:
    """核算调整方案的占补平衡（不写入）/ check an adjustment's balance; exit 1 when unbalanced."""
    # lazy: blockline.services.balance imports sqlalchemy and geopandas: +0.6 s (CPU) on blockline --help
    from blockline.services.balance import check_adjustment

    profile = profile_of(policy, needs="balance.occupy_replace")
    check = check_adjustment(
        engine(), county=county, profile=profile, **adjustment(remove, add, crs=crs, encoding=encoding)
    )
    d = check.as_dict()
    if fmt == Fmt.json:
        print_json(d)
    else:
        _print_check(d)
    if not check.county_balanced:
        raise typer.Exit(1)


@balance_app.command("record")
@handled
def balance_record(
    county: Annotated[str, typer.Option("--county")],
    doc: Annotated[str, typer.Option("--doc", help="批复文号 / approval document number")],
    remove: RemoveOpt = None,
    add: AddOpt = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    transfer: Annotated[list[str] | None, typer.Option("--transfer", help="FROM_CODE:MU")] = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    policy: PolicyOpt = None,
    request_id: Annotated[
        str | None,
        typer.Option(
            "--request-id",
            help="幂等键：同一请求重试只记录一次（默认由内容生成）/ idempotency key (default: from the content)",
        ),
    ] = None,
    fmt: FmtOpt = Fmt.table,
) -> None:
    """记录经批准的调整方案（改变区块线，写入台账）/ record an approved adjustment, exactly once."""
    # lazy: the ledger's writer imports sqlalchemy and geopandas: +0.6 s (CPU) on blockline --help
    # (and tests/faults/workers.py patches record_adjustment where it lives before this runs)
    from blockline.services.ledger_record import record_adjustment
    from zoning.balance import parse_transfers  # lazy: with the ledger's writer above

    profile = profile_of(policy, needs="balance.occupy_replace")
    adjustment_id, check = record_adjustment(
        engine(),
        county=county,
        **adjustment(remove, add, crs=crs, encoding=encoding),
        approval_doc=doc,
        reason=reason,
        transfers=parse_transfers(transfer or []),
        user=settings().user,
        profile=profile,
        request_id=request_id,
    )
    d = {
        "adjustment_id": adjustment_id,
        "request_id": check.request_id,
        "replayed": check.replayed,
        **check.as_dict(),
    }
    if fmt == Fmt.json:
        print_json(d)
    elif check.replayed:
        out.print(
            f"此请求已记录为调整 #{adjustment_id}，未重复记录 / this request was already recorded as adjustment "
            f"#{adjustment_id}; nothing recorded again",
            highlight=False,
        )
        _print_check(d)
    else:
        out.print(
            f"已记录调整 #{adjustment_id}（{doc}）/ recorded adjustment #{adjustment_id}", highlight=False
        )
        _print_check(d)


@balance_app.command("suggest")
@handled
def balance_suggest(
    county: Annotated[str, typer.Option("--county")],
    shortfall: Annotated[
        float | None, typer.Option("--shortfall", help="缺口（亩）/ shortfall in 亩")
    ] = None,
    remove: RemoveOpt = None,
    add: AddOpt = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    policy: PolicyOpt = None,
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
) -> None:
    """建议补入一级线的用地以弥补缺口 / suggest land to cover a shortfall (from --shortfall or an adjustment)."""
    # lazy: zoning.suggest imports sqlalchemy, geopandas and scipy: +0.9 s (CPU) on blockline --help
    from blockline.services.balance import check_adjustment
    from blockline.services.suggest import suggest_cover  # lazy: with the balance above

    profile = profile_of(policy, needs="balance.occupy_replace")
    store = engine()
    if shortfall is None:
        if remove is None and add is None:
            err.print("给出 --shortfall，或 --remove/--add 以计算缺口 / give --shortfall, or --remove/--add")
            raise typer.Exit(2)
        check = check_adjustment(
            store, county=county, profile=profile, **adjustment(remove, add, crs=crs, encoding=encoding)
        )
        shortfall = max(0.0, -check.balance_after_mu)
    suggestion = suggest_cover(store, county=county, shortfall_mu=shortfall, profile=profile)
    d = suggestion.as_dict()
    if fmt in (Fmt.geojson, Fmt.gpkg, Fmt.csv, Fmt.xlsx):
        emit(suggestion.chosen, fmt=fmt, output=output, json_body=lambda: d, title="", layer="suggestion")
        return
    if fmt == Fmt.json:
        print_json(d)
        return
    out.print(
        f"{county} 缺口 / shortfall {d['shortfall_mu']:,.2f} 亩：建议补入 {d['total_mu']:,.2f} 亩"
        f"（富余 {d['surplus_mu']:,.2f} 亩，{'最优' if d['optimal'] else '未证明最优'}；{d['article']}）",
        highlight=False,
    )
    emit(
        suggestion.chosen,
        fmt=fmt,
        output=None,
        json_body=lambda: d,
        title="建议 / suggestion",
        columns=["kind", "ref", "holder", "area_mu", "touches_level1", "compactness"],
    )


@balance_app.command("ledger")
@handled
def balance_ledger(
    fmt: FmtOpt = Fmt.table,
    output: OutOpt = None,
    doc: Annotated[
        str | None, typer.Option("--doc", help="只列此批复文号的记录 / only the entry of this document")
    ] = None,
) -> None:
    """占补台账：各县余额、一级线总量及其变化、每笔调整 / the ledger."""
    # lazy: pandas and zoning.balance (sqlalchemy, geopandas): +0.6 s (CPU) on blockline --help
    import pandas as pd

    from blockline.services.balance import ledger  # lazy: with pandas above
    from zoning.balance import normalise_doc  # lazy: with pandas above
    from zoning.ledger_export import write_ledger_xlsx  # lazy: with pandas above

    book = ledger(engine())
    if doc is not None:
        book["entries"] = [
            e for e in book["entries"] if normalise_doc(e["approval_doc"]) == normalise_doc(doc)
        ]
    if fmt == Fmt.xlsx:
        if output is None:
            err.print("--format xlsx 需要 -o 输出文件 / needs -o PATH")
            raise typer.Exit(2)
        write_ledger_xlsx(book, output)
        err.print(f"已写出 / written: {output}")
        return
    if fmt in (Fmt.geojson, Fmt.gpkg):
        err.print("台账是表格：用 --format json、csv 或 xlsx / the ledger is a table: use json, csv or xlsx")
        raise typer.Exit(2)
    if fmt != Fmt.table:
        emit(pd.DataFrame(book["entries"]), fmt=fmt, output=output, json_body=lambda: book, title="台账")
        return
    _print_ledger(book, doc=doc)


def _print_ledger(book: dict[str, Any], *, doc: str | None) -> None:
    """The ledger as tables: the counties' balances, the city's totals, the entries, and where the city fell."""
    # lazy: pandas: +0.2 s (CPU) on blockline --help
    import pandas as pd

    emit(
        pd.DataFrame(book["counties"]),
        fmt=Fmt.table,
        output=None,
        json_body=lambda: book,
        title="各县余额 / balances",
    )
    out.print(
        f"全市余额 / city balance: {book['city_balance_mu']:,.2f} 亩；"
        f"全市一级线 / city level 1: {book['city_level1_mu']:,.2f} 亩",
        highlight=False,
    )
    if book["entries"]:
        emit(
            pd.DataFrame(book["entries"]),
            fmt=Fmt.table,
            output=None,
            json_body=lambda: book,
            title="调整记录 / entries",
            columns=_ENTRY_COLUMNS,
        )
    if book["city_fell_by"] is not None:
        fell_mu = -book["city_balance_mu"]
        out.print(
            f"  全市一级线总量低于原有总量（差 {fell_mu:,.2f} 亩），由调整 #{book['city_fell_by']} 造成 / "
            f"the city's level-1 total fell below its loaded total by {fell_mu:,.2f} mu, "
            f"at adjustment #{book['city_fell_by']}",
            highlight=False,
        )
    elif doc is not None and not book["entries"]:
        out.print(f"  台账中没有批复文号“{doc}”的记录 / no entry for document '{doc}'", highlight=False)
