"""One catalogue of fixes: each in the form the command needs (its flags) and the form the app needs (its widgets).

An error raised anywhere carries both; the command prints ``fix_zh``/``fix_en``, the app shows
``fix_app_zh``/``fix_app_en`` (``blockline.ui.i18n.error_text``). Widget names are the app's own labels.

Examples
--------
>>> f = fix("transfer")
>>> "--transfer" in f["fix_zh"], "--transfer" in f["fix_app_zh"]
(True, False)
>>> fix("layer", layers="a、b")["fix_app_zh"]
'在“图层”中选择要导入的图层：a、b'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CATALOGUE", "fix"]

#: key → (command 中文, command English, app 中文, app English); ``{name}`` fields filled by ``fix``.
CATALOGUE: dict[str, tuple[str, str, str, str]] = {
    "transfer": (
        "增加补入范围，或用 --transfer 从有结余的县调入指标",
        "add more land, or name transfers from counties with a surplus with --transfer",
        "增加补入范围，或在“从以下县调入指标”中选择有结余的县并填写调入亩数",
        "add more land, or pick counties with a surplus under 'Transfer quota from' and enter the 亩",
    ),
    "transfer_check": (
        "检查 --transfer",
        "check --transfer",
        "检查“从以下县调入指标”中选择的县和调入亩数",
        "check the counties and 亩 chosen under 'Transfer quota from'",
    ),
    "transfer_format": (
        "写成 县代码:亩数，例如 --transfer 330303:7.5",
        "write COUNTY_CODE:MU, e.g. --transfer 330303:7.5",
        "在“从以下县调入指标”中选择县，再填写调入亩数",
        "pick the county under 'Transfer quota from', then enter the 亩",
    ),
    "doc": (
        "用 --doc 给出批复文号",
        "give it with --doc",
        "在“批复文号（必填）”中填写批复文号",
        "enter it under 'Approval document number (required)'",
    ),
    "remove_add": (
        "用 --remove 和/或 --add 给出范围",
        "give --remove and/or --add",
        "在地图上绘制，或导入调出范围、补入范围",
        "draw on the map, or load a removal or an addition",
    ),
    "county": (
        "检查 --county，或先导入行政区边界",
        "check --county, or load the boundaries first",
        "在“县（市、区）”中选择县；若没有可选的县，先在“数据”页导入行政区边界",
        "choose under 'County'; if there is none, load the boundaries on the Data page first",
    ),
    "county_files": (
        "检查 --county 与范围文件（是否在本县、是否已在一级线内）",
        "check --county and the files (do they lie in the county; are they already level 1?)",
        "检查“县（市、区）”与绘制或导入的范围（是否在本县、是否已在一级线内）",
        "check 'County' and what was drawn or loaded (in the county? already level 1?)",
    ),
    "crs": (
        "用 --crs 指明坐标系，例如 --crs 4549",
        "say which CRS it is with --crs, e.g. --crs 4549",
        "在“坐标系（可选）”中填写坐标系，例如 4549",
        "enter it under 'CRS (optional)', e.g. 4549",
    ),
    "crs_none": (
        "用 --crs 指明坐标系，例如 --crs 4490（CGCS2000 经纬度）或 --crs 4549（CGCS2000 3度带 120°E 无带号）",
        "say which CRS it is with --crs, e.g. --crs 4490 (CGCS2000 lon/lat) or --crs 4549 "
        "(CGCS2000 GK 120°E, no zone prefix)",
        "在“坐标系（可选）”中填写坐标系，例如 4490（CGCS2000 经纬度）或 4549（CGCS2000 3度带 120°E 无带号）",
        "enter it under 'CRS (optional)', e.g. 4490 (CGCS2000 lon/lat) or 4549 (CGCS2000 GK 120°E, "
        "no zone prefix)",
    ),
    "crs_unknown": (
        "用 EPSG 代码，例如 --crs 4490（CGCS2000 经纬度）、--crs 4549（CGCS2000 3度带 120°E），或 --crs gcj02",
        "give an EPSG code such as --crs 4490 (CGCS2000 lon/lat), --crs 4549 (CGCS2000 GK 120°E), "
        "or --crs gcj02",
        "在“坐标系（可选）”中填写 EPSG 代码，例如 4490（CGCS2000 经纬度）、4549（CGCS2000 3度带 120°E），或 gcj02",
        "enter an EPSG code under 'CRS (optional)', e.g. 4490 (CGCS2000 lon/lat), 4549 (CGCS2000 GK "
        "120°E), or gcj02",
    ),
    "crs_coords": (
        "检查文件的坐标系（--crs）与坐标值",
        "check the file's CRS (--crs) and its coordinates",
        "检查文件的坐标系与坐标值；文件自带的坐标系不对时，在“数据”页预览其位置",
        "check the file's CRS and coordinates; preview where it lands on the Data page",
    ),
    "layer": (
        "用 --layer 指定：{layers}",
        "choose one with --layer: {layers}",
        "在“图层”中选择要导入的图层：{layers}",
        "choose it under 'Layer': {layers}",
    ),
    "encoding": (
        "用 --encoding 指定，例如 --encoding BIG5",
        "give it with --encoding, e.g. --encoding BIG5",
        "在“字符编码”中选择编码，例如 BIG5",
        "choose it under 'Encoding', e.g. BIG5",
    ),
    "field_map_format": (
        "写成 源字段=标准字段，例如 --field-map 地块号=parcel_no",
        "write SRC=DST, e.g. --field-map PARCEL=parcel_no",
        "在“字段映射”中每行写一条 文件字段=标准字段，例如 地块号=parcel_no",
        "under 'Field map' write one FILE_COLUMN=canonical_field a line, e.g. PARCEL=parcel_no",
    ),
    "field_map_parcel_no": (
        "用 --field-map 源字段=parcel_no 指定；现有字段：{columns}",
        "name it with --field-map SRC=parcel_no; fields: {columns}",
        "在“字段映射”中写一行 文件字段=parcel_no；现有字段：{columns}",
        "under 'Field map' write FILE_COLUMN=parcel_no; fields: {columns}",
    ),
    "join": (
        "写 --join parcel_no（按宗地编号连接）；现有列：{columns}",
        "write --join parcel_no (join by parcel number); columns: {columns}",
        "在“字段映射”中写一行 文件字段=parcel_no（按宗地编号连接）；现有列：{columns}",
        "under 'Field map' write FILE_COLUMN=parcel_no (join by parcel number); columns: {columns}",
    ),
    "join_column": (
        "用 --join 列名 或 --field-map 源字段=parcel_no 指定；现有列：{columns}",
        "name it with --join COLUMN or --field-map SRC=parcel_no; columns: {columns}",
        "在“字段映射”中写一行 文件字段=parcel_no；现有列：{columns}",
        "under 'Field map' write FILE_COLUMN=parcel_no; columns: {columns}",
    ),
    "code_field": (
        "用 --code-field 指定；现有字段：{columns}",
        "name it with --code-field; fields: {columns}",
        "在“行政区代码字段（可选）”中填写；现有字段：{columns}",
        "enter it under 'Code field (optional)'; fields: {columns}",
    ),
    "name_field": (
        "用 --name-field 指定；现有字段：{columns}",
        "name it with --name-field; fields: {columns}",
        "在“名称字段（可选）”中填写；现有字段：{columns}",
        "enter it under 'Name field (optional)'; fields: {columns}",
    ),
    "level": (
        "--level 1 或 --level 2",
        "--level 1 or --level 2",
        "在“数据类型”中选择一级线或二级线",
        "choose level 1 or level 2 under 'What the file holds'",
    ),
    "load_county": (
        "检查 --county",
        "check --county",
        "检查“所属行政区（可选）”",
        "check 'County (optional)'",
    ),
    "load_crs_county": (
        "检查坐标系与 --county",
        "check the CRS and --county",
        "检查坐标系（预览地图上的位置）与“所属行政区（可选）”",
        "check the CRS (where the preview map draws it) and 'County (optional)'",
    ),
    "policy_rule": (
        "换用有此规则的政策配置（如 --policy wenzhou-2020），或复制本配置并加入该项，以 adopted_from 注明所采用的条款",
        "use a profile that has the rule (e.g. --policy wenzhou-2020), or copy this profile and add the key "
        "with adopted_from naming the article adopted",
        "在“政策依据”中换用有此规则的政策配置（如 wenzhou-2020）",
        "choose a profile that has the rule under 'Policy profile' (e.g. wenzhou-2020)",
    ),
    "recorded_doc": (
        "若是同一请求的重试，请原样重新执行（同一 --request-id）；若是另一份批复，请核对文号；"
        "查看：blockline balance ledger --doc '{held}'",
        "if this retries the same request, run it exactly as before (same --request-id); if it is another "
        "approval, check the number; see blockline balance ledger --doc '{held}'",
        "若是另一份批复，请核对“批复文号（必填）”；已记录的调整见本页的“占补平衡台账”（{held}）",
        "if it is another approval, check 'Approval document number (required)'; the recorded adjustment "
        "is in 'The occupy-replace ledger' below ({held})",
    ),
    "outcome_unknown": (
        "数据库恢复后原样重新执行同一命令（同一 --request-id）：若已记录，只返回原记录，不会重复记录",
        "once the database is back, run the same command again (same --request-id): if it was "
        "recorded, the first entry is returned and nothing is recorded twice",
        "数据库恢复后再次点击“记录”：若已记录，只返回原记录，不会重复记录",
        "once the database is back, press 'Record' again: if it was recorded, the first entry is "
        "returned and nothing is recorded twice",
    ),
    "request_id_reused": (
        "新的请求用新的 --request-id（或不给，由内容生成）",
        "give a new request a new --request-id (or none)",
        "刷新页面后重新记录",
        "reload the page and record again",
    ),
    "request_id": (
        "检查 --request-id",
        "check --request-id",
        "刷新页面后重新记录",
        "reload the page and record again",
    ),
    "demo_parcels": (
        "减少 --parcels，或用 --region zhejiang（全省）",
        "ask for fewer --parcels, or use --region zhejiang (the province)",
        "示例数据由命令 blockline demo 导入：减少宗地数，或导入全省示例",
        "the demo is loaded by the blockline demo command: ask for fewer parcels, or load the province",
    ),
}


def fix(key: str, **values: str | Sequence[str]) -> dict[str, str]:
    """The fix ``key`` in both forms, as keyword arguments for ``BlocklineError``.

    Parameters
    ----------
    key : str
        A key of ``CATALOGUE``.
    **values : str or sequence of str
        The fields its texts name, e.g. ``layers`` or ``columns``; a sequence is joined with 、 in Chinese and
        with ", " in English.

    Returns
    -------
    dict[str, str]
        ``fix_zh``, ``fix_en`` (the command's), ``fix_app_zh``, ``fix_app_en`` (the app's).
    """
    cli_zh, cli_en, app_zh, app_en = CATALOGUE[key]
    zh = {k: v if isinstance(v, str) else "、".join(map(str, v)) for k, v in values.items()}
    en = {k: v if isinstance(v, str) else ", ".join(map(str, v)) for k, v in values.items()}
    return {
        "fix_zh": cli_zh.format(**zh),
        "fix_en": cli_en.format(**en),
        "fix_app_zh": app_zh.format(**zh),
        "fix_app_en": app_en.format(**en),
    }
