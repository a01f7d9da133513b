"""The 占补平衡 page's ledger (台账) as tables and charts, and as its Excel workbook. No Streamlit here.

``book`` is the ledger's JSON (``blockline.services.balance.ledger``, as ``blockline balance ledger`` prints it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from blockline.ui.i18n import translate
from geo.clock import office_zone
from zoning.ledger_export import write_ledger_xlsx

__all__ = [
    "balances_chart",
    "falls_frame",
    "history_chart",
    "history_frame",
    "history_points",
    "ledger_counties_frame",
    "ledger_entries_frame",
    "ledger_xlsx_bytes",
]


def ledger_counties_frame(book: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """Every county's balance and level-1 亩, with a city total row, headers in ``lang``."""
    rows = [dict(c) for c in book["counties"]]
    rows.append(
        {
            "county": translate("balance.city_total", lang),
            "name": "",
            "balance_mu": book["city_balance_mu"],
            "level1_mu": book["city_level1_mu"],
        }
    )
    frame = pd.DataFrame(rows, columns=["county", "name", "balance_mu", "level1_mu"])
    frame["balance_mu"] = frame["balance_mu"].astype(float)
    frame["level1_mu"] = frame["level1_mu"].astype(float)
    return frame.rename(columns={c: translate(f"balance.col.{c}", lang) for c in frame.columns})


def history_frame(book: Mapping[str, Any]) -> pd.DataFrame:
    """The city's level-1 total through time, indexed by time, for ``st.line_chart``."""
    frame = pd.DataFrame(book["level1_history"], columns=["at_iso", "level1_mu", "change_mu", "fell"])
    frame["at"] = _wall_time(frame["at_iso"])
    return frame.set_index("at")[["level1_mu"]].astype(float)


def _wall_time(iso: pd.Series) -> pd.Series:
    """The office's wall time of ISO 8601 instants with its offset (the ledger's ``at_iso``), zone dropped.

    A chart shows a naive time as it is; an aware one would be shown in the viewer's browser zone.
    """
    return pd.to_datetime(iso, utc=True).dt.tz_convert(office_zone()).dt.tz_localize(None)


def history_points(book: Mapping[str, Any]) -> pd.DataFrame:
    """The city's level-1 total after each change (``at`` as a Beijing time), with the 文号 that made it.

    The 文号 is the adjustment's (empty for a load of lines).
    """
    docs = {int(e["id"]): str(e["approval_doc"]) for e in book["entries"]}
    frame = pd.DataFrame(
        book["level1_history"], columns=["at_iso", "level1_mu", "change_mu", "adjustment_id", "fell"]
    )
    frame["at"] = _wall_time(frame["at_iso"])
    frame["level1_mu"] = frame["level1_mu"].astype(float)
    frame["approval_doc"] = [
        docs.get(int(a), "") if a is not None and not pd.isna(a) else "" for a in frame["adjustment_id"]
    ]
    return frame


def history_chart(book: Mapping[str, Any], lang: str) -> alt.LayerChart | None:
    """A step chart of the city's level-1 total by date, a point per adjustment (its 文号 on hover).

    None when no adjustment is recorded yet: a flat line from the load alone says nothing (the page says
    so in a sentence instead).
    """
    frame = history_points(book)
    if not (frame["approval_doc"] != "").any():
        return None
    frame["date"] = frame["at"].dt.strftime("%Y-%m-%d")
    days = sorted({d.normalize() for d in frame["at"]})
    x = alt.X(
        "at:T",
        title=translate("balance.col.date", lang),
        axis=alt.Axis(format="%Y-%m-%d", values=[d.isoformat() for d in days], labelAngle=0),
    )
    y = alt.Y("level1_mu:Q", title=translate("balance.col.level1_mu", lang), scale=alt.Scale(zero=False))
    line = alt.Chart(frame).mark_line(interpolate="step-after").encode(x=x, y=y)
    tooltip = [
        alt.Tooltip("approval_doc:N", title=translate("balance.col.approval_doc", lang)),
        alt.Tooltip("date:N", title=translate("balance.col.date", lang)),
        alt.Tooltip("level1_mu:Q", title=translate("balance.col.level1_mu", lang), format=",.2f"),
        alt.Tooltip("change_mu:Q", title=translate("balance.col.change_mu", lang), format="+,.2f"),
    ]
    points = (
        alt.Chart(frame[frame["approval_doc"] != ""])
        .mark_point(filled=True, size=70)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return alt.LayerChart(layer=[line, points])  # no facet to hoist: what alt.layer would build


def balances_chart(book: Mapping[str, Any], lang: str) -> alt.Chart:
    """Each county's 占补余额 (亩) as bars beside the history, negative in red."""
    frame = pd.DataFrame(
        [
            {"county": f"{c['county']} {c.get('name') or ''}".strip(), "balance_mu": float(c["balance_mu"])}
            for c in book["counties"]
        ],
        columns=["county", "balance_mu"],
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("balance_mu:Q", title=translate("balance.col.balance_mu", lang)),
            y=alt.Y("county:N", title=None, sort=None),
            color=alt.condition(alt.datum.balance_mu < 0, alt.value("#d62728"), alt.value("#2ca02c")),
            tooltip=[
                alt.Tooltip("county:N", title=translate("balance.col.county_name", lang)),
                alt.Tooltip("balance_mu:Q", title=translate("balance.col.balance_mu", lang), format=",.2f"),
            ],
        )
    )


def falls_frame(book: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """The moments the city's level-1 total fell, with the change (headers in ``lang``)."""
    frame = pd.DataFrame(book["level1_history"], columns=["at", "level1_mu", "change_mu", "fell"])
    frame = frame[frame["fell"].astype(bool)][["at", "level1_mu", "change_mu"]]
    return frame.rename(columns={c: translate(f"balance.col.{c}", lang) for c in frame.columns})


def ledger_entries_frame(book: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """Every recorded adjustment, newest last, with its transfers as text (headers in ``lang``)."""
    columns = [
        "id",
        "county_code",
        "county_name",
        "approval_doc",
        "reason",
        "occupied_mu",
        "replaced_mu",
        "balance_before_mu",
        "balance_after_mu",
        "transfers",
        "policy",
        "recorded_by",
        "recorded_at",
    ]
    frame = pd.DataFrame(book["entries"], columns=columns)
    frame["transfers"] = [
        "; ".join(f"{t['from']} → {t['to']} {float(t['mu']):,.2f}" for t in (items or []))
        for items in frame["transfers"]
    ]
    return frame.rename(columns={c: translate(f"balance.col.{c}", lang) for c in frame.columns})


def ledger_xlsx_bytes(book: Mapping[str, Any]) -> bytes:
    """The ledger as the bytes of the Excel workbook of ``zoning.ledger_export.write_ledger_xlsx``."""
    with tempfile.TemporaryDirectory(prefix="blockline-ledger-") as tmp:
        path = write_ledger_xlsx(dict(book), Path(tmp) / "ledger.xlsx")
        return path.read_bytes()
