"""数据: load a file (preview first, nothing written until 导入), and export the current parcels."""

import folium
import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from blockline.ui import data
from blockline.ui.auth import can
from blockline.ui.i18n import current_lang, error_text, fmt_int, fmt_mu, t
from blockline.ui.maps import build_map, fit_view, layer_control_last
from blockline.ui.widget_text import encoding_name, how_text
from geo.errors import BlocklineError
from geo.load import load_blocklines, load_boundaries, load_parcel_attributes, load_parcels

_TYPES = ["zip", "gpkg", "geojson", "json", "kml", "kmz", "csv", "fgb", "shp", "xlsx"]
_ENCODINGS = ["", "UTF-8", "GBK", "GB18030", "BIG5"]
_SHOWN_PROBLEMS = 50
_UPLOAD_STYLE = {"color": "#d62728", "weight": 2, "fillOpacity": 0.25}
_REPLACED_STYLE = {"color": "#ff7f0e", "weight": 3, "fillOpacity": 0.1, "dashArray": "6 4"}

lang = current_lang()


def show_error(error: dict) -> None:
    """A blockline error in the user's language, with its fix and the features it names."""
    problems = error.get("problems") or []
    if not problems:
        st.error(error_text(error, lang))
        return
    where = f"{error['file']}: " if error.get("file") else ""
    lines = [f"{where}{t('data.problems', n=fmt_int(len(problems)))}"]
    for p in problems[:_SHOWN_PROBLEMS]:
        label = ", ".join(
            x for x in (t("data.problem_row", row=p["row"]) if p["row"] else "", p["feature"] or "") if x
        )
        lines.append(f"- {'[' + label + '] ' if label else ''}{p['en' if lang == 'en' else 'zh']}")
    if len(problems) > _SHOWN_PROBLEMS:
        lines.append(f"- {t('data.more_problems', n=fmt_int(len(problems) - _SHOWN_PROBLEMS))}")
    fix = error.get("fix_app_en" if lang == "en" else "fix_app_zh") or error.get(
        "fix_en" if lang == "en" else "fix_zh"
    )
    if fix:
        lines.append("\n" + t("error.fix", fix=fix))
    st.error("\n".join(lines))


def _layer(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, style: dict) -> None:
    """``gdf`` on the preview map as one named layer, with the parcel number (if any) on hover."""
    shown = gdf.to_crs(4326)
    tooltip = folium.GeoJsonTooltip(["parcel_no"], labels=False) if "parcel_no" in shown.columns else None
    folium.GeoJson(
        shown.__geo_interface__, name=name, style_function=lambda _f: style, tooltip=tooltip
    ).add_to(m)


def show_where(preview: data.Preview, kind: str, crs: str) -> bool:
    """Draw where the uploaded shapes land, over the county lines and level-1 lines, before anything is written.

    Returns True when they fall in no loaded county (then they are not loaded; boundaries excepted).
    """
    if preview.shapes is None or preview.shapes.empty:
        return False
    where = data.landing(preview.shapes)
    bounds = where["bounds"]
    if bounds is None:  # not with shapes
        return False
    (south, west), (north, east) = bounds
    outside = kind != "boundaries" and where["any_county"] and not where["counties"]
    st.markdown(t("data.where"))
    extent = {"west": west, "east": east, "south": south, "north": north}
    if outside:
        st.warning(t("data.where_outside", crs=crs, **extent))
    elif where["counties"]:
        st.caption(
            t("data.where_counties", counties="、".join(f"{c} {n}" for c, n in where["counties"]), **extent)
        )
    m = build_map(
        counties=data.counties(),
        level1=data.blocklines(1),
        level2=None,
        parcels=None,
        basemap="none",
        lang=lang,
        leaflet_url=data.leaflet_url(),
    )
    replaced = data.replaced_parcels(preview.shapes) if kind == "parcels" else None
    if replaced is not None:
        st.caption(t("data.where_replaced", n=fmt_int(len(replaced))))
        _layer(m, replaced, t("data.layer.replaced"), _REPLACED_STYLE)
    _layer(m, preview.shapes, t("data.layer.upload"), _UPLOAD_STYLE)
    fit_view(m, bounds, max_zoom=17)
    layer_control_last(m)
    st_folium(m, key="data_preview_map", returned_objects=[], height=420, use_container_width=True)
    return outside


st.title(t("data.title"))

