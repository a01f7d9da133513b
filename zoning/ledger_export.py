"""The 占补平衡台账 as an Excel workbook, in the layout the ledger is kept in by hand.

Sheets: 台账 (one row per recorded adjustment, with the city's balance after it and whether it left the
city's level-1 total below its loaded total), 各县余额 (each county's balance and level-1 area), 一级线总量
(the city's level-1 total through time, each change with the adjustment that made it).

Written by ``geo.export.write_workbook``, the one guarded table writer: a 文号 or a reason that starts
like a formula (``=HYPERLINK(…)``, ``=1+2``) is text in the workbook.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> book = {"counties": [{"county": "330302", "name": "鹿城区", "balance_mu": 0.0, "level1_mu": 540.0}],
...         "city_balance_mu": 0.0, "city_level1_mu": 540.0, "entries": [], "level1_history": []}
>>> path = write_ledger_xlsx(book, pathlib.Path(tempfile.mkdtemp()) / "台账.xlsx")
>>> openpyxl.load_workbook(path).sheetnames
['台账', '各县余额', '一级线总量']
>>> import shutil; shutil.rmtree(path.parent)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from geo.export import write_workbook

__all__ = ["write_ledger_xlsx", "ENTRY_HEADERS"]

ENTRY_HEADERS = {
    "id": "序号",
    "county_code": "行政区代码",
    "county_name": "县（市、区）",
    "approval_doc": "批复文号",
    "reason": "调整原因",
    "occupied_mu": "占用一级线面积（亩）",
    "replaced_mu": "补划一级线面积（亩）",
    "balance_before_mu": "调整前余额（亩）",
    "balance_after_mu": "调整后余额（亩）",
    "city_balance_after_mu": "全市调整后余额（亩）",
    "fell": "全市一级线总量低于原有总量",
    "transfers": "指标调剂",
    "policy": "政策依据",
    "recorded_by": "记录人",
    "recorded_at": "记录时间",
}


def _transfers_text(items: list[dict[str, Any]] | None) -> str:
    return "；".join(f"{t['from']} → {t['to']} {t['mu']:.2f} 亩" for t in (items or []))


def write_ledger_xlsx(book: dict[str, Any], path: Path | Any) -> Path | Any:
    """Write the ledger returned by ``blockline.services.balance.ledger`` to ``path`` (a file, or a binary buffer)."""
    entries = pd.DataFrame(book["entries"], columns=list(ENTRY_HEADERS))
    entries["transfers"] = [_transfers_text(t) for t in entries["transfers"]]
    entries["fell"] = entries["fell"].map({True: "是", False: ""})
    entries = entries.rename(columns=ENTRY_HEADERS)
    counties = pd.DataFrame(book["counties"], columns=["county", "name", "balance_mu", "level1_mu"]).rename(
        columns={
            "county": "行政区代码",
            "name": "县（市、区）",
            "balance_mu": "占补余额（亩）",
            "level1_mu": "一级线面积（亩）",
        }
    )
    total = pd.DataFrame(
        [
            {
                "行政区代码": "合计",
                "县（市、区）": "全市",
                "占补余额（亩）": book["city_balance_mu"],
                "一级线面积（亩）": book["city_level1_mu"],
            }
        ]
    )
    counties = pd.concat([counties, total], ignore_index=True)
    history = pd.DataFrame(
        book["level1_history"], columns=["at", "level1_mu", "change_mu", "adjustment_id", "fell"]
    )
    history = history.rename(
        columns={
            "at": "时间",
            "level1_mu": "全市一级线面积（亩）",
            "change_mu": "变化（亩）",
            "adjustment_id": "调整序号",
            "fell": "低于原有总量",
        }
    )
    history["低于原有总量"] = history["低于原有总量"].map({True: "是", False: ""})
    sheets = {"台账": entries, "各县余额": counties, "一级线总量": history}
    mu = {str(c): "#,##0.00" for frame in sheets.values() for c in frame.columns if "亩" in str(c)}
    return write_workbook(sheets, path, number_formats=mu, width_factor=1.6)
