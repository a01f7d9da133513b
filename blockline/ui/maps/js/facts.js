// onEachFeature of a GeoJSON layer (blockline.ui.maps.facts): tooltip and popup tables built in the browser
// from the feature's properties, which hold the facts already HTML-escaped by Python (Leaflet sets these
// strings as the element's HTML). Python fills in TIP_ROWS and POPUP_ROWS: [[label, property], ...], labels
// escaped, once per layer.
function (feature, layer) {
    var p = feature.properties || {};
    function facts(rows) {
        var out = "<table class='blockline-facts'>";
        for (var i = 0; i < rows.length; i++) {
            var v = p[rows[i][1]];
            out += "<tr><th>" + rows[i][0] + "</th><td>" + (v == null ? "\u2014" : v) + "</td></tr>";
        }
        return out + "</table>";
    }
    var tip = TIP_ROWS, popup = POPUP_ROWS;
    if (tip.length) { layer.bindTooltip(function () { return facts(tip); }, {sticky: true}); }
    if (popup.length) { layer.bindPopup(function () { return facts(popup); }, {maxWidth: 420}); }
}
