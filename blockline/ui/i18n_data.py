"""The words of the 数据 page (loading a file, its preview, the export): key → (中文, English).

Merged into ``blockline.ui.i18n``.
"""

TABLE: dict[str, tuple[str, str]] = {
    "data.title": ("数据", "Data"),
    "data.upload_header": ("导入文件", "Load a file"),
    "data.upload": (
        "选择文件：压缩的 Shapefile（.zip）、GeoPackage、GeoJSON、KML 或带 WKT 列的 CSV",
        "Choose a file: zipped Shapefile (.zip), GeoPackage, GeoJSON, KML or CSV with a WKT column",
    ),
    "data.zip_shp": (
        (
            "Shapefile 由多个文件组成，单独的 .shp 无法读取：请把同名的 .shp、.shx、.dbf、.prj、.cpg "
            "一起压缩成一个 zip 再上传。"
        ),
        (
            "A Shapefile is several files and a bare .shp cannot be read: zip the .shp, .shx, .dbf, .prj "
            "and .cpg of the same name together and upload the zip."
        ),
    ),
    "data.kind": ("数据类型", "What the file holds"),
    "kind.parcels": ("宗地", "Parcels"),
    "kind.level1": ("工业区块线一级线", "Industrial block lines, level 1"),
    "kind.level2": ("工业区块线二级线", "Industrial block lines, level 2"),
    "kind.boundaries": ("行政区边界", "Administrative boundaries"),
    "kind.ledger": (
        "宗地台账（无图形，按宗地编号更新属性）",
        "Parcel ledger (no shapes: attributes by parcel number)",
    ),
    "data.layer": ("图层", "Layer"),
    "data.layer_help": (
        "文件中有多个图层（或工作表）：选择要导入的一个。",
        "The file holds several layers (or sheets): choose the one to load.",
    ),
    "data.layer_pick": (
        "文件中有 {n} 个图层，请先选择要导入的图层。",
        "The file holds {n} layers: choose one to load.",
    ),
    "data.result_join": (
        "已按宗地编号导入 {file}：更新 {updated} 宗（新版本，图形不变），未变 {unchanged}，未找到 {not_found}",
        "Loaded {file} by parcel number: {updated} parcels updated (new versions, shapes unchanged), "
        "{unchanged} unchanged, {not_found} not found",
    ),
    "data.crs": ("坐标系（可选）", "CRS (optional)"),
    "data.crs_help": (
        "文件没有坐标系或坐标系标错时填写：EPSG 代码（如 4549、4490）或 gcj02（高德坐标）。",
        "Only when the file has no CRS or a wrong one: an EPSG code (e.g. 4549, 4490) or gcj02 (AMap).",
    ),
    "data.encoding": ("字符编码", "Encoding"),
    "data.encoding_auto": ("自动识别", "Detect"),
    "data.field_map": (
        "字段映射（可选，每行一条：文件字段=标准字段）",
        "Field map (optional, one per line: file column=standard field)",
    ),
    "data.field_map_help": (
        "例如 地块号=parcel_no。常见中文字段（宗地编号、权利人、土地用途……）无需映射。",
        "e.g. PARCEL=parcel_no. Common Chinese headers (宗地编号, 权利人, 土地用途 …) need none.",
    ),
    "data.county": ("所属行政区（可选）", "County (optional)"),
    "data.county_any": ("按位置划入各县", "By location"),
    "data.code_field": ("行政区代码字段（可选）", "Code field (optional)"),
    "data.name_field": ("名称字段（可选）", "Name field (optional)"),
    "data.preview": ("预览（尚未写入数据库）", "Preview (nothing written yet)"),
    "data.features": ("要素数", "Features"),
    "data.encoding_found": ("编码", "Encoding"),
    "data.crs_found": ("坐标系", "CRS"),
    "data.how": ("识别方式：{how}", "told by: {how}"),
    "data.attributes": ("属性（前 {n} 行，已解码）", "Attributes (first {n} rows, decoded)"),
    "data.mapping": ("字段对应", "Field mapping"),
    "data.mapping_source": ("文件字段", "File column"),
    "data.mapping_target": ("标准字段", "Canonical field"),
    "data.mapping_extra": (
        "未识别的字段（原样保存在 extra 中）：{cols}",
        "Unrecognised columns (kept as is in extra): {cols}",
    ),
    "data.area_column": (
        "文件自带的面积字段“{col}”仅用于比对；面积按图形计算。",
        "The file's own area column '{col}' is only compared; areas are computed from the geometry.",
    ),
    "data.repairs": ("几何修复", "Geometry repairs"),
    "data.repaired_row": (
        "第 {row} 行 {feature}：{reason}（{before} → {after} m²）",
        "row {row} {feature}: {reason} ({before} → {after} m²)",
    ),
    "data.dropped_z": ("{n} 个要素去除了 Z/M 坐标", "Z/M coordinates dropped from {n} features"),
    "data.notes": ("说明：{note}", "Note: {note}"),
    "data.problems": ("{n} 处问题，修正后才能导入：", "{n} problem(s); correct them before loading:"),
    "data.problem_row": ("第 {row} 行", "row {row}"),
    "data.more_problems": ("……另有 {n} 处", "… {n} more"),
    "data.ready": ("检查通过，可以导入。", "Checks passed: ready to load."),
    "data.import": ("导入", "Load"),
    "data.result": (
        "已导入 {file}：新增 {inserted}，更新 {updated}，关闭旧版本 {closed}",
        "Loaded {file}: {inserted} inserted, {updated} updated, {closed} old versions closed",
    ),
    "data.warnings": ("注意事项（{n} 条）", "Warnings ({n})"),
    "data.download_header": ("导出当前宗地", "Export the current parcels"),
    "data.parcel_count": ("当前宗地 {n} 宗，共 {mu}", "{n} current parcels, {mu} in all"),
    "data.download": ("下载宗地清单（Excel）", "Download the parcel list (Excel)"),
    "data.no_parcels": ("还没有宗地。", "No parcels yet."),
}
