"""The documents planners file, as ``blockline.reports.document.Document``: prose around figures the engine computed.

Nothing here computes a policy figure: each builder takes the JSON the command prints (``balance check`` /
``record`` and the ledger, ``zones assess``, ``idle`` / ``lifecycle``) and words it, citing each finding's
article as the engine cites it. The national rules the idle-land papers quote (the 30-day reply, the fee of
20 % of the price, taking the land back after two years) are data in ``blockline/reports/national.toml``.

Examples
--------
>>> national("idle.fee_share")["value"]
0.2
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from blockline.reports.document import Cover, Document, Section, Table

__all__ = [
    "IDLE_CATEGORIES",
    "CONTRACT_CATEGORIES",
    "balance_paper",
    "contract_paper",
    "idle_paper",
    "mu",
    "national",
    "wan",
    "zone_paper",
]

#: findings an idle-land paper is about, and findings a 履约 letter is about
IDLE_CATEGORIES = ("idle_reclaimable", "idle")
CONTRACT_CATEGORIES = ("tax_shortfall", "termination_possible", "rating_termination_possible")

_PARCEL_FACTS = (
    ("parcel_no", "宗地编号"),
    ("holder", "使用权人"),
    ("holder_id", "统一社会信用代码"),
    ("land_use", "土地用途"),
    ("county", "所在县（市、区）"),
    ("area_mu", "宗地面积（亩）"),
    ("lease_years", "出让年限（年）"),
    ("planned_investment", "计划总投资（万元）"),
    ("delivered_on", "交地日期"),
    ("agreed_start_on", "约定开工日期"),
    ("started_on", "实际开工日期"),
    ("agreed_completion_on", "约定竣工日期"),
    ("completed_on", "实际竣工日期"),
    ("agreed_operation_on", "约定投产日期"),
    ("operating_since", "实际投产日期"),
    ("agreed_full_production_on", "约定达产日期"),
)
_FIGURE_ZH = {
    "tax_per_mu_wan": "亩均税收（万元/亩）",
    "committed_tax_per_mu_wan": "约定亩均税收（万元/亩）",
    "area_mu": "面积（亩）",
    "penalty_wan": "违约金（万元）",
    "tax_share": "达到约定的比例",
    "output_per_mu_wan": "亩均产值（万元/亩）",
    "committed_output_per_mu_wan": "约定亩均产值（万元/亩）",
    "output_share": "产值达到约定的比例",
    "review_cycle": "考核周期",
    "cycle_start_on": "周期起",
    "cycle_end_on": "周期止",
    "agreed_full_production_on": "约定达产日期",
    "agreed_start_on": "约定开工日期",
}
_CATEGORY_ZH = {
    "idle": "闲置土地",
    "idle_reclaimable": "闲置满两年",
    "tax_shortfall": "亩均税收未达约定",
    "termination_possible": "可解除（终止）出让合同",
    "rating_termination_possible": "评级连续落后，可解除合同",
}


@functools.cache
def _national() -> dict[str, Any]:
    return tomllib.loads((Path(__file__).parent / "national.toml").read_text(encoding="utf-8"))


def national(key: str) -> dict[str, Any]:
    """A national rule of ``blockline/reports/national.toml``: ``{"value", "article", "note"}``."""
    group, _, name = key.partition(".")
    return dict(_national()[group][name])


def mu(x: float) -> str:
    """An area in 亩 as printed: two decimals, thousands separated (``1,234.50 亩``)."""
    return f"{x:,.2f} 亩"


def wan(x: float) -> str:
    """An amount in 万元 as printed: two decimals (``12.50 万元``)."""
    return f"{x:,.2f} 万元"


def _yes(b: bool) -> str:
    return "是" if b else "否"


def _value(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, bool):
        return _yes(v)
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def _figure(map_png: bytes | None, caption: str, keys: Sequence[tuple[str, str]]) -> list[Section]:
    """The 附图 section; under the map, the parcels it shows by a number (theirs did not fit on it).

    >>> _figure(b"png", "附图：片区", [("1", "330327-2020-0006"), ("2", "330327-2019-0003")])[0].caption.splitlines()
    ['附图：片区', '图上序号：1 = 330327-2020-0006；2 = 330327-2019-0003']
    """
    if map_png is None:
        return []
    if keys:
        caption += "\n图上序号：" + "；".join(f"{k} = {label}" for k, label in keys)
    return [Section("附图", (), image=map_png, caption=caption)]


# -- 占补平衡调整论证材料 ---------------------------------------------------------------------------------------
def _balance_figures(check: Mapping[str, Any], city_before_mu: float) -> Table:
    """The 占补核算 table of a checked adjustment: the county's and the city's figures before and after."""
    return Table(
        ("项目", "数值"),
        [
            ("占用一级线面积", mu(check["occupied_mu"])),
            ("补充一级线面积", mu(check["replaced_mu"])),
            ("县域调整前余额", mu(check["standing_balance_mu"])),
            ("县域调整后余额", mu(check["balance_after_mu"])),
            ("县域是否平衡", _yes(check["county_balanced"])),
            (
                "县域一级线面积（调整前→后）",
                f"{mu(check['level1_before_mu'])} → {mu(check['level1_after_mu'])}",
            ),
            ("全市调整前余额", mu(city_before_mu)),
            ("全市调整后余额", mu(check["city_balance_after_mu"])),
            ("全市是否平衡（一级线总量不减少）", _yes(check["city_balanced"])),
            (
                "全市一级线面积（调整前→后）",
                f"{mu(check['city_level1_before_mu'])} → {mu(check['city_level1_after_mu'])}",
            ),
            ("调出范围中不在一级线内的面积", mu(check["removal_outside_level1_mu"])),
            ("补入范围中已是一级线的面积", mu(check["addition_already_level1_mu"])),
            ("补入范围中不在本县的面积", mu(check["addition_outside_county_mu"])),
        ],
    )


def _balance_record(check: Mapping[str, Any], recorded: Mapping[str, Any] | None) -> Section:
    """Section 三: the approval, record and transfers of a recorded adjustment, or how a check may be recorded."""
    transfers = list((recorded or {}).get("transfers") or [])
    if recorded:
        lines = [
            f"批复文号：{recorded['approval_doc']}；记录编号：#{recorded['id']}；记录人：{recorded['recorded_by']}；"
            f"记录时间：{recorded['recorded_at']}。",
            f"调整理由：{recorded.get('reason') or '—'}。",
        ]
        table = (
            Table(
                ("调出县", "调入县", "指标（亩）"),
                [(t["from"], t["to"], f"{t['mu']:,.2f}") for t in transfers],
            )
            if transfers
            else None
        )
        lines.append("跨县指标调剂：" + ("见下表。" if transfers else "无。"))
        return Section("三、批复、记录与指标调剂", tuple(lines), table)
    return Section(
        "三、指标调剂",
        (
            "本材料为核算结果，尚未记录；县域不平衡时，可按全市统筹调剂指标"
            f"（{check['article']}），调剂在记录调整时登记。",
        ),
    )


def balance_paper(
    check: Mapping[str, Any],
    *,
    cover: Cover,
    city_before_mu: float,
    map_png: bytes | None,
    map_keys: Sequence[tuple[str, str]] = (),
    recorded: Mapping[str, Any] | None = None,
) -> Document:
    """占补平衡调整论证材料 for a checked (or, with ``recorded``, a recorded) adjustment.

    Parameters
    ----------
    check : mapping
        The JSON of ``blockline balance check`` (or the report stored with a recorded adjustment).
    cover : Cover
        The cover block.
    city_before_mu : float
        The city's balance before the adjustment (the ledger's ``city_balance_mu`` before it).
    map_png : bytes or None
        The map: the county, removal and addition over the block lines and county line.
    map_keys : sequence of (str, str)
        The map's keys and the parcel numbers they stand for (``geo.paper_map.PaperMap.keys``), listed after it.
    recorded : mapping, optional
        The ledger entry of a recorded adjustment (``id``, ``approval_doc``, ``reason``, ``recorded_by``,
        ``recorded_at``, ``transfers``, ``city_balance_after_mu``).
    """
    name = f"{check['county']} {check.get('county_name') or ''}".strip()
    state = "已记录" if recorded else "拟调整（核算，未写入台账）"
    intro = (
        f"{name}工业区块线{state}方案：调出（占用）一级工业区块线 {mu(check['occupied_mu'])}，"
        f"补入一级工业区块线 {mu(check['replaced_mu'])}。"
        f"依据 {check['article']}（政策配置 {check['policy']}）核算如下。"
    )
    figures = _balance_figures(check, city_before_mu)
    sections = [Section("一、调整概况", (intro,)), Section("二、占补核算", (), figures)]
    sections.append(_balance_record(check, recorded))
    warnings = tuple(
        f"{i}. [{w['code']}] {w['message']}（{w.get('article', check['article'])}）"
        for i, w in enumerate(check.get("warnings") or [], start=1)
    )
    sections.append(Section("四、注意事项及依据", warnings or ("无。",)))
    conclusion = (
        "县域占补平衡。"
        if check["county_balanced"]
        else f"县域不平衡，缺口 {mu(-check['balance_after_mu'])}；"
    ) + ("全市一级线总量不减少。" if check["city_balanced"] else "全市一级线总量减少，不符合占补平衡要求。")
    sections.append(Section("五、结论", (conclusion,)))
    sections.extend(_figure(map_png, f"附图：{name}调出（占用）与补入范围示意图", map_keys))
    return Document("占补平衡调整论证材料", cover, tuple(sections))


# -- 连片开发片区方案 ---------------------------------------------------------------------------------------------
_REQUIREMENTS = (
    ("investment_per_mu_wan", "亩均投资强度（万元/亩）"),
    ("tax_per_mu_wan", "亩均税收（万元/亩）"),
    ("industry", "产业导向"),
    ("entry_conditions", "准入条件"),
)


def zone_paper(
    zone: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    cover: Cover,
    min_mu: float,
    as_of: dt.date,
    map_png: bytes | None,
    map_keys: Sequence[tuple[str, str]] = (),
    policy_terms: Sequence[tuple[str, str]] = (),
) -> Document:
    """连片开发片区方案 for a saved zone: the JSON of ``zones assess`` on its outline, its requirements, the map.

    ``zone`` holds the saved zone's ``id``, ``name``, ``county_code`` and ``requirements`` (WZ §12: 投资强度,
    产业导向, 亩均税收, 准入条件); ``policy_terms`` the profile's terms every parcel's contract carries
    (开发期限, 容积率), each as (label, text with its article).
    """
    req = dict(zone.get("requirements") or {})
    intro = (
        f"片区“{zone['name']}”（编号 {zone['id']}{'，' + zone['county_code'] if zone.get('county_code') else ''}），"
        f"面积 {mu(assessment['area_mu'])}，"
        f"涉及宗地 {len(assessment['parcels'])} 宗、权利人 {assessment['holders']} 个，"
        f"低效用地占比 {assessment['low_efficiency_share']:.1%}（截至 {as_of.isoformat()}）。"
    )
    threshold = (
        f"连片开发面积门槛 {min_mu:g} 亩（{assessment['article']}）：片区面积 {mu(assessment['area_mu'])}，"
        f"{'达到' if assessment['meets_threshold'] else '未达到'}门槛。"
    )
    levels = assessment.get("block_line_levels") or []
    lines = (
        "涉及工业区块线："
        + ("、".join(f"{'一' if lv == 1 else '二'}级" for lv in levels) if levels else "无")
        + "。"
    )
    parcels = Table(
        ("宗地编号", "权利人", "片区内面积（亩）", "落入比例", "低效用地"),
        [
            (
                p["parcel_no"],
                p.get("holder") or "—",
                f"{p['area_in_zone_mu']:,.2f}",
                f"{p['share']:.1%}",
                _yes(p["low_efficiency"]),
            )
            for p in assessment["parcels"]
        ],
    )
    requirements = Table(
        ("要求", "设定值"),
        [
            *((label, str(req[k]) if k in req and req[k] != "" else "未设定") for k, label in _REQUIREMENTS),
            *policy_terms,
        ],
    )
    sections = [
        Section("一、片区概况", (intro, lines)),
        Section("二、面积门槛", (threshold,)),
        Section("三、宗地与权利人", (), parcels),
        Section(
            "四、片区要求",
            (f"按 {assessment['article']}，片区应明确亩均投资强度、产业导向、亩均税收与准入条件。",),
            requirements,
        ),
    ]
    sections.extend(_figure(map_png, f"附图：片区“{zone['name']}”及所含宗地", map_keys))
    return Document("连片开发片区方案", cover, tuple(sections))


# -- 闲置土地调查通知书 / 认定书 --------------------------------------------------------------------------------
def _facts(parcel: Mapping[str, Any]) -> Table:
    return Table(("项目", "内容"), [(label, _value(parcel.get(key))) for key, label in _PARCEL_FACTS])


def _finding_lines(findings: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(
        f"{i}. {_CATEGORY_ZH.get(f['category'], f['category'])}：{f['detail']}"
        f"{'（起算日 ' + f['since'] + '）' if f.get('since') else ''}。依据：{f['article']}。"
        for i, f in enumerate(findings, start=1)
    )


def idle_paper(
    kind: str,
    parcel: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    *,
    cover: Cover,
    as_of: dt.date,
    price_wan: float | None,
    map_png: bytes | None,
    map_keys: Sequence[tuple[str, str]] = (),
) -> Document:
    """闲置土地调查通知书 (``kind="notice"``) or 闲置土地认定书 (``"decision"``) draft for one parcel.

    ``findings`` are the parcel's idle findings, as in the JSON of ``blockline idle`` (category ``idle`` or
    ``idle_reclaimable``); ``price_wan`` the land price, for the fee (20 % of it, national.toml).
    """
    if kind not in ("notice", "decision"):
        raise ValueError(f"kind must be 'notice' or 'decision', not {kind!r}")
    holder = parcel.get("holder") or parcel.get("holder_id") or "（使用权人）"
    reply, fee, reclaim = (
        national("idle.notice_reply_days"),
        national("idle.fee_share"),
        national("idle.reclaim"),
    )
    reclaimable = any(f["category"] == "idle_reclaimable" for f in findings)
    fee_text = (
        f"闲置费 = {price_wan:,.2f} 万元 × {fee['value']:.0%} = {wan(price_wan * fee['value'])}"
        if price_wan is not None
        else f"闲置费按土地出让（划拨）价款的 {fee['value']:.0%} 计征（价款未录入）"
    )
    consequence = (
        f"未动工开发满一年的，征缴土地闲置费：{fee_text}（{fee['article']}）。"
        f"未动工开发满{reclaim['value']}年的，报经有批准权的人民政府批准后，无偿收回国有建设用地使用权"
        f"（{reclaim['article']}）。"
    )
    state = (
        "该宗地已闲置满两年，依法可无偿收回国有建设用地使用权。"
        if reclaimable
        else "该宗地已闲置满一年，依法应征缴土地闲置费；如继续闲置满两年，可无偿收回。"
    )
    facts = Section("一、宗地基本情况", (), _facts(parcel))
    clock = Section(f"二、闲置情况（截至 {as_of.isoformat()}）", _finding_lines(findings))
    if kind == "notice":
        title = "闲置土地调查通知书（草稿）"
        ask = (
            f"根据《闲置土地处置办法》，我局对你单位使用的上述宗地进行闲置土地调查。请你单位自收到本通知书之日起"
            f"{reply['value']}日内，提供土地开发利用情况、闲置原因以及相关说明等材料（{reply['article']}）。"
            "逾期未提供的，我局将依据调查核实的情况作出认定。",
        )
        sections: tuple[Section, ...] = (
            facts,
            clock,
            Section("三、调查事项", ask),
            Section("四、可能的处置", (state, consequence)),
        )
    else:
        title = "闲置土地认定书（草稿）"
        sections = (
            facts,
            clock,
            Section(
                "三、认定的事实、理由和依据",
                (
                    f"经调查核实，上述宗地符合闲置土地的认定条件，构成闲置土地（{national('idle.decision_articles')['article']}）。",
                    *(f"依据：{a}。" for a in dict.fromkeys(f["article"] for f in findings)),
                ),
            ),
            Section("四、认定结论及处置", (state, consequence)),
        )
    sections = (*sections, *_figure(map_png, f"附图：宗地 {parcel['parcel_no']} 位置示意图", map_keys))
    return Document(title, cover, sections, addressee=f"{holder}：")


# -- 履约核查函 -----------------------------------------------------------------------------------------------------
def contract_paper(
    parcel: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    *,
    cover: Cover,
    as_of: dt.date,
    map_png: bytes | None,
    map_keys: Sequence[tuple[str, str]] = (),
) -> Document:
    """履约核查函 for one parcel's tax shortfall or termination-possible findings (JSON of ``lifecycle``).

    The penalty is the engine's ``penalty_wan``; how it was computed is the engine's own sentence and figures.
    """
    holder = parcel.get("holder") or parcel.get("holder_id") or "（使用权人）"
    penalties = [f for f in findings if f.get("penalty_wan") is not None]
    total = sum(float(f["penalty_wan"]) for f in penalties)
    rows = []
    for f in findings:
        figs = f.get("figures") or {}
        for key, label in _FIGURE_ZH.items():
            if key in figs and figs[key] is not None:
                v = figs[key]
                rows.append(
                    (
                        _CATEGORY_ZH.get(f["category"], f["category"]),
                        label,
                        f"{v:.1%}" if key.endswith("_share") and isinstance(v, float) else _value(v),
                    )
                )
    sections = [
        Section("一、宗地及合同情况", (), _facts(parcel)),
        Section(f"二、履约核查结果（截至 {as_of.isoformat()}）", _finding_lines(findings)),
        Section("三、核查数据", (), Table(("事项", "指标", "数值"), rows) if rows else None),
    ]
    if penalties:
        how = tuple(
            f"{_CATEGORY_ZH.get(f['category'], f['category'])}：违约金 {wan(float(f['penalty_wan']))}。"
            f"计算：{f['detail']}"
            for f in penalties
        )
        sections.append(Section("四、违约金", (*how, f"违约金合计：{wan(total)}。")))
    ends = [f for f in findings if f["category"] in ("termination_possible", "rating_termination_possible")]
    if ends:
        sections.append(Section("五、合同处置", tuple(f"{f['detail']}（{f['article']}）。" for f in ends)))
    sections.append(
        Section(
            "请你单位",
            ("在规定期限内书面说明情况并提供相关证明材料；对核查结果有异议的，可在同一期限内提出。",),
        )
    )
    sections.extend(_figure(map_png, f"附图：宗地 {parcel['parcel_no']} 位置示意图", map_keys))
    return Document("工业用地履约核查函（草稿）", cover, tuple(sections), addressee=f"{holder}：")
