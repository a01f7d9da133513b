"""The audit trail and the users as a planner reads them: action names, sentences, formatted figures (no JSON).

The store keeps each row as written (``load.demo``, ``{"inserted": 600, …}``); the 审计 page shows it in the
page's language: the action by its name (导入宗地), the target as a phrase (第 1 次导入：…), the approval document or
a dash, and before/after as ``label：value`` pairs with areas in 亩 and yes/no as 是/否. The Excel export keeps
the same words. Pure functions: no Streamlit.

Examples
--------
>>> row = pd.DataFrame({"id": [1], "at": ["2026-12-05 13:00:00"], "actor": ["e2e"], "action": ["load.demo"],
...                     "target": ["load 1: demo seed=2020 parcels=600"], "approval_doc": [None],
...                     "before": [None], "after": [{"inserted": 600, "updated": 0, "closed": 0, "warnings": 0}]})
>>> readable_trail(row, "zh").iloc[0][["action", "target", "approval_doc", "after"]].tolist()
... # doctest: +NORMALIZE_WHITESPACE
['载入示范数据', '第 1 次导入：示范城市（随机种子 2020，宗地 600 宗）', '—',
 '新增：600；更新：0；关闭旧版本：0；注意事项：0']
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import pandas as pd

from blockline.ui.i18n import LANGS, fmt_int, fmt_mu, translate
from geo.clock import shown

__all__ = ["ACTIONS", "action_label", "fact_text", "readable_trail", "readable_users", "target_text"]

_LOAD = re.compile(r"^load (\d+): (.*)$", re.S)
_DEMO = re.compile(r"^demo seed=(-?\d+) parcels=(\d+)$")
_ADJUSTMENT = re.compile(r"^adjustment (\d+) \((\d{6})\)$")
_ZONES = re.compile(r"^(\d+) zones$")
_ZONE = re.compile(r"^zone (\d+): (.*)$", re.S)
_DASH = "—"
#: the actions the store records, in the order the 审计 page's filter lists them
ACTIONS = (
    "load.boundaries",
    "load.blocklines",
    "load.parcels",
    "load.ratings",
    "load.demo",
    "adjustment.record",
    "zone.candidates",
    "zone.save",
    "user.add",
    "user.passwd",
    "user.disable",
    "user.enable",
    "user.unlock",
    "auth.sign_in",
    "auth.sign_out",
    "auth.sign_in_failed",
    "auth.locked",
)


#: facts in the order the actions write them (the store's jsonb sorts its keys its own way)
_FACT_ORDER = {
    k.removeprefix("audit.fact."): i
    for i, k in enumerate(k for k in LANGS["zh"] if k.startswith("audit.fact."))
}


def _known(key: str, lang: str) -> bool:
    return key in LANGS[lang]


def action_label(action: object, lang: str) -> str:
    """The name of an audited action (``load.demo`` → 载入示范数据); an action without a name keeps its code.

    >>> action_label("adjustment.record", "zh"), action_label("adjustment.record", "en")
    ('记录占补调整', 'Adjustment recorded')
    """
    code = "" if action is None else str(action)
    key = f"audit.action.{code}"
    return translate(key, lang) if _known(key, lang) else translate("audit.action.other", lang, code=code)


def target_text(target: object, lang: str, counties: Mapping[str, str] | None = None) -> str:
    """What an action was done to, as a phrase (``adjustment 3 (330302)`` → 第 3 号调整，330302 鹿城区).

    >>> target_text("adjustment 3 (330302)", "zh", {"330302": "鹿城区"})
    '第 3 号调整，330302 鹿城区'
    >>> target_text(None, "zh")
    '—'
    """
    if target is None or (isinstance(target, float) and math.isnan(target)) or not str(target).strip():
        return _DASH
    text = str(target)
    if found := _LOAD.match(text):
        source = found[2]
        if demo := _DEMO.match(source):
            source = translate("audit.target.demo", lang, seed=demo[1], parcels=fmt_int(int(demo[2])))
        return translate("audit.target.load", lang, n=found[1], source=source)
    if found := _ADJUSTMENT.match(text):
        return translate("audit.target.adjustment", lang, n=found[1], county=_county(found[2], counties))
    if found := _ZONES.match(text):
        return translate("audit.target.zones", lang, n=found[1])
    if found := _ZONE.match(text):
        return translate("audit.target.zone", lang, n=found[1], name=found[2])
    return text  # a user's name


def _county(code: object, counties: Mapping[str, str] | None) -> str:
    name = (counties or {}).get(str(code), "")
    return f"{code} {name}".strip()


def _value(key: str, value: object, lang: str, counties: Mapping[str, str] | None) -> str:
    """One recorded value, formatted by what it is."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _DASH
    if isinstance(value, bool):
        return translate("yes" if value else "no", lang)
    if key.endswith("_mu") and isinstance(value, (int, float)):
        return fmt_mu(value)
    if key == "gap_m" and isinstance(value, (int, float)):
        return f"{value:g} m"
    named = _named_value(key, value, lang, counties)
    if named is not None:
        return named
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or translate("audit.none", lang)
    if isinstance(value, Mapping):
        return fact_text(value, lang, counties)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _named_value(key: str, value: object, lang: str, counties: Mapping[str, str] | None) -> str | None:
    """A value its key says how to word (transfers, county, roles, counties, via, requirements); else None."""
    if key == "transfers" and isinstance(value, list):
        parts = [
            translate("audit.transfer", lang, county=_county(t.get("from"), counties), mu=fmt_mu(t.get("mu")))
            for t in value
            if isinstance(t, Mapping)
        ]
        return "、".join(parts) if parts else translate("audit.none", lang)
    if key == "county":
        return _county(value, counties)
    if key == "roles" and isinstance(value, list):
        return "、".join(
            translate(f"role.{r}", lang) if _known(f"role.{r}", lang) else str(r) for r in value
        ) or translate("audit.none", lang)
    if key == "counties" and isinstance(value, list):
        return "、".join(_county(c, counties) for c in value) or translate("audit.all_counties", lang)
    if key == "via" and _known(f"audit.via.{value}", lang):
        return translate(f"audit.via.{value}", lang)
    if key == "requirements" and isinstance(value, Mapping):
        given = {k: v for k, v in value.items() if v not in (None, "")}
        return "，".join(f"{_label(f'zones.req.{k}', k, lang)} {v}" for k, v in given.items()) or translate(
            "audit.none", lang
        )
    return None


