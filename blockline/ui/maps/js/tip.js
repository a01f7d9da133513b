// onEachFeature of a layer whose features carry their tooltip ready (blockline.ui.zones_view.layers): the
// ``tip`` property, a table whose every text Python escaped. Leaflet sets it as the tooltip's HTML.
function (feature, layer) {
    if (feature.properties && feature.properties.tip) { layer.bindTooltip(feature.properties.tip, {sticky: true}); }
}
