"""The words that replace Streamlit's own English in its widgets: key → (中文, English).

Merged into ``blockline.ui.i18n``. Streamlit has no language setting for its widgets. Multiselects and
selectboxes take a ``placeholder``; the file uploader's button and its size line take none, so
``blockline.ui.widget_text`` replaces them with a stylesheet.
"""

TABLE: dict[str, tuple[str, str]] = {
    "widget.choose": ("请选择", "Choose"),
    "widget.upload": ("选择文件", "Browse files"),
    "widget.drop": ("将文件拖放到此处", "Drag and drop a file here"),
    "widget.skip": ("跳到正文", "Skip to main content"),
    "widget.limit": ("单个文件不超过 {mb} MB", "Up to {mb} MB per file"),
    # the 数据 page's preview map and its area column (issue 16)
    "data.where": ("位置（尚未写入）", "Where it lands (nothing written yet)"),
    "data.where_counties": (
        "范围 {west:.5f}°E–{east:.5f}°E，{south:.5f}°N–{north:.5f}°N，落在：{counties}",
        "Extent {west:.5f}°E–{east:.5f}°E, {south:.5f}°N–{north:.5f}°N, in: {counties}",
    ),
    "data.where_outside": (
        "不在任何已载入的县内：可能坐标系不对（当前按 {crs} 读取；范围 {west:.5f}°E–{east:.5f}°E，"
        "{south:.5f}°N–{north:.5f}°N）。在“坐标系（可选）”中填写正确的坐标系后再导入。",
        "Outside every loaded county: the CRS may be wrong (read as {crs}; extent "
        "{west:.5f}°E–{east:.5f}°E, {south:.5f}°N–{north:.5f}°N). Enter the right one under "
        "'CRS (optional)' before loading.",
    ),
    "data.where_replaced": (
        "已有宗地 {n} 宗将被新版本替换（地图上以橙色标出）。",
        "{n} existing parcels would be replaced by new versions (orange on the map).",
    ),
    "data.layer.upload": ("上传的图形", "Uploaded shapes"),
    "data.layer.replaced": ("将被替换的宗地", "Parcels to be replaced"),
    "data.mapping_kept": (
        "未识别的字段（原样保存在 extra 中）：{cols}",
        "Unrecognised columns (kept as is in extra): {cols}",
    ),
    "data.area_column_kept": (
        "文件自带的面积字段“{col}”原样保存在 extra 中，并与按图形计算的面积比对（相差较大时提示）；"
        "宗地面积按图形计算。",
        "The file's own area column '{col}' is kept as is in extra and compared with the area "
        "computed from the shape (a large difference is flagged); the parcel's area is the "
        "shape's.",
    ),
    # how the preview's encoding and CRS were told (geo.io.ReadReport's English words), shown on 数据
    "how.file": ("文件自带", "the file"),
    "how.option": ("页面填写", "the form"),
    "how.option overrides file": ("页面填写（覆盖文件自带）", "the form (overriding the file)"),
    "how.--encoding": ("页面选择", "the form"),
    "how.strict UTF-8 decode": ("按 UTF-8 严格解码", "strict UTF-8 decode"),
    "how.strict GB18030 decode": ("按 GB18030 严格解码", "strict GB18030 decode"),
    "how.UTF-8 byte-order mark": ("UTF-8 字节顺序标记", "UTF-8 byte-order mark"),
    "how.format default": ("格式默认", "format default"),
    "how.cpg": (".cpg 文件（{name}）", ".cpg file ({name})"),
    # the ledger's chart by date (issue 16)
    "balance.col.date": ("日期", "Date"),
    "balance.history_none": (
        "还没有调整记录：全市一级线面积为导入时的 {mu}，记录第一笔调整后在此按日期画出变化。",
        "No adjustment recorded yet: the city's level-1 area is {mu} as loaded; once one is "
        "recorded, its change by date is drawn here.",
    ),
    "balance.history_balances": ("各县占补余额（亩）", "Each county's balance (亩)"),
}
