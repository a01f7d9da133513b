"""The 占补平衡台账 as an Excel workbook, in the layout the ledger is kept in by hand.

Sheets: 台账 (one row per recorded adjustment), 各县余额 (each county's balance and level-1 area),
一级线总量 (the city's level-1 total through time, with the falls marked).

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> book = {"counties": [{"county": "330302", "name": "鹿城区", "balance_mu": 0.0, "level1_mu": 540.0}],
...         "city_balance_mu": 0.0, "city_level1_mu": 540.0, "entries": [], "level1_history": []}
>>> path = write_ledger_xlsx(book, pathlib.Path(tempfile.mkdtemp()) / "台账.xlsx")
>>> openpyxl.load_workbook(path).sheetnames
['台账', '各县余额', '一级线总量']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_ledger_xlsx", "ENTRY_HEADERS"]

ENTRY_HEADERS = {
    "id": "序号", "county_code": "行政区代码", "county_name": "县（市、区）", "approval_doc": "批复文号",
    "reason": "调整原因", "occupied_mu": "占用一级线面积（亩）", "replaced_mu": "补划一级线面积（亩）",
    "balance_before_mu": "调整前余额（亩）", "balance_after_mu": "调整后余额（亩）", "transfers": "指标调剂",
    "policy": "政策依据", "recorded_by": "记录人", "recorded_at": "记录时间",
}


def _transfers_text(items: list[dict[str, Any]] | None) -> str:
    return "；".join(f"{t['from']} → {t['to']} {t['mu']:.2f} 亩" for t in (items or []))


def write_ledger_xlsx(book: dict[str, Any], path: Path) -> Path:
    """Write the ledger returned by ``zoning.balance.ledger`` to ``path``."""
    entries = pd.DataFrame(book["entries"], columns=list(ENTRY_HEADERS))
    entries["transfers"] = [_transfers_text(t) for t in entries["transfers"]]
    entries = entries.rename(columns=ENTRY_HEADERS)
    counties = pd.DataFrame(book["counties"], columns=["county", "name", "balance_mu", "level1_mu"]).rename(
        columns={"county": "行政区代码", "name": "县（市、区）", "balance_mu": "占补余额（亩）", "level1_mu": "一级线面积（亩）"})
    total = pd.DataFrame([{"行政区代码": "合计", "县（市、区）": "全市", "占补余额（亩）": book["city_balance_mu"],
                           "一级线面积（亩）": book["city_level1_mu"]}])
    counties = pd.concat([counties, total], ignore_index=True)
    history = pd.DataFrame(book["level1_history"], columns=["at", "level1_mu", "change_mu", "fell"]).rename(
        columns={"at": "时间", "level1_mu": "全市一级线面积（亩）", "change_mu": "变化（亩）", "fell": "总量下降"})
    history["总量下降"] = history["总量下降"].map({True: "是", False: ""})
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in (("台账", entries), ("各县余额", counties), ("一级线总量", history)):
            frame.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            for i, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)]) + 2
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(width * 1.6, 60)
                if "亩" in str(column):
                    for row in range(2, len(frame) + 2):
                        ws.cell(row, i).number_format = "#,##0.00"
    return Path(path)
