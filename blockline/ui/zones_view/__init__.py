"""The 连片开发 page's pure side: candidates, the drawn zone and its assessment, saved zones, exports, map layers.

No Streamlit here. The drawn zone travels as GeoJSON Features in EPSG:4326 (what the map draws and
``geo.drafts`` keeps) and reaches ``zoning.consolidation`` as one polygon in the storage CRS: the union of
every drawing. Everything computed is ``zoning``'s; this package reads the store for it, and lays the results
out as tables, texts, files and map layers in the user's language. A 100 m × 100 m square is 15 亩.

One module per part: ``shapes`` (the drawn zone), ``assessment`` (what the store says of it), ``tables``
(tables and texts), ``saved`` (saved zones and their files) and ``layers`` (the map).

Examples
--------
>>> from shapely import box
>>> square = box(568000, 3097000, 568100, 3097100)
>>> zone = zone_from_features(features_of(square, epsg=4549), epsg=4549)
>>> round(zone.area / 666.6666666666666, 2)
15.0
>>> share_text(0.871134)
'87.1%'
>>> levels_text([1, 2], "en")
'level 1, level 2'
"""

from blockline.ui.zones_view.assessment import assess, candidates
from blockline.ui.zones_view.layers import STYLES, add_zone_layers
from blockline.ui.zones_view.saved import layer_bytes, saved_frame, saved_layer, saved_zone_xlsx
from blockline.ui.zones_view.shapes import PURPOSE, features_of, new_drawings, zone_from_features
from blockline.ui.zones_view.tables import (
    assessment_frame,
    assessment_layer,
    assessment_rows,
    candidates_frame,
    candidates_layer,
    levels_text,
    main_county,
    rating_mix_text,
    requirements_of,
    share_text,
    shortfall_mu,
)

__all__ = [
    "PURPOSE",
    "STYLES",
    "add_zone_layers",
    "assess",
    "assessment_frame",
    "assessment_layer",
    "assessment_rows",
    "candidates",
    "candidates_frame",
    "candidates_layer",
    "features_of",
    "layer_bytes",
    "levels_text",
    "main_county",
    "new_drawings",
    "rating_mix_text",
    "requirements_of",
    "saved_frame",
    "saved_layer",
    "saved_zone_xlsx",
    "share_text",
    "shortfall_mu",
    "zone_from_features",
]
