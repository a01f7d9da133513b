"""What every sub-command of ``blockline`` shares: the root command, its options, settings and store, output.

- the root :data:`app` and its global options ``--db``/``--user``, which reach the commands through
  :func:`settings` (this process's environment is left as it is);
- :func:`handled`, which turns blockline's errors into their message and exit code;
- the store (:func:`engine`), once the acting user has proved who they are against a store given by URL;
- the options several groups take (``--format``, ``-o``, ``--crs``, ``--policy``, ``--as-of`` …) and what they
  are read into (:func:`profile_of`, :func:`day_of`, :func:`adjustment`);
- output: :func:`print_json`, :func:`emit` (JSON, a table or a file), :func:`progress`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from geo.errors import BlocklineError
from geo.settings import Settings, get_settings
from zoning.policy import Profile, get_profile

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
    from sqlalchemy import Engine

__all__ = [
    "AddOpt",
    "Adjustment",
    "AsOfOpt",
    "CrsOpt",
    "EncOpt",
    "Fmt",
    "FmtOpt",
    "LayerOpt",
    "OutOpt",
    "PolicyOpt",
    "RemoveOpt",
    "adjustment",
    "app",
    "day_of",
    "emit",
    "engine",
    "err",
    "given_env",
    "handled",
    "out",
    "polygons",
    "print_json",
    "profile_of",
    "progress",
    "settings",
]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="blockline：工业区块线、占一补一、连片开发与工业用地全生命周期管理。",
)

out = Console()
err = Console(stderr=True)


class Fmt(StrEnum):
    """The output formats a command may be asked for (``--format``)."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    geojson = "geojson"
    gpkg = "gpkg"


