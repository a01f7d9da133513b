"""The app's words, Chinese first and English by a switch, and the way numbers, areas and dates are written.

Every user-facing string of the app lives in ``_TABLE`` below as ``key: (中文, English)``; pages call
``t(key, **fmt)``, which reads the language from ``st.session_state["lang"]`` (default ``"zh"``).
``translate`` is the same without Streamlit, for pure code such as ``blockline.ui.maps``; this module imports
streamlit only when a page asks for the session's language (``current_lang``, ``relabel``).

Examples
--------
>>> translate("layer.level1", "zh"), translate("layer.level1", "en")
('一级线', 'Level-1 block lines')
>>> fmt_mu(1234.5)
'1,234.50 亩'
>>> fmt_mu_ha(15)
'15.00 亩（1.00 公顷）'
>>> import datetime as dt
>>> fmt_date(dt.datetime(2026, 3, 5, 14, 0))
'2026-03-05'
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from geo.area import MU_PER_HECTARE
from geo.landuse import label as _land_use

if TYPE_CHECKING:
    from streamlit.runtime.state import SessionStateProxy

__all__ = [
    "DEFAULT_LANG",
    "LAND_USE_NAMES",
    "LANGS",
    "LANG_NAMES",
    "current_lang",
    "error_text",
    "fmt_date",
    "fmt_ha",
    "fmt_int",
    "fmt_mu",
    "fmt_mu_ha",
    "land_use_label",
    "RELABELLED",
    "relabel",
    "t",
    "translate",
]

DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

# key: (中文, English). Placeholders in braces are filled by t(key, name=value); both languages name the same ones.
_TABLE: dict[str, tuple[str, str]] = {
    # -- the frame --------------------------------------------------------------------------------------
    "app.title": ("blockline 工业用地", "blockline industrial land"),
    "nav.overview": ("概览", "Overview"),
    "nav.map": ("一张图", "One map"),
    "nav.data": ("数据", "Data"),
    "nav.idle": ("低效与闲置用地", "Idle & low-efficiency land"),
    # -- idle and low-efficiency land ------------------------------------------------------------------
    "idle.title": ("低效与闲置用地", "Idle and low-efficiency land"),
    "idle.as_of": ("截至日期", "As of"),
    "idle.policy": ("政策依据", "Policy profile"),
    "policy.by_county": (
        "按辖区适用政策：{pairs} 的宗地按其本地政策认定，其余按 {policy}",
        "Each county by the text in force there: the parcels of {pairs} are judged by it, the rest by {policy}",
    ),
    "idle.category": ("类别", "Category"),
    "idle.holder": ("权利人包含", "Holder contains"),
    "idle.flagged": ("涉及宗地（宗）", "Parcels flagged"),
    "idle.flagged_mu": ("涉及面积", "Area flagged"),
    "idle.findings": ("认定事项（条）", "Findings"),
    "idle.none": ("按当前条件没有认定事项。", "No findings for these filters."),
    "idle.download": ("导出 Excel", "Export to Excel"),
    "table.cut": (
        "表中列出前 {shown} 条，共 {total} 条：按条件筛选，或导出 Excel 查看全部",
        "The first {shown} of {total} rows are listed: filter them, or export to Excel for all",
    ),
    "idle.sheet": ("低效与闲置用地", "idle land"),
    "idle.focus": ("在地图上定位宗地", "Show a parcel on the map"),
    "idle.focus_none": ("（不定位）", "(none)"),
    "idle.focus_help": (
        "在表格中点选一行，或在此选择宗地编号，地图即缩放到该宗地。",
        "Select a row of the table, or a parcel number here, and the map zooms to that parcel.",
    ),
    "idle.focus_cut": (
        "可选前 {limit} 宗（共 {n} 宗）；可用筛选条件缩小范围，或在表格中点选。",
        "The first {limit} of {n} parcels can be picked here; narrow them with the filters, "
        "or select a row of the table.",
    ),
    "idle.focused": ("定位：{no}，{holder}，{mu}", "Shown: {no}, {holder}, {mu}"),
    "idle.map_hint": (
        (
            "地图按截至日期的认定类别为全部宗地着色（一宗有多项认定时显示最重的一项），"
            "类别和权利人筛选不作用于地图。"
        ),
        (
            "The map colours every parcel by its category at the date (the most serious where there "
            "are several); the category and holder filters do not apply to it."
        ),
    ),
    "col.category": ("类别", "Category"),
    "col.article": ("依据", "Article"),
    "col.detail": ("认定情况", "Finding"),
    "col.since": ("起始日期", "Since"),
    "cat.idle": ("闲置土地", "Idle land"),
    "cat.idle_reclaimable": ("闲置满两年", "Idle two years (reclaimable)"),
    "cat.late_start": ("未按期开工", "Late start"),
    "cat.late_completion": ("未按期竣工", "Late completion"),
    "cat.built_not_operating": ("建而未投", "Built, not operating"),
    "cat.operating_below_target": ("投而未达", "Operating below target"),
    "cat.underused": ("用而未尽", "Used, not fully"),
    "cat.insufficient_data": ("资料不全，无法判断", "Insufficient data"),
    "sidebar.lang": ("语言 / Language", "Language / 语言"),
    "sidebar.db_embedded": ("数据库：内置（{home}）", "Database: embedded ({home})"),
    "sidebar.db_external": ("数据库：{url}", "Database: {url}"),
    "sidebar.counts": (
        "行政区 {areas} · 区块线 {lines} · 宗地 {parcels} · 评价 {ratings}",
        "areas {areas} · block lines {lines} · parcels {parcels} · ratings {ratings}",
    ),
    "sidebar.refresh": ("重新读取数据", "Reload data"),
    "db.unavailable": (
        "无法打开数据库，页面暂不可用。",
        "The database cannot be opened; the pages are unavailable.",
    ),
    "store.empty": (
        "数据库为空：运行 blockline demo 导入示例城市，或在“数据”页导入文件。",
        "The database is empty: run blockline demo to load the demo city, or load files on the Data page.",
    ),
    "error.fix": ("处理：{fix}", "Fix: {fix}"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "none": ("—", "—"),
    # -- overview -------------------------------------------------------------------------------------
    "overview.title": ("概览", "Overview"),
    "overview.intro": (
        (
            "**blockline** 是管理工业用地的开源平台：工业区块线（一级线严格保护、二级线过渡保留）、"
            "占一补一（调出一级线须在县域、市域内补足）、连片开发（低效工业用地成片收储再开发）"
            "和工业用地全生命周期（出让合同、开竣工、达产、亩均税收与评价）。"
            "面积一律按地面投影计算，以亩为单位（1 公顷 = 15 亩）。"
        ),
        (
            "**blockline** is an open platform for managing industrial land: industrial block lines (level 1 "
            "strictly protected, level 2 kept for a period), occupy-one-replace-one (area taken out of level 1 must "
            "be replaced within the county or the city), consolidation zones (contiguous low-efficiency land "
            "redeveloped together) and the full lifecycle of industrial land (contracts, start and completion, full "
            "production, tax per 亩 and ratings). Areas are computed on the ground, in 亩 (1 hectare = 15 亩)."
        ),
    ),
    "overview.counties": ("县（市、区）", "Counties and districts"),
    "overview.level1": ("一级线（{n} 块）", "Level-1 block lines ({n})"),
    "overview.level2": ("二级线（{n} 块）", "Level-2 block lines ({n})"),
    "overview.parcels": ("宗地（宗）", "Parcels"),
    "overview.parcels_mu": ("宗地面积", "Parcel area"),
    "overview.by_county": ("分县统计", "By county"),
    "overview.download": ("导出 Excel", "Export to Excel"),
    "overview.sheet": ("分县统计", "by county"),
    "col.county": ("行政区代码", "County code"),
    "col.name": ("名称", "Name"),
    "col.level1_mu": ("一级线（亩）", "Level 1 (亩)"),
    "col.level2_mu": ("二级线（亩）", "Level 2 (亩)"),
    "col.parcels": ("宗地（宗）", "Parcels"),
    "col.parcels_mu": ("宗地面积（亩）", "Parcel area (亩)"),
    "col.unassigned": ("（不在任何县内）", "(in no county)"),
    # -- the map --------------------------------------------------------------------------------------
    "map.title": ("一张图", "One map"),
    "map.county": ("行政区", "County"),
    "map.whole_city": ("全市", "Whole city"),
    "map.home": ("{name}（全部县市区）", "{name} (all counties)"),
    "map.all_areas": ("全部已载入地区", "All loaded areas"),
    "map.as_of": ("区块线截至日期", "Block lines as of"),
    "map.as_of_help": (
        "显示该日当天有效的工业区块线（历史版本）；宗地为当前状态。",
        "Shows the block lines in force on that day (history); parcels are shown as they are now.",
    ),
    "map.basemap": ("底图", "Basemap"),
    "map.color_by": ("宗地着色", "Colour parcels by"),
    "map.tianditu_key": ("天地图密钥（tk）", "Tianditu key (tk)"),
    "map.tianditu_missing": (
        "天地图底图需要密钥：在上方填写，或设置环境变量 BLOCKLINE_TIANDITU_KEY。",
        "The Tianditu basemap needs a key: enter it above or set BLOCKLINE_TIANDITU_KEY.",
    ),
    "map.local_url": ("本地瓦片地址", "Local tile URL"),
    "map.local_url_help": (
        "内网瓦片服务的地址模板，须含 {z}、{x}、{y}，例如 http://10.0.0.5/tiles/{z}/{x}/{y}.png",
        (
            "The intranet tile server's URL template with {z}, {x} and {y}, "
            "e.g. http://10.0.0.5/tiles/{z}/{x}/{y}.png"
        ),
    ),
    "map.local_missing": (
        "本地底图需要瓦片地址：在上方填写，或设置环境变量 BLOCKLINE_LOCAL_TILES。",
        "The local basemap needs a tile URL: enter it above or set BLOCKLINE_LOCAL_TILES.",
    ),
    "map.local_invalid": (
        "瓦片地址无效：须以 http:// 或 https:// 开头，并含 {z}、{x}、{y}。",
        "The tile URL is not valid: it must start with http:// or https:// and hold {z}, {x} and {y}.",
    ),
    "map.search": ("查找宗地（宗地编号或权利人）", "Find a parcel (number or holder)"),
    "map.search_placeholder": (
        "输入宗地编号或权利人名称的一部分",
        "part of a parcel number or a holder's name",
    ),
    "map.matches": ("找到 {n} 宗", "{n} found"),
    "map.matches_cut": ("找到 {n} 宗，列出前 {limit} 宗", "{n} found; the first {limit} are listed"),
    "map.no_match": ("没有符合的宗地", "No parcel matches"),
    "map.focus": ("定位到宗地", "Zoom to parcel"),
    "map.shown": (
        "图上：宗地 {parcels} 宗，{parcels_mu}；一级线 {l1}；二级线 {l2}",
        "On the map: {parcels} parcels, {parcels_mu}; level 1 {l1}; level 2 {l2}",
    ),
    "map.history": ("区块线为 {date} 当日的状态", "Block lines as they stood on {date}"),
    "basemap.none": ("无底图（内网可用）", "None (works without internet)"),
    "basemap.osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap.tianditu_vec": ("天地图矢量", "Tianditu vector"),
    "basemap.tianditu_img": ("天地图影像", "Tianditu imagery"),
    "basemap.local": ("本地瓦片服务", "Local tile server"),
    "nav.audit": ("审计", "Audit"),
    "audit.title": ("审计记录", "Audit trail"),
    "audit.since": ("起始日期", "Since"),
    "audit.actor": ("操作人", "Actor"),
    "audit.action": ("操作", "Action"),
    "audit.count": ("共 {n} 条", "{n} rows"),
    "audit.download": ("导出 Excel", "Download Excel"),
    "audit.append_only": (
        "审计记录只增不改：数据库拒绝修改或删除任何一条。",
        "The audit trail is append-only: the database refuses to change or delete any row.",
    ),
    "audit.users": ("用户", "Users"),
    "audit.users_help": (
        "用户由命令行管理：`blockline user add|list|disable|passwd`。",
        "Users are managed from the command line: `blockline user add|list|disable|passwd`.",
    ),
    "audit.col.id": ("编号", "No."),
    "audit.col.at": ("时间", "Time"),
    "audit.col.actor": ("操作人", "Actor"),
    "audit.col.action": ("操作", "Action"),
    "audit.col.target": ("对象", "Target"),
    "audit.col.approval_doc": ("批复文号", "Approval document"),
    "audit.col.before": ("之前", "Before"),
    "audit.col.after": ("之后", "After"),
    "audit.user.name": ("用户名", "Name"),
    "audit.user.display_name": ("姓名", "Display name"),
    "audit.user.roles": ("角色", "Roles"),
    "audit.user.counties": ("限定区县", "Counties"),
    "audit.user.disabled": ("已停用", "Disabled"),
    "audit.user.created_at": ("建立时间", "Created"),
    "role.viewer": ("查看", "viewer"),
    "role.planner": ("规划编制", "planner"),
    "role.approver": ("审批", "approver"),
    "role.data_officer": ("数据管理", "data officer"),
    "role.admin": ("系统管理", "admin"),
    "auth.title": ("登录", "Sign in"),
    "auth.name": ("用户名", "User name"),
    "auth.password": ("密码", "Password"),
    "auth.submit": ("登录", "Sign in"),
    "auth.failed": ("用户名或密码不对，或该用户已停用。", "Wrong name or password, or the user is disabled."),
    "auth.expired": (
        "长时间未操作，已自动退出，请重新登录。",
        "The session expired after a while without activity; please sign in again.",
    ),
    "auth.oidc": ("通过统一身份认证登录", "Sign in with the identity server"),
    "auth.signed_in": ("已登录：{name}（{roles}）", "Signed in: {name} ({roles})"),
    "auth.setup_mode": (
        "尚无用户（初始设置）：任何人都可写入。用 `blockline user add 名字 --role admin` 建立管理员。",
        "No users yet (setup mode): anyone may write. Create an admin with `blockline user add NAME --role admin`.",
    ),
    "auth.sign_out": ("退出登录", "Sign out"),
    "auth.not_allowed": (
        "你的角色不能进行此操作（需要：{role}）。",
        "Your role may not do this (needs: {role}).",
    ),
    "basemap.amap": ("高德地图（图层已转为 GCJ-02）", "AMap/Gaode (overlays shifted to GCJ-02)"),
    "color.idle": ("闲置与低效类别", "Idle / low-efficiency category"),
    "color.lifecycle": ("全生命周期预警", "Lifecycle warning"),
    "color.grade": ("亩均评价等级", "Rating grade"),
    "field.parcels": ("宗地数", "Parcels"),
    "field.low_mu": ("其中低效", "Of which low-efficiency"),
    "legend.square": ("宗地占方格 {span}%", "parcels cover {span}% of the square"),
    "legend.square_top": (
        "缩小时的方格：按面积最大的类别着色，颜色越深占比越高",
        "Squares when zoomed out: coloured by the value covering most 亩, deeper the more it does",
    ),
    "legend.square_none": ("缩小时的方格：无此类别", "Squares when zoomed out: none of these values"),
    "field.top": ("面积最大的类别", "Value covering most 亩"),
    "field.top_share": ("其占比", "Its share"),
    "legend.no_mark": ("无", "none"),
    "map.marks_busy": (
        "正在按政策计算各宗地的类别……",
        "Working out each parcel's category under the policy…",
    ),
    "map.zoom_hint": (
        "远看时宗地汇总为方格（颜色表示宗地占方格面积的比例），放大到 13 级以上显示每一宗。",
        "Zoomed out, parcels are summed into squares (colour: the share of the square they cover); "
        "zoom to 13 or closer to see each parcel.",
    ),
    "map.no_tiles": (
        "此页面未经 blockline 服务启动，地图瓦片不可用：请用 `blockline app` 启动。",
        "The app was not started by blockline's server, so map tiles are unavailable: start it with `blockline app`.",
    ),
    "map.grade": ("等级 {grade}", "grade {grade}"),
    "color.none": ("统一颜色", "One colour"),
    "color.land_use": ("用途", "Land use"),
    "color.county_code": ("行政区", "County"),
    "color.is_low_efficiency": ("低效用地", "Low efficiency"),
    # -- layers, legend and popups ------------------------------------------------------------------
    "layer.admin": ("行政区", "Administrative areas"),
    "layer.level1": ("一级线", "Level-1 block lines"),
    "layer.level2": ("二级线", "Level-2 block lines"),
    "layer.parcels": ("宗地", "Parcels"),
    "layer.focus": ("选中宗地", "Selected parcel"),
    "layer.basemap_labels": ("天地图注记", "Tianditu labels"),
    "legend.title": ("图例", "Legend"),
    "legend.other": ("其他", "other"),
    "field.parcel_no": ("宗地编号", "Parcel no."),
    "field.holder": ("权利人", "Holder"),
    "field.holder_id": ("统一社会信用代码", "Credit code"),
    "field.land_use": ("用途", "Land use"),
    "field.area": ("面积", "Area"),
    "field.county": ("行政区", "County"),
    "field.delivered_on": ("交地日期", "Delivered on"),
    "field.is_low_efficiency": ("低效用地", "Low efficiency"),
    "field.name": ("名称", "Name"),
    "field.code": ("代码", "Code"),
    "field.approval_doc": ("批复文号", "Approval document"),
    "field.valid_from": ("生效时间", "In force since"),
    "field.level": ("级别", "Level"),
    "landuse.100101": ("一类工业用地", "class-1 industrial"),
    "landuse.100102": ("二类工业用地", "class-2 industrial"),
    "landuse.100103": ("三类工业用地", "class-3 industrial"),
    "landuse.1001": ("工业用地", "industrial"),
    "landuse.1101": ("仓储用地", "warehousing"),
    "landuse.0701": ("城镇住宅用地", "urban housing"),
    "landuse.0901": ("商业用地", "commercial"),
}

#: language → key → text
# Pages with many words keep their (中文, English) pairs in a module of their own, merged here.
for _module in (
    "blockline.ui.i18n_balance",
    "blockline.ui.i18n_lifecycle",
    "blockline.ui.i18n_public",
    "blockline.ui.i18n_zones",
    "blockline.ui.i18n_widgets",
    "blockline.ui.i18n_audit",
    "blockline.ui.i18n_data",
):
    _TABLE.update(importlib.import_module(_module).TABLE)

LANGS: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in _TABLE.items()} for i, lang in enumerate(LANG_NAMES)
}

#: land-use codes of 国土空间调查、规划、用途管制用地用海分类指南 that the app names
LAND_USE_NAMES = {key.split(".", 1)[1]: key for key in _TABLE if key.startswith("landuse.")}


def _session_state() -> SessionStateProxy:
    """Streamlit's ``st.session_state`` (this session's)."""
    # lazy: streamlit takes 0.27 s to import (-X importtime, after pandas); the pure code that only translates
    # (blockline.ui.maps, the views, the command line's ``qgis``) never pays it
    import streamlit as st

    return st.session_state


def current_lang() -> str:
    """The language the user chose (``st.session_state["lang"]``), ``"zh"`` until they choose."""
    lang = _session_state().get("lang", DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


#: pickers whose choices are shown in the page's language (a ``format_func`` of translated labels)
RELABELLED = (
    "map_county",
    "map_basemap",
    "map_color_by",
    "balance_county",
    "balance_role",
    "data_county",
    "data_kind",
    "idle_categories",
    "idle_county",
    "idle_focus",
    "zones_chosen",
    "zones_open",
    "lifecycle_categories",
    "lifecycle_county",
    "calc_grade",
    "audit_action",
)


def relabel() -> None:
    """After a switch of language, give each picker its own choice again: the language radio's ``on_change``.

    So the browser shows it in the new language: Streamlit keeps a keyed picker's choice, but its box keeps the
    words it was chosen in until the value is set again (issue 18: the base map and the colouring stayed in
    Chinese).
    """
    state = _session_state()
    for key in RELABELLED:
        if key in state:
            state[key] = state[key]


def translate(key: str, lang: str, **fmt: object) -> str:
    """The text of ``key`` in ``lang``, with ``fmt`` filled in. An unknown key is a ``KeyError``."""
    text = LANGS[lang if lang in LANGS else DEFAULT_LANG][key]
    return text.format(**fmt) if fmt else text


def t(key: str, **fmt: object) -> str:
    """The text of ``key`` in the user's language."""
    return translate(key, current_lang(), **fmt)


