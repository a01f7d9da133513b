"""The words of the public list page (YW §17): key → (中文, English), merged into ``blockline.ui.i18n``."""

TABLE: dict[str, tuple[str, str]] = {
    "nav.public": ("工业用地公开清单", "Public list of industrial land"),
    "public.title": ("全生命周期管理工业用地清单", "Industrial land under full-lifecycle management"),
    "public.basis": (
        "依据《义乌市工业用地全生命周期管理实施办法》第十七条向社会公开。约定指标来自《履约协议》；是否达到按 {policy} "
        "的规则截至 {date} 判断。",
        "Published under YW §17. The agreed indicators come from the lifecycle agreements; "
        "whether they are met is judged under {policy} as of {date}.",
    ),
    "public.count": ("共 {n} 宗", "{n} parcels"),
    "public.empty": ("暂无纳入全生命周期管理的宗地。", "No parcel is under full-lifecycle management yet."),
    "public.xlsx": ("下载 Excel", "Download Excel"),
    "public.csv": ("下载 CSV", "Download CSV"),
    "public.json": ("下载 JSON", "Download JSON"),
    "public.unavailable": (
        "清单暂时无法读取，请稍后再试。",
        "The list cannot be read just now; please try again later.",
    ),
    "public.file_name": ("工业用地公开清单", "public-list-of-industrial-land"),
}