FmtOpt = Annotated[Fmt, typer.Option("--format")]
OutOpt = Annotated[Path | None, typer.Option("-o", "--output")]
CrsOpt = Annotated[str | None, typer.Option("--crs", help="EPSG 代码或 gcj02 / an EPSG code or gcj02")]
RemoveOpt = Annotated[Path | None, typer.Option("--remove", help="调出范围文件 / removal polygons")]
AddOpt = Annotated[Path | None, typer.Option("--add", help="补入范围文件 / addition polygons")]
LayerOpt = Annotated[
    str | None,
    typer.Option(
        "--layer",
        help="多图层文件（GeoPackage、FileGDB；工作簿的工作表）中要导入的图层 / the layer (or sheet) to load",
    ),
]
EncOpt = Annotated[
    str | None, typer.Option("--encoding", help="仅在无法自动识别时需要 / only when it cannot be told")
]
PolicyOpt = Annotated[
    str | None, typer.Option("--policy", help="政策配置名或 .toml 路径 / profile name or path")
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD，默认今天 / default today")]


# -- settings: the environment's, with the global options over them ------------------------------------------
class _Given:
    """What this invocation's global options give (``--db``, ``--user``), and the settings made with them."""

    options: dict[str, Any] = {}
    settings: Settings | None = None


@app.callback()
def _global(
    db: Annotated[
        str | None, typer.Option("--db", help="PostGIS URL (else BLOCKLINE_DATABASE_URL, else embedded)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="who acts (recorded with writes)")] = None,
) -> None:
    _Given.options = {k: v for k, v in (("database_url", db), ("user", user)) if v}
    _Given.settings = None
    get_settings.cache_clear()


def settings() -> Settings:
    """The settings the command runs with: the environment's, with ``--db``/``--user`` over them."""
    if not _Given.options:
        return get_settings()
    if _Given.settings is None:
        _Given.settings = Settings(**_Given.options)
    return _Given.settings


def given_env() -> dict[str, str]:
    """The global options given, as the environment variables a child process reads them from."""
    names = {"database_url": "BLOCKLINE_DATABASE_URL", "user": "BLOCKLINE_USER"}
    return {names[k]: v for k, v in _Given.options.items()}


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn blockline's errors into their message on stderr and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BlocklineError as exc:
            err.print(f"[bold red]错误 / error[/]\n{exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


# -- the store ---------------------------------------------------------------------------------------------
def engine(*, prove: bool = True) -> Engine:
    """The store; against a store given by URL, once the acting user has proved who they are (``prove``)."""
    # lazy: geo.store imports sqlalchemy: +0.2 s (CPU) on blockline --help
    from geo.store import open_store

    found = open_store(settings())
    if prove:
        _prove_identity(found)
    return found


_proved: set[tuple[str, str, str | None]] = set()


def _prove_identity(engine: Engine) -> None:
    """Against ``BLOCKLINE_DATABASE_URL``, the acting user (``--user``/``BLOCKLINE_USER``) proves who they are.

    The embedded store's boundary is the operating-system user (its folder and socket are theirs alone), so a
    name is taken as given there. Against a URL, outside setup mode, the name counts when the database role
    itself is that user (a personal role, authenticated by the database), or with the user's password in
    ``BLOCKLINE_TOKEN`` or typed at the prompt; else nothing runs (exit 4).
    """
    # lazy: geo.auth imports sqlalchemy and pandas: +0.5 s (CPU) on blockline --help
    from geo.auth import NotPermitted, authenticate, setup_mode

    given = settings()
    key = (str(engine.url), given.user, given.token)
    if given.embedded or key in _proved:
        return
    with engine.connect() as conn:
        if setup_mode(conn) or conn.exec_driver_sql("SELECT session_user").scalar_one() == given.user:
            _proved.add(key)
            return
    secret = given.token
    if secret is None and sys.stdin.isatty():
        secret = typer.prompt(f"{given.user} 的密码 / password", hide_input=True)
    if secret is None or authenticate(engine, given.user, secret) is None:
        raise NotPermitted(
            f"无法确认命令行用户 {given.user} 的身份（外部数据库不接受未经证明的 --user）",
            f"cannot prove that the command acts as {given.user} (a store given by URL takes no unproved --user)",
            fix_zh="在 BLOCKLINE_TOKEN 中给出该用户的密码，或在终端输入；或以与该用户同名的个人数据库角色连接",
            fix_en="give the user's password in BLOCKLINE_TOKEN or at the prompt, or connect with a personal "
            "database role of the same name",
        )
    _proved.add(key)


# -- options read ------------------------------------------------------------------------------------------
def profile_of(name: str | None, *, needs: str | None = None) -> Profile:
    """The policy profile ``--policy`` names (else the deployment's), refusing one whose text lacks ``needs``."""
    found = get_profile(name or settings().policy)
    if needs is not None:  # a city whose text lacks the rule refuses (exit 2), never a KeyError
        found.require(needs)
    return found


def day_of(value: str | None) -> dt.date:
    """The day ``--as-of`` (or ``--date``) names, else today by the office's clock; exit 2 when not a date."""
    if value is None:
        # lazy: geo.clock imports pandas: +0.2 s (CPU) on blockline --help
        from geo.clock import today

        return today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"--as-of 须为 YYYY-MM-DD，而不是“{value}” / --as-of must be YYYY-MM-DD")
        raise typer.Exit(2) from None


def polygons(path: Path | None, *, crs: str | None, encoding: str | None) -> list[BaseGeometry] | None:
    """The polygons of a file, in the store's CRS (None without a file)."""
    if path is None:
        return None
    # lazy: geo.io imports geopandas and pyogrio: +0.5 s (CPU) on blockline --help
    from geo.io import read_vector
    from geo.store import storage_srid  # lazy: with geo.io above (sqlalchemy)

    with engine().connect() as conn:
        srid = storage_srid(conn)
    gdf, _ = read_vector(path, storage_epsg=srid, crs=crs, encoding=encoding)
    return list(gdf.geometry)


class Adjustment(TypedDict):
    """The polygons of an adjustment, as ``zoning.balance`` takes them (None where no file was given)."""

    removal: list[BaseGeometry] | None
    addition: list[BaseGeometry] | None


def adjustment(remove: Path | None, add: Path | None, *, crs: str | None, encoding: str | None) -> Adjustment:
    """The removal and addition polygons of an adjustment, read from their files (None where not given)."""
    return {
        "removal": polygons(remove, crs=crs, encoding=encoding),
        "addition": polygons(add, crs=crs, encoding=encoding),
    }


# -- output ------------------------------------------------------------------------------------------------
def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout (Chinese as is, dates and the like as text)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def progress() -> tuple[Progress, Callable[[str, int, int], None]]:
    """A progress bar on stderr, and the callback a load reports its stages to (large loads only)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if total < 2000 and stage not in tasks:
            return  # small loads finish before a bar would help
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


def emit(
    frame: Any,
    *,
    fmt: Fmt,
    output: Path | None,
    json_body: Callable[[], object],
    title: str,
    columns: list[str] | None = None,
    layer: str = "blockline",
) -> None:
    """Write a result in the format asked: JSON to stdout, a table to the terminal, or a file."""
    # lazy: geo.export imports geopandas: +0.3 s (CPU) on blockline --help
    from geo.export import records, write_layer, write_table

    if fmt == Fmt.json:
        body = json.dumps(json_body(), ensure_ascii=False, indent=2, default=str)
        if output:
            output.write_text(body + "\n", encoding="utf-8")
        else:
            sys.stdout.write(body + "\n")
        return
    if fmt == Fmt.table:
        _print_table(records(frame), title=title, columns=columns)
        return
    if output is None:
        err.print(f"--format {fmt.value} 需要 -o 输出文件 / needs -o PATH")
        raise typer.Exit(2)
    if fmt in (Fmt.csv, Fmt.xlsx):
        write_table(frame, output, fmt=fmt.value, sheet=layer)
    else:
        write_layer(frame, output, fmt=fmt.value, layer=layer)
    err.print(f"已写出 / written: {output}")


def _print_table(rows: list[dict[str, object]], *, title: str, columns: list[str] | None) -> None:
    """The first 200 rows as a table on the terminal, and how many there are when more."""
    table = Table(title=title, show_lines=False)
    cols = columns or [c for c in (rows[0].keys() if rows else [])]
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows[:200]:
        table.add_row(*[_cell(r.get(c)) for c in cols])
    out.print(table)
    if len(rows) > 200:
        out.print(
            f"… 共 {len(rows)} 行，用 --format xlsx -o 文件 导出全部 / {len(rows)} rows; export with -o"
        )


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)
