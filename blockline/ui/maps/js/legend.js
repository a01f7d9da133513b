// The legend (blockline.ui.maps.furniture): a Leaflet control in the bottom-right corner of the map it is
// called with. Python puts the legend's HTML (every text escaped) in place of LEGEND_HTML, as a JSON string.
// Returns the control.
function (map) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function (map) {
        var div = L.DomUtil.create("div", "blockline-legend");
        div.innerHTML = LEGEND_HTML;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        // Sized to the map: never more than a fifth of it (a longer legend scrolls), whatever the screen.
        function fit() {
            var size = map.getSize();
            div.style.maxHeight = "";
            div.style.overflowY = "auto";
            var width = Math.max(div.offsetWidth, 1);
            div.style.maxHeight =
                Math.max(48, Math.min(size.y - 40, Math.floor(0.19 * size.x * size.y / width))) + "px";
        }
        map.on("resize", fit);
        setTimeout(fit, 0);
        return div;
    };
    legend.addTo(map);
    return legend;
}
