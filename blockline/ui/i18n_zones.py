"""The words of the 连片开发 page: key → (中文, English), merged into ``blockline.ui.i18n``."""

TABLE: dict[str, tuple[str, str]] = {
    "nav.zones": ("连片开发", "Consolidation zones"),
    "zones.title": ("连片开发片区", "Consolidation zones"),
    # -- parameters -------------------------------------------------------------------------------------
    "zones.policy": ("政策依据", "Policy profile"),
    "zones.as_of": ("截至日期", "As of"),
    "zones.min_mu": ("面积门槛（亩）", "Size threshold (亩)"),
    "zones.min_mu_help": (
        "片区合计面积达到此值才成片（{article}）。",
        "A zone must reach this area ({article}).",
    ),
    "zones.gap_m": ("相连间距（米）", "Contiguity gap (m)"),
    "zones.gap_m_help": (
        "宗地相隔不超过此距离（如一条道路）视为相连（{article}）。",
        "Parcels no farther apart than this (a road) count as contiguous ({article}).",
    ),
    "zones.rules": (
        (
            "规则：低效工业用地相连或相隔不超过 {gap} 米（{gap_article}），合计达到 {min_mu}（{min_article}）；"
            "低效用地按调查、闲置与低效认定及亩均评价 C、D 类认定（{low_article}）。"
        ),
        (
            "Rule: low-efficiency industrial parcels touching or at most {gap} m apart ({gap_article}), "
            "{min_mu} in all ({min_article}); low-efficiency land is the survey, the idle and low-efficiency "
            "findings and ratings C and D ({low_article})."
        ),
    ),
    # -- candidates -------------------------------------------------------------------------------------
    "zones.candidates": ("候选片区", "Candidate zones"),
    "zones.detecting": ("正在识别候选片区……", "Finding candidate zones…"),
    "zones.n_candidates": ("候选片区（个）", "Candidate zones"),
    "zones.candidates_mu": ("候选片区面积", "Area of the candidates"),
    "zones.candidates_parcels": ("候选片区宗地（宗）", "Parcels in the candidates"),
    "zones.no_candidates": (
        "按当前门槛 {min_mu}、间距 {gap} 米，没有达到门槛的低效用地片区：可降低门槛或放宽间距再试。",
        (
            "No group of low-efficiency land reaches {min_mu} at a {gap} m gap: lower the threshold or "
            "widen the gap to see smaller groups."
        ),
    ),
    "zones.candidates_article": (
        "依据：{article}（政策配置 {policy}）",
        "Under {article} (profile {policy})",
    ),
    "zones.download_xlsx": ("导出候选片区（Excel）", "Export the candidates (Excel)"),
    "zones.download_gpkg": ("导出候选片区（GeoPackage）", "Export the candidates (GeoPackage)"),
    "zones.save_candidates": ("保存候选片区", "Save the candidates"),
    "zones.candidates_saved": ("已保存 {n} 个候选片区。", "{n} candidate zones saved."),
    "zones.choose": ("在地图上突出显示候选片区", "Show a candidate on the map"),
    "zones.choice": ("{name}（{area}）", "{name} ({area})"),
    "zones.shown_cut": (
        "表中列出面积最大的 {table} 个、可选 {pick} 个、地图上画出 {map} 个（共 {n} 个）；全部见导出文件。",
        "The largest {table} are listed, {pick} can be picked and {map} are drawn on the map, of {n}; "
        "the exports hold them all.",
    ),
    "zones.no_choice": ("（不选）", "(none)"),
    "zones.use_candidate": ("以此候选片区为绘制范围", "Use it as the drawn zone"),
    "zones.candidate_taken": (
        "已将候选片区 {id} 作为绘制范围，可在地图上继续增补。",
        "Candidate {id} is now the drawn zone; draw more to add to it.",
    ),
    # -- drawing and the assessment ---------------------------------------------------------------------
    "zones.draw_title": ("绘制片区并评估", "Draw a zone and assess it"),
    "zones.draw_help": (
        "用多边形或矩形工具在地图上绘制片区，完成即保存，刷新页面也不会丢失；多次绘制的范围合并为一个片区。",
        (
            "Draw the zone with the polygon or rectangle tool: each drawing is saved as soon as it is "
            "finished, so a reload keeps it; several drawings make one zone."
        ),
    ),
    "zones.drawn": ("已绘制 {n} 块", "{n} drawn"),
    "zones.clear": ("清除绘制的片区", "Clear the drawn zone"),
    "zones.nothing_drawn": (
        "在地图上绘制片区，或选择一个候选片区作为范围，即可在此看到评估结果。",
        "Draw a zone on the map, or use a candidate, to see its assessment here.",
    ),
    "zones.assessing": ("正在评估片区……", "Assessing the zone…"),
    "zones.assessment": ("片区评估", "Assessment"),
    "zones.area": ("片区面积", "Zone area"),
    "zones.meets": ("达到面积门槛", "Reaches the threshold"),
    "zones.n_parcels": ("涉及宗地（宗）", "Parcels taken"),
    "zones.parcels_area": ("其中宗地面积", "Parcel land inside"),
    "zones.holders": ("权利人（个）", "Right holders"),
    "zones.low_share": ("低效用地占比", "Low-efficiency share"),
    "zones.levels": ("所在区块线", "Block lines"),
    "zones.ratings": ("亩均评价", "Ratings"),
    "zones.level1": ("一级线", "level 1"),
    "zones.level2": ("二级线", "level 2"),
    "zones.unrated": ("未评价", "unrated"),
    "zones.meets_yes": (
        "片区面积 {area}，达到 {min_mu} 的门槛（{article}）。",
        "The zone is {area}: it reaches the {min_mu} threshold ({article}).",
    ),
    "zones.meets_no": (
        "片区面积 {area}，未达到 {min_mu} 的门槛，还差 {short}（{article}）：扩大范围，纳入相邻的低效用地。",
        (
            "The zone is {area}, {short} short of the {min_mu} threshold ({article}): enlarge it to take "
            "in neighbouring low-efficiency land."
        ),
    ),
    "zones.low_rule": (
        "低效用地认定：{article}；宗地落入片区比例不足 {share} 的不计入（{share_article}）。",
        (
            "Low-efficiency land under {article}; a parcel with less than {share} inside is not taken "
            "({share_article})."
        ),
    ),
    "zones.parcels_title": ("片区涉及的宗地", "Parcels the zone takes"),
    "zones.no_parcels": ("片区内没有宗地。", "The zone takes no parcel."),
    "zones.download_parcels_xlsx": ("导出宗地表（Excel）", "Export the parcel table (Excel)"),
    "zones.download_parcels_gpkg": (
        "导出片区与宗地（GeoPackage）",
        "Export the zone and its parcels (GeoPackage)",
    ),
    # -- saving -----------------------------------------------------------------------------------------
    "zones.save_title": ("命名并保存片区", "Name and save the zone"),
    "zones.name": ("片区名称（必填）", "Zone name (required)"),
    "zones.name_placeholder": ("例如 鹿城区滨江连片改造片区", "e.g. Riverside redevelopment zone"),
    "zones.req.investment_per_mu_wan": ("亩均投资强度（万元/亩）", "Investment per 亩 (万元/亩)"),
    "zones.req.tax_per_mu_wan": ("亩均税收（万元/亩）", "Tax per 亩 (万元/亩)"),
    "zones.req.industry": ("产业导向", "Industry"),
    "zones.req.entry_conditions": ("准入条件", "Entry conditions"),
    "zones.req_help": (
        "片区的投资强度、产业导向、亩均税收和准入条件（{article}），可留空。",
        (
            "The zone's investment intensity, industry, tax per 亩 and entry conditions ({article}); "
            "any may be left blank."
        ),
    ),
    "zones.save": ("保存片区", "Save the zone"),
    "zones.saved": ("已保存片区 #{id}。", "Zone #{id} saved."),
    # -- saved zones ------------------------------------------------------------------------------------
    "zones.saved_title": ("已保存的片区", "Saved zones"),
    "zones.none_saved": ("还没有保存的片区。", "No zone saved yet."),
    "zones.open": ("打开片区", "Open a zone"),
    "zones.opened": (
        "已打开：{name}（{area}），在地图上以紫色虚线显示。",
        "Open: {name} ({area}), dashed purple on the map.",
    ),
    "zones.download_zone_gpkg": ("导出此片区（GeoPackage）", "Export this zone (GeoPackage)"),
    "zones.download_zone_xlsx": ("导出此片区（Excel）", "Export this zone (Excel)"),
    "zones.reassess": ("重新评估此片区", "Assess it again"),
    "zones.reassess_taken": (
        "已将片区“{name}”作为绘制范围，按当前数据重新评估。",
        "Zone “{name}” is now the drawn zone, assessed on the current data.",
    ),
    "zones.kind.candidate": ("候选", "candidate"),
    "zones.kind.drawn": ("绘制", "drawn"),
    # -- columns, sheets, layers ------------------------------------------------------------------------
    "zones.col.zone_id": ("片区编号", "Zone"),
    "zones.col.county_code": ("行政区代码", "County code"),
    "zones.col.area_mu": ("面积（亩）", "Area (亩)"),
    "zones.col.n_parcels": ("宗地（宗）", "Parcels"),
    "zones.col.holders": ("权利人（个）", "Holders"),
    "zones.col.block_line_levels": ("所在区块线", "Block lines"),
    "zones.col.rating_mix": ("亩均评价", "Ratings"),
    "zones.col.parcels": ("宗地编号", "Parcel numbers"),
    "zones.col.parcel_no": ("宗地编号", "Parcel number"),
    "zones.col.holder": ("权利人", "Holder"),
    "zones.col.share_pct": ("落入片区比例（%）", "Share inside (%)"),
    "zones.col.area_in_zone_mu": ("片区内面积（亩）", "Area inside (亩)"),
    "zones.col.low_efficiency": ("低效用地", "Low-efficiency"),
    "zones.col.rating": ("亩均评价", "Rating"),
    "zones.col.id": ("编号", "Id"),
    "zones.col.name": ("名称", "Name"),
    "zones.col.kind": ("类型", "Kind"),
    "zones.col.meets": ("达到门槛", "Reaches the threshold"),
    "zones.col.policy": ("依据", "Under"),
    "zones.col.requirements": ("片区要求", "Requirements"),
    "zones.col.created_by": ("保存人", "Saved by"),
    "zones.col.created_at": ("保存时间", "Saved at"),
    "zones.col.item": ("项目", "Item"),
    "zones.col.value": ("内容", "Value"),
    "zones.sheet.candidates": ("候选片区", "candidates"),
    "zones.sheet.zone": ("片区", "zone"),
    "zones.sheet.parcels": ("宗地", "parcels"),
    "zones.layer.candidates": ("候选片区", "Candidate zones"),
    "zones.layer.chosen": ("选中的候选片区", "Chosen candidate"),
    "zones.layer.saved": ("打开的片区", "Opened zone"),
    "zones.layer.low": ("片区内低效宗地", "Low-efficiency parcels taken"),
    "zones.layer.healthy": ("片区内其他宗地", "Other parcels taken"),
    "zones.layer.zone": ("绘制的片区", "Drawn zone"),
}
