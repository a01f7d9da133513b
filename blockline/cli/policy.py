"""``blockline policy``: the policy profiles, and every parameter of one with its article."""

from __future__ import annotations

import typer
from rich.table import Table

from blockline.cli._shared import Fmt, FmtOpt, handled, out, print_json, profile_of
from zoning.policy import list_profiles

__all__ = ["policy_app"]

policy_app = typer.Typer(no_args_is_help=True, help="政策配置 / policy profiles")


@policy_app.command("list")
@handled
def policy_list(fmt: FmtOpt = Fmt.table) -> None:
    """列出政策配置 / list the policy profiles."""
    profiles = list_profiles()
    if fmt == Fmt.json:
        print_json(
            {
                "profiles": [
                    {
                        "name": p.name,
                        "title": p.title,
                        "document": p.document,
                        "source": p.source,
                        "jurisdiction": list(p.jurisdiction),
                    }
                    for p in profiles
                ]
            }
        )
        return
    for p in profiles:
        reach = ",".join(p.jurisdiction) or "-"
        out.print(f"{p.name}\t{p.title}\t适用范围 / jurisdiction {reach}\t{p.source}", highlight=False)


@policy_app.command("show")
@handled
def policy_show(name: str, fmt: FmtOpt = Fmt.table) -> None:
    """显示政策配置的每项参数及条款 / show every parameter with its article."""
    profile = profile_of(name)
    if fmt == Fmt.json:
        print_json(profile.as_dict())
        return
    table = Table(title=f"{profile.name}：{profile.title}")
    for c in ("参数/key", "取值/value", "边界/boundary", "条款/article", "说明/note"):
        table.add_column(c, overflow="fold")
    for key, p in profile.parameters.items():
        edge = (
            ""
            if p.boundary is None
            else f"{p.boundary}（{'含本数' if p.includes else '不含本数'} / "
            + ("included" if p.includes else "excluded")
            + "）"
        )
        article = f"{p.article}（采用 / adopted from {p.adopted_from}）" if p.adopted_from else p.article
        table.add_row(key, str(p.value), edge, article, p.note)
    out.print(table)