def _label(key: str, fact: str, lang: str) -> str:
    return translate(key, lang) if _known(key, lang) else fact.replace("_", " ")


def fact_text(facts: object, lang: str, counties: Mapping[str, str] | None = None) -> str:
    """What was recorded before or after an action, as ``label：value`` pairs (a dash for nothing).

    >>> fact_text({"balance_mu": 15.0, "transfers": [{"from": "330303", "mu": 7.5}]}, "zh", {"330303": "龙湾区"})
    '占补余额：15.00 亩；调入指标：自 330303 龙湾区 调入 7.50 亩'
    >>> fact_text(None, "en")
    '—'
    """
    if not isinstance(facts, Mapping) or not facts:
        return _DASH
    colon, sep = ("：", "；") if lang == "zh" else (": ", "; ")
    order = sorted(facts, key=lambda k: (_FACT_ORDER.get(k, len(_FACT_ORDER)), k))  # jsonb keeps no order
    return sep.join(
        f"{_label(f'audit.fact.{k}', k, lang)}{colon}{_value(k, facts[k], lang, counties)}" for k in order
    )


def readable_trail(trail: pd.DataFrame, lang: str, counties: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Audit rows (``geo.audit.as_text`` shape: the time already as shown) with every column as a planner's text.

    Before and after are read from the rows of ``read_audit`` (dicts) or from their JSON text.
    """

    def facts(value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else None
            except ValueError:
                return value
        return value

    doc = [
        _DASH if v is None or (isinstance(v, float) and math.isnan(v)) or not str(v).strip() else str(v)
        for v in trail["approval_doc"]
    ]
    return trail.assign(
        action=[action_label(v, lang) for v in trail["action"]],
        target=[target_text(v, lang, counties) for v in trail["target"]],
        approval_doc=doc,
        before=[fact_text(facts(v), lang, counties) for v in trail["before"]],
        after=[fact_text(facts(v), lang, counties) for v in trail["after"]],
    )


def readable_users(users: pd.DataFrame, lang: str, counties: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The users table (``geo.auth.list_users``) in words.

    Roles by name, 全部 for no county limit, 是/否, a dash for a missing display name, the creation time as
    shown by the office's clock.

    >>> u = pd.DataFrame({"name": ["li"], "display_name": [None], "roles": ["planner,viewer"], "counties": [""],
    ...                   "disabled": [False], "created_at": [None]})
    >>> readable_users(u, "zh").iloc[0].tolist()
    ['li', '—', '规划编制、查看', '全部', '否', '—']
    """

    def split(text: object) -> list[str]:
        return [p for p in str(text or "").split(",") if p]

    def missing(v: object) -> bool:
        return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) or not str(v).strip()

    return users.assign(
        display_name=[_DASH if missing(v) else str(v) for v in users["display_name"]],
        roles=[_value("roles", split(v), lang, counties) for v in users["roles"]],
        counties=[_value("counties", split(v), lang, counties) for v in users["counties"]],
        disabled=[_value("disabled", bool(v), lang, counties) for v in users["disabled"]],
        created_at=[_DASH if missing(v) else shown(v) for v in users["created_at"]],
    )