last = st.session_state.pop("data_last_load", None)
if last is not None and last.get("join"):
    st.success(
        t(
            "data.result_join",
            file=last["file"],
            updated=fmt_int(last["updated"]),
            unchanged=fmt_int(last["unchanged"]),
            not_found=fmt_int(len(last["not_found"])),
        )
    )
elif last is not None:
    st.success(
        t(
            "data.result",
            file=last["file"],
            inserted=fmt_int(last["inserted"]),
            updated=fmt_int(last["updated"]),
            closed=fmt_int(last["closed"]),
        )
    )
if last is not None and last["warnings"]:
    with st.expander(t("data.warnings", n=fmt_int(len(last["warnings"]))), expanded=True):
        st.markdown("\n".join(f"- {w}" for w in last["warnings"]))

st.subheader(t("data.upload_header"))
may_load = can("data_officer")  # the store checks the role again when loading
if not may_load:
    st.info(t("auth.not_allowed", role=t("role.data_officer")))
# A new key after each load empties the uploader, so the same file is not loaded twice by accident.
upload = st.file_uploader(
    t("data.upload"), type=_TYPES, key=f"data_upload_{st.session_state.get('data_loads', 0)}"
)
# Labels are made during the run (a format_func runs later, outside it).
kind_labels = {k: t(f"kind.{k}") for k in data.KINDS}
encoding_labels = {e: e or t("data.encoding_auto") for e in _ENCODINGS}
kind = st.selectbox(t("data.kind"), list(kind_labels), format_func=kind_labels.__getitem__, key="data_kind")
c1, c2 = st.columns(2)
crs = c1.text_input(
    t("data.crs"), help=t("data.crs_help"), placeholder="4549 / 4490 / gcj02", key="data_crs"
).strip()
encoding = c2.selectbox(
    t("data.encoding"), list(encoding_labels), format_func=encoding_labels.__getitem__, key="data_encoding"
)
field_map: tuple[str, ...] = ()
county, code_field, name_field = None, None, None
if kind in ("parcels", "ledger"):
    field_map = tuple(
        st.text_area(
            t("data.field_map"), help=t("data.field_map_help"), key="data_field_map", height=80
        ).splitlines()
    )
elif kind in ("level1", "level2"):
    counties = data.counties()
    county_labels = {None: t("data.county_any")} | {
        c: f"{c} {n}" for c, n in zip(counties["code"], counties["name"], strict=False)
    }
    county = st.selectbox(
        t("data.county"), list(county_labels), format_func=county_labels.__getitem__, key="data_county"
    )
else:
    f1, f2 = st.columns(2)
    code_field = f1.text_input(t("data.code_field"), key="data_code_field").strip() or None
    name_field = f2.text_input(t("data.name_field"), key="data_name_field").strip() or None

bare_shp = upload is not None and upload.name.lower().endswith(".shp")
layers: list[str] = []
layer: str | None = None
if upload is not None and not bare_shp:
    content = upload.getvalue()
    layers = data.upload_layers(upload.file_id, upload.name, content)
    if len(layers) > 1:  # the page's --layer: a GeoPackage's or FileGDB's layers, a workbook's sheets
        layer = st.selectbox(
            t("data.layer"),
            layers,
            index=None,
            help=t("data.layer_help"),
            key="data_layer",
            placeholder=t("widget.choose"),
        )

if bare_shp:
    st.warning(t("data.zip_shp"))
elif upload is not None and len(layers) > 1 and layer is None:
    st.info(t("data.layer_pick", n=fmt_int(len(layers))))
