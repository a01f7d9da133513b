"""``blockline demo`` and ``blockline load``: data into the store, then today's findings judged and stored."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from blockline.cli._shared import (
    CrsOpt,
    EncOpt,
    Fmt,
    FmtOpt,
    LayerOpt,
    engine,
    err,
    handled,
    out,
    print_json,
    progress,
    settings,
)
from geo.errors import InputError

__all__ = ["demo", "load_app"]

load_app = typer.Typer(no_args_is_help=True, help="导入数据 / load data")


class Judge(StrEnum):
    """When a load's today's findings are judged: before the command returns, or by a process of their own."""

    wait = "wait"
    background = "background"


JudgeOpt = Annotated[
    Judge,
    typer.Option(
        "--judge",
        help="今日判定：等待完成（wait，默认）或在后台进行（background，大批量导入时；期间的查询等待其完成）/ "
        "today's judgement: wait for it (default), or judge in the background (big loads; a query meanwhile "
        "waits for it)",
    ),
]

_NOUN = {"parcels": "宗地", "blocklines": "区块线", "boundaries": "行政区", "ratings": "评价", "demo": "宗地"}


@handled
def demo(
    parcels: Annotated[
        int, typer.Option("--parcels", min=50, max=1_000_000, help="宗地数 / number of parcels")
    ] = 600,
    seed: Annotated[int, typer.Option("--seed")] = 2020,
    region: Annotated[
        str,
        typer.Option(
            "--region",
            help="wenzhou：温州 12 个县级单位（默认）；zhejiang：浙江全省 90 个县级单位 / wenzhou (default): "
            "Wenzhou's 12 county-level units; zhejiang: the province's 90",
        ),
    ] = "wenzhou",
    fmt: FmtOpt = Fmt.table,
    judge: JudgeOpt = Judge.wait,
) -> None:
    """生成并导入示例城市（温州真实县界；--region zhejiang 为浙江全省）/ build and load the demo city (Wenzhou's
    real county lines; --region zhejiang: the whole province).
    """  # noqa: D205 - typer shows the docstring as the command's help: one paragraph, as the user reads it
    # lazy: blockline.demo imports geopandas, pyogrio and openpyxl: +0.8 s (CPU) on blockline --help
    from blockline.demo import load_demo

    bar, update = progress()
    with bar:
        result = load_demo(
            engine(), user=settings().user, n_parcels=parcels, seed=seed, region=region, progress=update
        )
    _report(result, fmt)
    _judge_after_load(result, fmt, judge)


def _judge_after_load(result: Any, fmt: Fmt, judge: Judge = Judge.wait) -> None:
    """Judge today's city under the deployment's profile after a load's commit, and say so.

    ``blockline.services.judged.judge_today``: the first planner who asks is served stored findings. Said on
    stderr with ``--format json``. The load is committed whatever happens here: a judgement that fails is
    reported, and the first caller judges then. ``--judge background`` hands the judging to a process of its
    own (``judge_later``) and returns.
    """
    if not any(getattr(result, k, 0) for k in ("inserted", "updated", "closed")):
        return
    # lazy: blockline.services.judged imports sqlalchemy and geopandas: +0.6 s (CPU) on blockline --help
    from blockline.services.judged import judge_later, judge_today

    console = err if fmt == Fmt.json else out
    if judge == Judge.background:
        pid, log = judge_later(engine())
        console.print(
            f"  判定/judged: 今日判定已在后台开始（进程 {pid}，日志 {log}）；其间的查询将等待其完成 / "
            f"today's findings are being judged in the background (process {pid}, log {log}); a query "
            "meanwhile waits for them",
            highlight=False,
        )
        return
    try:
        with console.status("正在判定今日的闲置、全生命周期与低效用地 / judging today's findings …"):
            judged = judge_today(engine())
    except Exception as exc:  # noqa: BLE001 - the data is loaded; the first query judges instead
        console.print(
            f"  注意/warning: 数据已导入，但今日判定未完成（首次查询时再判定）/ loaded, but today's findings "
            f"were not judged now (the first query will): {exc}",
            highlight=False,
        )
        return
    for j in judged:
        how = (
            f"已判定并保存，{j.seconds:.1f} 秒 / judged and stored in {j.seconds:.1f} s"
            if j.computed
            else "已有保存的判定 / already stored"
        )
        console.print(
            f"  判定/judged: {j.as_of.isoformat()} {j.profile} 闲置、全生命周期与低效用地 / idle, lifecycle "
            f"and low-efficiency findings: {how}",
            highlight=False,
        )


def _report(result: Any, fmt: Fmt) -> None:
    """What a load did: JSON, or a line of counts with what reading the file found."""
    data = result.as_dict()
    if fmt == Fmt.json:
        print_json(data)
        return
    if result.join:
        _report_join(result, data)
        return
    out.print(
        f"{result.file}: 新增 {result.inserted} {_NOUN[result.kind]}，更新 {result.updated}"
        + (f"，关闭旧版本 {result.closed}" if result.closed else "")
        + f" / inserted {result.inserted}, updated {result.updated}"
        + (f", closed {result.closed} old versions" if result.closed else ""),
        highlight=False,
    )
    read = data.get("read") or {}
    if read:
        _report_read(read)
    for w in result.warnings:
        out.print(f"  注意/warning: {w}", highlight=False)


def _report_join(result: Any, data: dict[str, Any]) -> None:
    """What ``load parcels --join`` did: parcels updated by number, unchanged, not found."""
    out.print(
        f"{result.file}: 按 {result.join} 更新 {result.updated} 宗（新版本，图形不变），未变 {result.unchanged}，"
        f"未找到 {len(result.not_found)} / updated {result.updated} parcels by {result.join} (new versions, "
        f"shapes unchanged), unchanged {result.unchanged}, not found {len(result.not_found)}",
        highlight=False,
    )
    for note in (data.get("read") or {}).get("notes") or []:
        out.print(f"  说明/note: {note}", highlight=False)
    for w in result.warnings:
        out.print(f"  注意/warning: {w}", highlight=False)


def _report_read(read: dict[str, Any]) -> None:
    """How a file was read: its encoding and CRS, the shapes repaired, the notes."""
    out.print(
        f"  编码/encoding: {read.get('encoding')} ({read.get('encoding_how')}); "
        f"坐标系/CRS: {read.get('source_crs')} ({read.get('crs_how')})",
        highlight=False,
    )
    repairs = read.get("repairs", {})
    for r in repairs.get("repaired", []):
        out.print(
            f"  修复几何/repaired row {r['row']} {r['feature'] or ''}: {r['reason']} "
            f"({r['area_before']:.1f} → {r['area_after']:.1f} m²)",
            highlight=False,
        )
    if repairs.get("dropped_z"):
        out.print(f"  去除 Z/M 坐标 / dropped Z/M: {repairs['dropped_z']}", highlight=False)
    for note in read.get("notes") or []:
        out.print(f"  说明/note: {note}", highlight=False)


@load_app.command("boundaries")
@handled
def load_boundaries_cmd(
    file: Path,
    code_field: Annotated[str | None, typer.Option("--code-field")] = None,
    name_field: Annotated[str | None, typer.Option("--name-field")] = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    layer: LayerOpt = None,
    fmt: FmtOpt = Fmt.table,
    judge: JudgeOpt = Judge.wait,
) -> None:
    """导入行政区边界 / load administrative boundaries."""
    # lazy: geo.load imports geopandas, pyogrio and openpyxl: +0.8 s (CPU) on blockline --help
    from geo.load import load_boundaries

    result = load_boundaries(
        engine(),
        file,
        user=settings().user,
        code_field=code_field,
        name_field=name_field,
        crs=crs,
        encoding=encoding,
        layer=layer,
    )
    _report(result, fmt)
    _judge_after_load(result, fmt, judge)


@load_app.command("blocklines")
@handled
def load_blocklines_cmd(
    file: Path,
    level: Annotated[int, typer.Option("--level", min=1, max=2, help="1 或 2")],
    county: Annotated[str | None, typer.Option("--county")] = None,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    layer: LayerOpt = None,
    fmt: FmtOpt = Fmt.table,
    judge: JudgeOpt = Judge.wait,
) -> None:
    """导入工业区块线（一级或二级）/ load industrial block lines of level 1 or 2."""
    # lazy: geo.load imports geopandas, pyogrio and openpyxl: +0.8 s (CPU) on blockline --help
    from geo.load import load_blocklines

    result = load_blocklines(
        engine(),
        file,
        level=level,
        county=county,
        user=settings().user,
        crs=crs,
        encoding=encoding,
        layer=layer,
    )
    _report(result, fmt)
    _judge_after_load(result, fmt, judge)


@load_app.command("parcels")
@handled
def load_parcels_cmd(
    file: Path,
    crs: CrsOpt = None,
    encoding: EncOpt = None,
    field_map: Annotated[list[str] | None, typer.Option("--field-map", help="SRC=DST")] = None,
    layer: LayerOpt = None,
    join: Annotated[
        str | None,
        typer.Option(
            "--join",
            help="台账（无图形的 CSV/XLSX）按宗地编号更新现有宗地的属性，图形不变 / update the attributes of "
            "current parcels from a table without shapes, by parcel number: --join parcel_no",
        ),
    ] = None,
    fmt: FmtOpt = Fmt.table,
    judge: JudgeOpt = Judge.wait,
) -> None:
    """导入宗地；或用 --join parcel_no 按编号更新属性 / load parcels, or update their attributes with --join."""
    # lazy: geo.load imports geopandas, pyogrio and openpyxl: +0.8 s (CPU) on blockline --help
    from geo.load import load_parcel_attributes, load_parcels

    bar, update = progress()
    with bar:
        if join is not None and crs is not None:
            raise InputError(
                "--join 只更新属性、不读图形，--crs 在此没有意义",
                "--join updates attributes and reads no shapes: --crs has no meaning with it",
                file=file.name,
                fix_zh="去掉 --crs",
                fix_en="leave out --crs",
            )
        if join is not None:
            result = load_parcel_attributes(
                engine(),
                file,
                user=settings().user,
                join=join,
                encoding=encoding,
                field_map=field_map or [],
                progress=update,
                layer=layer,
            )
        else:
            result = load_parcels(
                engine(),
                file,
                user=settings().user,
                crs=crs,
                encoding=encoding,
                field_map=field_map or [],
                progress=update,
                layer=layer,
            )
    _report(result, fmt)
    _judge_after_load(result, fmt, judge)


@load_app.command("ratings")
@handled
def load_ratings_cmd(
    file: Path,
    encoding: EncOpt = None,
    layer: LayerOpt = None,
    fmt: FmtOpt = Fmt.table,
    judge: JudgeOpt = Judge.wait,
) -> None:
    """导入亩均论英雄评价（CSV/XLSX）/ load ratings."""
    # lazy: geo.load imports geopandas, pyogrio and openpyxl: +0.8 s (CPU) on blockline --help
    from geo.load import load_ratings

    result = load_ratings(engine(), file, user=settings().user, encoding=encoding, layer=layer)
    _report(result, fmt)
    _judge_after_load(result, fmt, judge)
