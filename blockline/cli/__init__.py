"""The ``blockline`` command: a thin layer over ``geo`` and ``zoning`` (see ../shared/CLI.md).

Exit codes: 0 done; 1 the analysis found the adjustment unbalanced; 2 bad input; 3 database unreachable.

One module per group of sub-commands, each registered here in the order ``blockline --help`` lists them;
what they share (the root command and its global options, the store, output) is in ``_shared``. Heavy
libraries are imported by the commands that use them, so that ``blockline --help`` starts quickly.
"""

from __future__ import annotations

from blockline.cli._shared import Fmt, app, emit, err, handled, out
from blockline.cli.balance import balance_app
from blockline.cli.db import db_app
from blockline.cli.findings import idle_cmd, lifecycle_cmd
from blockline.cli.load import demo, load_app
from blockline.cli.parcels import parcels_cmd
from blockline.cli.policy import policy_app
from blockline.cli.qgis import qgis_cmd
from blockline.cli.report import report_app
from blockline.cli.serve import app_cmd
from blockline.cli.users import audit_app, user_app
from blockline.cli.zones import zones_app

__all__ = ["Fmt", "app", "emit", "err", "handled", "main", "out"]

app.command("demo")(demo)
app.command("parcels")(parcels_cmd)
app.command("idle")(idle_cmd)
app.command("lifecycle")(lifecycle_cmd)
app.command("app")(app_cmd)
app.command("qgis")(qgis_cmd)
app.add_typer(db_app, name="db")
app.add_typer(load_app, name="load")
app.add_typer(balance_app, name="balance")
app.add_typer(policy_app, name="policy")
app.add_typer(zones_app, name="zones")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")


def main() -> None:
    """Run the ``blockline`` command (the console script's entry point)."""
    app()