elif upload is not None:
    preview = data.preview_upload(
        upload.file_id, upload.name, content, kind, crs or None, encoding or None, field_map, layer
    )
    st.subheader(t("data.preview"))
    report = preview.report or {}
    if report:
        m1, m2, m3 = st.columns(3)
        m1.metric(t("data.features"), fmt_int(preview.features))
        code, told = encoding_name(report.get("encoding"))  # "UTF-8 (format default)": code and how
        m2.metric(t("data.encoding_found"), code)
        m2.caption(t("data.how", how=how_text(report.get("encoding_how") or told, lang)))
        m3.metric(t("data.crs_found"), str(report.get("source_crs") or "—"))
        m3.caption(t("data.how", how=how_text(report.get("crs_how"), lang)))
        for note in report.get("notes") or []:
            st.caption(t("data.notes", note=note))
    outside = show_where(preview, kind, str(report.get("source_crs") or "—"))
    if preview.head is not None:
        st.markdown(t("data.attributes", n=len(preview.head)))
        st.dataframe(preview.head, hide_index=True, width="stretch")
    if kind in ("parcels", "ledger") and preview.head is not None:
        st.markdown(t("data.mapping"))
        st.dataframe(
            {
                t("data.mapping_source"): list(preview.rename),
                t("data.mapping_target"): list(preview.rename.values()),
            },
            hide_index=True,
        )
        others = [c for c in preview.unknown if c != preview.area_column]  # the area column is said below
        if others:
            st.caption(t("data.mapping_kept", cols="、".join(map(str, others))))
        if preview.area_column:
            st.caption(t("data.area_column_kept", col=preview.area_column))
    repairs = report.get("repairs") or {}
    if repairs.get("repaired") or repairs.get("dropped_z"):
        with st.expander(t("data.repairs"), expanded=False):
            lines = [
                t(
                    "data.repaired_row",
                    row=r["row"],
                    feature=r.get("feature") or "",
                    reason=r["reason"],
                    before=f"{r['area_before']:,.1f}",
                    after=f"{r['area_after']:,.1f}",
                )
                for r in repairs.get("repaired", [])
            ]
            if repairs.get("dropped_z"):
                lines.append(t("data.dropped_z", n=fmt_int(repairs["dropped_z"])))
            st.markdown("\n".join(f"- {line}" for line in lines))
    if preview.warnings:
        with st.expander(t("data.warnings", n=fmt_int(len(preview.warnings)))):
            st.markdown("\n".join(f"- {w}" for w in preview.warnings))
    if preview.error is not None:
        show_error(preview.error)
    else:
        st.success(t("data.ready"))

    if st.button(
        t("data.import"),
        type="primary",
        disabled=not (preview.ok and may_load and not outside),
        key="data_import",
    ):
        bar = st.progress(0.0)

        def progress(stage: str, done: int, total: int) -> None:
            """Show how far the load is (the loaders' ``progress`` callback)."""
            bar.progress(
                min(done / total, 1.0) if total else 1.0, text=f"{stage} {fmt_int(done)}/{fmt_int(total)}"
            )

        user = data.acting_user()
        engine = data.get_engine()
        try:
            with data.saved_upload(upload.name, content) as path:
                options = {
                    "user": user,
                    "crs": crs or None,
                    "encoding": encoding or None,
                    "display_name": upload.name,
                    "layer": layer,
                }
                if kind == "ledger":
                    options.pop("crs")  # a 台账 has no shapes
                    result = load_parcel_attributes(
                        engine,
                        path,
                        field_map=[line for line in field_map if line.strip()],
                        progress=progress,
                        **options,
                    )
                elif kind == "parcels":
                    result = load_parcels(
                        engine,
                        path,
                        field_map=[line for line in field_map if line.strip()],
                        progress=progress,
                        **options,
                    )
                elif kind == "boundaries":
                    result = load_boundaries(
                        engine, path, code_field=code_field, name_field=name_field, **options
                    )
                else:
                    result = load_blocklines(
                        engine, path, level=1 if kind == "level1" else 2, county=county, **options
                    )
        except BlocklineError as exc:
            bar.empty()
            show_error(data.error_dict(exc))
        else:
            data.clear_caches()
            st.session_state["data_loads"] = st.session_state.get("data_loads", 0) + 1
            st.session_state["data_last_load"] = {
                "file": result.file,
                "inserted": result.inserted,
                "updated": result.updated,
                "closed": result.closed,
                "warnings": list(result.warnings),
                "join": result.join,
                "unchanged": result.unchanged,
                "not_found": list(result.not_found),
            }
            st.rerun()

st.divider()
st.subheader(t("data.download_header"))
counts = data.store_counts()
if counts["parcels"]:
    summary = data.county_summary()
    st.caption(
        t("data.parcel_count", n=fmt_int(summary["parcels"].sum()), mu=fmt_mu(summary["parcels_mu"].sum()))
    )
    st.download_button(
        t("data.download"),
        data=data.parcels_xlsx,
        file_name="blockline-parcels.xlsx",
        mime=data.XLSX_MIME,
        key="data_parcels_xlsx",
        on_click="ignore",
    )
else:
    st.caption(t("data.no_parcels"))
