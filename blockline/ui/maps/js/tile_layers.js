// Block lines, parcels and county outlines from one Leaflet.VectorGrid (blockline.ui.maps.tiles), each layer
// switchable in the layer control. Popups and tooltips are built with DOM nodes and textContent, so a value is
// never parsed as markup. Called with the map, the configuration Python made (tiles._config: the tile URL,
// layers, styles, labels, colours, units) and a function giving the layer control (or null for none).
function (map, cfg, control) {
    function label(key, value) {
        var names = cfg.values[key] || {};
        if (value === true) { return cfg.yes; }
        if (value === false) { return cfg.no; }
        if (key === "area_mu" || key === "low_mu") {
            return Number(value).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2})
                + " " + cfg.mu + " (" + (Number(value) / cfg.muPerHa).toLocaleString("zh-CN",
                {minimumFractionDigits: 2, maximumFractionDigits: 2}) + " " + cfg.ha + ")";
        }
        if (key === "parcels") { return Number(value).toLocaleString("zh-CN"); }
        if (key === "top") { names = cfg.values[cfg.colorBy] || {}; }
        if (key === "top_share") { return Math.round(100 * Number(value)) + "%"; }
        return names.hasOwnProperty(value) ? names[value] : String(value);
    }
    function facts(props, keys) {
        var table = document.createElement("table");
        table.className = "blockline-facts";
        keys.forEach(function (key) {
            var v = props[key];
            if (v === undefined || v === null || v === "") { return; }
            var row = table.insertRow(), th = document.createElement("th"), td = row.insertCell(-1);
            th.textContent = cfg.labels[key] || key;
            row.insertBefore(th, td);
            td.textContent = label(key, v);
        });
        return table;
    }
    function densityColor(mu, zoom) {
        // The ground a square covers: 16 px of a 256 px tile at this zoom, at the map's latitude.
        var side = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / Math.pow(2, zoom + 4);
        var share = 100 * mu / (side * side / cfg.m2PerMu);
        var color = cfg.density[0][1];
        cfg.density.forEach(function (step) { if (share >= step[0]) { color = step[1]; } });
        return color;
    }
    function parcelStyle(p, zoom) {
        if (p.parcels !== undefined && p.parcel_no === undefined) {
            if (cfg.colorBy) {  // the colour of the value that dominates the square, deeper the more it does
                var top = p.top, known = top !== undefined && cfg.colors.hasOwnProperty(top);
                return {fill: true, fillColor: known ? cfg.colors[top] : cfg.other, stroke: false, weight: 0,
                        fillOpacity: known ? 0.35 + 0.5 * Math.min(1, Number(p.top_share) || 0) : 0.35};
            }
            return {fill: true, fillColor: densityColor(p.area_mu, zoom), fillOpacity: 0.65, stroke: false,
                    weight: 0};
        }
        var style = Object.assign({fill: true}, cfg.styles.parcels);
        if (cfg.colorBy) {
            var v = p[cfg.colorBy];
            var key = (v === true || v === false) ? String(v) : v;
            style.fillColor = (key !== undefined && cfg.colors.hasOwnProperty(key)) ? cfg.colors[key] : cfg.other;
        }
        return style;
    }
    // One VectorGrid draws every layer: blockline/server.py's /tiles/all/ holds them all, one tile per place,
    // and each tile is one canvas, drawn in the order of its layers (parcels, block lines, outlines above).
    // Only parcels answer the mouse: a click on a block line goes through to the parcel under it.
    var hidden = {}, styles = {}, keysOf = {};
    cfg.layers.forEach(function (spec) {
        var name = spec.layer;
        keysOf[name] = spec.keys;
        styles[name] = function (p, zoom) {
            if (hidden[name]) { return []; }
            if (name === "parcels") { return parcelStyle(p, zoom); }
            return Object.assign({fill: true, interactive: false}, cfg.styles[name]);
        };
    });
    // VectorGrid 1.3 stops a click on a feature with L.DomEvent.fakeStop, which Leaflet 1.8 removed (the
    // click then throws and no popup opens); upstream's fix (Leaflet.VectorGrid#288) calls stop().
    if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stop; }
    var grid = L.vectorGrid.protobuf(cfg.url, {
        vectorTileLayerStyles: styles, interactive: true, rendererFactory: L.canvas.tile,
        maxNativeZoom: 20, maxZoom: 22, keepBuffer: 1, updateWhenZooming: false
    });
    var tip = L.tooltip({direction: "top", offset: [0, -8], opacity: 0.95});
    grid.on("mouseover", function (e) {
        var props = e.layer.properties || {};
        var keys = (props.parcel_no === undefined) ? cfg.squareKeys : cfg.tipKeys;
        tip.setLatLng(e.latlng).setContent(facts(props, keys));
        map.openTooltip(tip);
    });
    grid.on("mouseout", function () { map.closeTooltip(tip); });
    grid.on("click", function (e) {
        var props = e.layer.properties || {};
        var keys = (props.parcel_no === undefined && props.parcels !== undefined) ? cfg.squareKeys : keysOf.parcels;
        L.popup({maxWidth: 420}).setLatLng(e.latlng).setContent(facts(props, keys)).openOn(map);
        L.DomEvent.stop(e);
    });
    // Added after streamlit-folium's initComponent, which gives every layer then on the map a click
    // handler that asks the clicked feature for GeoJSON (a tile's feature has none: it would throw).
    setTimeout(function () { grid.addTo(map); }, 0);
    // The layer control switches each layer by an empty layer of its name: switched off, its features
    // get no style and the tiles are drawn again (from the browser's cache).
    cfg.layers.forEach(function (spec) {
        var toggle = L.layerGroup();
        toggle.on("add", function () {
            if (hidden[spec.layer]) { delete hidden[spec.layer]; grid.redraw(); }
        });
        toggle.on("remove", function () {
            if (!hidden[spec.layer] && grid._map) { hidden[spec.layer] = true; grid.redraw(); }
        });
        toggle.addTo(map);
        if (control) {
            // After the whole script: a page may move the layer control after its own layers.
            setTimeout(function () { control().addOverlay(toggle, spec.name); }, 0);
        }
    });
}