def _finite(x: object) -> float | None:
    if x is None:
        return None
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _two_decimals(value: float) -> str:
    text = f"{value:,.2f}"
    return "0.00" if text == "-0.00" else text


def fmt_mu(x: object) -> str:
    """An area in 亩 as planners write it: ``1,234.56 亩`` (a dash when unknown)."""
    value = _finite(x)
    return "—" if value is None else f"{_two_decimals(value)} 亩"


def fmt_ha(mu: object) -> str:
    """An area given in 亩, written in 公顷 (1 公顷 = 15 亩)."""
    value = _finite(mu)
    return "—" if value is None else f"{_two_decimals(value / MU_PER_HECTARE)} 公顷"


def fmt_mu_ha(mu: object) -> str:
    """An area in 亩 with its 公顷 equivalent, for tooltips: ``15.00 亩（1.00 公顷）``."""
    if _finite(mu) is None:
        return "—"
    return f"{fmt_mu(mu)}（{fmt_ha(mu)}）"


def fmt_int(n: object) -> str:
    """A count with thousands separators."""
    value = _finite(n)
    return "—" if value is None else f"{int(value):,}"


def fmt_date(d: object) -> str:
    """A date as ``YYYY-MM-DD`` (a dash when unknown); datetimes lose their time."""
    if d is None:
        return "—"
    if isinstance(d, dt.datetime):  # pandas Timestamps are datetimes too, and NaT is one
        return "—" if pd.isna(d) else d.date().isoformat()
    if isinstance(d, dt.date):
        return d.isoformat()
    text = str(d).strip()
    if text in ("", "NaT", "nan", "None"):
        return "—"
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return text


def land_use_label(code: object, lang: str = DEFAULT_LANG) -> str:
    """A land-use code with its name from ``geo.landuse`` (any of the three standards): ``0601 工业用地``."""
    return _land_use(code, "en" if lang == "en" else "zh")


def error_text(error: Mapping[str, object], lang: str) -> str:
    """A ``BlocklineError.as_dict()`` in one language: where, what, and the fix (Markdown)."""
    en = lang == "en"
    message = error.get("message_en" if en else "message_zh") or error.get("message_zh") or ""
    fix = error.get("fix_app_en" if en else "fix_app_zh") or error.get("fix_en" if en else "fix_zh")
    where = f"{error['file']}: " if error.get("file") else ""
    text = f"{where}{message}"
    if fix:
        text += "\n\n" + translate("error.fix", lang, fix=fix)
    return text
