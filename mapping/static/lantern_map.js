/* Lantern map bridge: builds the thematic layers, answers the desktop app.
 *
 * Everything user-supplied (names, notes) is shown with textContent, never
 * as HTML. The desktop app talks to this file through window.lantern and
 * receives clicks and cursor moves through a QWebChannel object "bridge";
 * in an exported map there is no channel and those calls are skipped.
 */
(function () {
  "use strict";

  var state = {
    map: null,
    layers: {},      // id -> {def, group, features: {fid: leafletLayer}}
    order: [],       // bottom -> top
    bridge: null,
    selected: null,  // {id, fid}
    basemap: null,
    extent: null,
    ready: false,
    paintCount: 0,
    pending: 0,      // layers being fetched or clustered: a complete paint waits for them
    waiters: [],     // called once nothing is pending
    filters: {},     // id -> {fid: true} or absent: kept for layers whose features have not arrived yet
    seq: {},         // id -> number of the latest fetch of that layer (older answers are dropped)
  };

  // point layers with more features than this are drawn on canvas and clustered at low zoom
  var CLUSTER_ABOVE = 2000;
  // from this zoom on, clustered layers show every point
  var CLUSTER_UNTIL_ZOOM = 18;

  var SVG_NS = "http://www.w3.org/2000/svg";

  function shapeSvg(style, size, highlighted, ringColor) {
    var s = size, h = s / 2, sw = style.weight || 2;
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("width", s);
    svg.setAttribute("height", s);
    svg.setAttribute("viewBox", "0 0 " + s + " " + s);
    var el;
    var inset = sw;
    if (ringColor) {
      // the place's risk level: a coloured ring around the symbol
      var ring = document.createElementNS(SVG_NS, "circle");
      ring.setAttribute("cx", h); ring.setAttribute("cy", h); ring.setAttribute("r", h - 2);
      ring.setAttribute("fill", "#ffffff"); ring.setAttribute("fill-opacity", "0.85");
      ring.setAttribute("stroke", ringColor); ring.setAttribute("stroke-width", 3.5);
      svg.appendChild(ring);
      inset = sw + size * 0.22;
    }
    if (style.shape === "square") {
      el = document.createElementNS(SVG_NS, "rect");
      el.setAttribute("x", inset); el.setAttribute("y", inset);
      el.setAttribute("width", s - 2 * inset); el.setAttribute("height", s - 2 * inset);
    } else if (style.shape === "diamond") {
      el = document.createElementNS(SVG_NS, "polygon");
      el.setAttribute("points", [h, inset, s - inset, h, h, s - inset, inset, h].join(" "));
    } else if (style.shape === "triangle") {
      el = document.createElementNS(SVG_NS, "polygon");
      el.setAttribute("points", [h, inset, s - inset, s - inset, inset, s - inset].join(" "));
    } else {
      el = document.createElementNS(SVG_NS, "circle");
      el.setAttribute("cx", h); el.setAttribute("cy", h); el.setAttribute("r", Math.max(1, h - inset));
    }
    el.setAttribute("fill", style.fill_color);
    el.setAttribute("fill-opacity", style.fill_opacity);
    el.setAttribute("stroke", highlighted ? "#ffff00" : style.color);
    el.setAttribute("stroke-width", highlighted ? sw + 2 : sw);
    svg.appendChild(el);
    return svg;
  }

  function iconScale(zoom) {
    // smaller symbols when zoomed out, so a dense district stays readable
    if (zoom >= 17) return 1;
    if (zoom >= 16) return 0.8;
    if (zoom >= 15) return 0.65;
    return 0.5;
  }

  function riskColor(risk) {
    if (!risk || risk === "none" || !state.riskColors) return null;
    return state.riskColors[risk] || null;
  }

  function pointIcon(style, highlighted, risk) {
    var scale = state.scale || 1;
    var ringColor = riskColor(risk);
    var base = (style.radius || 6) * 2 + 4 + (ringColor ? 10 : 0);
    var size = Math.max(7, Math.round(base * Math.max(scale, ringColor ? 0.8 : 0) + (highlighted ? 6 : 0)));
    var div = document.createElement("div");
    div.appendChild(shapeSvg(style, size, highlighted, ringColor));
    return L.divIcon({
      html: div,
      className: "lantern-point" + (highlighted ? " lantern-selected" : ""),
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
    });
  }

  function pathStyle(style, highlighted, props) {
    var base = style;
    if (style.classify && style.classes && props && style.classes[props.cls]) {
      base = Object.assign({}, style, style.classes[props.cls]);
    }
    return {
      color: highlighted ? "#ffff00" : base.color,
      weight: highlighted ? (base.weight || 2) + 3 : base.weight || 2,
      fillColor: (props && props.fill) || base.fill_color,
      fillOpacity: base.fill_opacity,
      dashArray: base.dash && base.dash !== "none" ? base.dash : null,
    };
  }

  function areaStyle(style) {
    // a place mapped as an area: a light outline of the place, its marker inside
    return { color: style.color, weight: 1, fillColor: style.fill_color, fillOpacity: 0.18, dashArray: null };
  }

  function tooltipNode(def, props) {
    var box = document.createElement("div");
    var lines = String(props.tip || def.label).split("\n");
    var head = document.createElement("strong");
    head.textContent = lines[0];
    box.appendChild(head);
    lines.slice(1).forEach(function (line) {
      var more = document.createElement("div");
      more.textContent = line;
      box.appendChild(more);
    });
    var kind = document.createElement("div");
    kind.className = "lantern-tip-kind";
    kind.textContent = def.label + (def.synthetic ? " · " + def.synthetic_label : "");
    box.appendChild(kind);
    return box;
  }

  function setHighlight(entry, fid, on) {
    var layer = entry.features[fid];
    if (!layer) return;
    if (layer.lanternPoint) {
      layer.setStyle(ringedPointStyle(entry.def.style, on, layer.lanternRisk));
      if (on && layer._map) layer.bringToFront();
    } else if (layer.setIcon) {
      layer.setIcon(pointIcon(entry.def.style, on, layer.lanternRisk));
      layer.setZIndexOffset(on ? 10000 : 0);
    } else if (layer.setStyle) {
      layer.setStyle(pathStyle(entry.def.style, on, layer.feature && layer.feature.properties));
      if (on) layer.bringToFront();
    }
  }

  // -- vector tiles (the app's basemap on a big workspace): canvas tiles, non-interactive -----------
  function tileStyle(def) {
    var polygon = def.geometry !== "MultiLineString" && def.geometry !== "LineString";
    return function (props) {
      // the tiles carry the attribute the style classifies on under its own name; pathStyle reads "cls"
      var s = pathStyle(def.style, false, { cls: props && def.style.classify ? props[def.style.classify] : null });
      s.fill = polygon;
      s.stroke = true;
      return s;
    };
  }

  // Beyond the tiles' deepest zoom Leaflet would scale that zoom's canvases up (blurred, every line
  // thickened 2x a zoom); instead a deeper tile is drawn from its ancestor's data, scaled and shifted.
  var OverzoomTiles = null;
  function overzoomTiles() {
    if (OverzoomTiles) return OverzoomTiles;
    var base = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
    OverzoomTiles = L.VectorGrid.Protobuf.extend({
      _getVectorTilePromise: function (coords) {
        var dz = coords.z - this.options.dataMaxZoom;
        if (dz <= 0) return base.call(this, coords);
        var k = 1 << dz, px = coords.x >> dz, py = coords.y >> dz;
        var ix = coords.x - px * k, iy = coords.y - py * k;
        return base.call(this, { x: px, y: py, z: coords.z - dz }).then(function (tile) {
          Object.keys(tile.layers).forEach(function (name) {
            var layer = tile.layers[name], e = layer.extent;
            layer.features.forEach(function (f) {
              f.geometry.forEach(function (ring) {
                ring.forEach(function (p) { p.x = p.x * k - ix * e; p.y = p.y * k - iy * e; });
              });
            });
          });
          return tile;
        });
      },
    });
    return OverzoomTiles;
  }

  function tileLayer(entry) {
    var def = entry.def, styles = {};
    styles[def.id] = tileStyle(def);
    var Tiles = overzoomTiles();
    var layer = new Tiles(def.tiles, {
      rendererFactory: L.canvas.tile,
      interactive: false,
      pane: "lanternBasemap",
      vectorTileLayerStyles: styles,
      minNativeZoom: def.tile_min_zoom,  // zoomed out, the shallowest tiles are drawn scaled down
      dataMaxZoom: def.tile_max_zoom,
      // below this the layer is not drawn: zoomed out further, every tile in view would be asked for at
      // tile_min_zoom (at the page's first zoom, 2, that is the whole world: millions of tiles)
      minZoom: def.tile_show_from,
      maxZoom: 19,
      updateWhenZooming: false,
      keepBuffer: 1,
    });
    // a complete paint waits for the visible tiles: Leaflet's GridLayer fires "loading" when it asks for
    // tiles and "load" when every tile in view has arrived and been drawn
    var release = function () { if (entry.tilesBusy) { entry.tilesBusy = false; busy(-1); } };
    layer.on("loading", function () { if (!entry.tilesBusy) { entry.tilesBusy = true; busy(1); } });
    layer.on("load", function () { entry.tilesLoaded = (entry.tilesLoaded || 0) + 1; release(); });
    layer.on("remove", release);
    layer.on("tileerror", function () { entry.tileErrors = (entry.tileErrors || 0) + 1; });
    entry.tiled = true;
    return layer;
  }

  function fillTiles(entry) {
    entry.inner = tileLayer(entry);
    entry.group.addLayer(entry.inner);
    entry.loaded = true;
  }

  function basemapLayer(def, geojson) {
    return L.geoJSON(geojson, {
      renderer: state.canvas,
      interactive: false,
      style: function (feature) { return pathStyle(def.style, false, feature.properties); },
    });
  }

  // a canvas point in its layer's shape (circle, square, diamond, triangle), as the SVG icons draw it
  var ShapeMarker = L.CircleMarker.extend({
    _updatePath: function () {
      var renderer = this._renderer, shape = this.options.shape;
      if (!renderer._ctx || !shape || shape === "circle") { L.CircleMarker.prototype._updatePath.call(this); return; }
      if (!renderer._drawing || this._empty()) return;
      var p = this._point, r = Math.max(Math.round(this._radius), 1), ctx = renderer._ctx;
      ctx.beginPath();
      var corners = shape === "square" ? [[-r, -r], [r, -r], [r, r], [-r, r]]
        : shape === "diamond" ? [[0, -r * 1.3], [r * 1.3, 0], [0, r * 1.3], [-r * 1.3, 0]]
        : [[0, -r * 1.2], [r * 1.1, r * 0.9], [-r * 1.1, r * 0.9]];
      corners.forEach(function (c, i) { ctx[i ? "lineTo" : "moveTo"](p.x + c[0], p.y + c[1]); });
      ctx.closePath();
      renderer._fillStroke(ctx, this);
    },
  });

  function pointStyle(style, highlighted) {
    // a point of a clustered layer: a canvas circle in the layer's colours
    var radius = Math.max(3, Math.round((style.radius || 6) * 0.8));
    return {
      renderer: state.pointCanvas,
      radius: highlighted ? radius + 3 : radius,
      color: highlighted ? "#ffff00" : style.color,
      weight: highlighted ? (style.weight || 1) + 2 : style.weight || 1,
      fillColor: style.fill_color,
      fillOpacity: style.fill_opacity,
      shape: style.shape,
    };
  }

  function featureClick(def, fid, e) {
    L.DomEvent.stopPropagation(e);
    if (state.mode === "polygon") { addVertex(e.latlng); return; }
    if (state.mode === "place") {
      if (state.bridge) state.bridge.mapClicked(e.latlng.lat, e.latlng.lng);
      return;
    }
    if (e.originalEvent && e.originalEvent.detail === 2) {
      // the second click of a double-click opens the feature: the first click's highlight redrew the
      // marker's icon, so Chromium sends no dblclick to it
      if (state.bridge) state.bridge.featureActivated(def.id, fid);
      return;
    }
    select(def.id, fid, false);
    if (state.bridge) state.bridge.featureClicked(def.id, fid);
  }

  function featureDoubleClick(def, fid, e) {
    // the feature opened on the click before (detail 2): only keep the map from zooming in
    L.DomEvent.stopPropagation(e);
  }

  function bindFeature(entry, fid, layer, props) {
    var def = entry.def;
    if (props.risk && props.risk !== "none") entry.hasRisk = true;
    layer.bindTooltip(tooltipNode(def, props), { sticky: false, direction: "top" });
    layer.on("click", function (e) { featureClick(def, fid, e); });
    layer.on("dblclick", function (e) { featureDoubleClick(def, fid, e); });
  }

  function thematicLayer(entry, geojson) {
    var def = entry.def;
    var markers = [];
    var group = L.geoJSON(geojson, {
      pointToLayer: function (feature, latlng) {
        var m = L.marker(latlng, { icon: pointIcon(def.style, false, feature.properties.risk), keyboard: false });
        m.lanternRisk = feature.properties.risk;
        return m;
      },
      style: function (feature) {
        if (def.choropleth) return choroplethStyle(def, feature.properties);
        return feature.properties.rep ? areaStyle(def.style) : pathStyle(def.style, false, feature.properties);
      },
      onEachFeature: function (feature, layer) {
        var props = feature.properties;
        bindFeature(entry, props.fid, layer, props);
        if (props.rep) {
          var marker = L.marker(props.rep, { icon: pointIcon(def.style, false, props.risk), keyboard: false });
          marker.lanternRisk = props.risk;
          bindFeature(entry, props.fid, marker, props);
          markers.push(marker);
          entry.features[props.fid] = marker;
          entry.companions[props.fid] = [layer];
        } else {
          entry.features[props.fid] = layer;
        }
      },
    });
    markers.forEach(function (m) { group.addLayer(m); });
    return group;
  }

  // -- clustered point layers: canvas circles, clustered below CLUSTER_UNTIL_ZOOM ------------------
  function clusterIcon(def, count, shift) {
    // shift: [dx, dy] pixels from the point, so several layers' counts in one cell stay readable
    var size = count < 100 ? 26 : count < 1000 ? 30 : count < 10000 ? 36 : 42;
    var div = document.createElement("div");
    div.className = "lantern-cluster";
    div.style.background = def.style.fill_color;
    div.style.borderColor = def.style.color;
    div.textContent = String(count);
    var d = shift || [0, 0];
    return L.divIcon({ html: div, className: "lantern-cluster-icon", iconSize: [size, size],
                       iconAnchor: [size / 2 - d[0], size / 2 - d[1]] });
  }

  function chunkDone(entry) {
    // the cluster group finished adding its markers: release the paint, run a filter that waited
    if (entry.chunking) { entry.chunking = false; busy(-1); }
    var next = entry.nextKeep;
    if (next !== undefined) { delete entry.nextKeep; filterCluster(entry, next); }
  }

  function clusterLayer(entry, geojson) {
    var def = entry.def;
    var group = L.markerClusterGroup({
      chunkedLoading: true, chunkInterval: 60, chunkDelay: 10,
      disableClusteringAtZoom: CLUSTER_UNTIL_ZOOM, spiderfyOnMaxZoom: false, showCoverageOnHover: false,
      maxClusterRadius: 60,
      iconCreateFunction: function (cluster) { return clusterIcon(def, cluster.getChildCount()); },
      chunkProgress: function (done, total) { if (done >= total) chunkDone(entry); },
    });
    geojson.features.forEach(function (f) {
      var c = f.geometry && f.geometry.type === "Point" ? f.geometry.coordinates : null;
      if (!c) return;
      var m = new ShapeMarker([c[1], c[0]], pointStyle(def.style, false));
      m.feature = f;
      m.lanternPoint = true;
      m.lanternRisk = f.properties.risk;
      if (m.lanternRisk && m.lanternRisk !== "none") entry.hasRisk = true;
      entry.features[f.properties.fid] = m;
    });
    bindGroup(def, group);
    entry.clustered = true;
    return group;
  }

  function bindGroup(def, group) {
    // one tooltip, one click handler for a whole layer of canvas points: their events reach the group
    var tip = L.tooltip({ direction: "top", offset: [0, -4] });
    group.on("mouseover", function (e) {
      if (!e.layer || !e.layer.feature) return;
      tip.setContent(tooltipNode(def, e.layer.feature.properties)).setLatLng(e.layer.getLatLng());
      state.map.openTooltip(tip);
    });
    group.on("mouseout", function () { state.map.closeTooltip(tip); });
    group.on("click", function (e) { if (e.layer && e.layer.feature) featureClick(def, e.layer.feature.properties.fid, e); });
    group.on("dblclick", function (e) {
      if (e.layer && e.layer.feature) featureDoubleClick(def, e.layer.feature.properties.fid, e);
    });
  }

  function filterCluster(entry, keep) {
    // rebuild the cluster group's markers (after the markers it is still adding, if any)
    if (entry.chunking) { entry.nextKeep = keep; return; }
    var markers = [];
    Object.keys(entry.features).forEach(function (fid) {
      if (keep === null || keep[fid]) markers.push(entry.features[fid]);
    });
    entry.shown = markers.length;
    entry.inner.clearLayers();
    if (state.map.hasLayer(entry.inner)) { entry.chunking = true; busy(1); }
    entry.inner.addLayers(markers);
  }

  // -- big layers: drawn from the view's box, counts per cell while zoomed out --------------------
  // The app answers lantern://view/<id>?b=west,south,east,north&z=zoom with {mode: "bins", bins:
  // [[lat, lng, count]], total} or {mode: "features", geojson, total}; a new answer replaces the old.
  function viewportLayer(entry, url) {
    entry.viewport = true;
    entry.viewUrl = url;
    entry.viewSeq = 0;
    entry.loaded = true;
    entry.inner = L.layerGroup();
    entry.group.addLayer(entry.inner);
    if (state.viewSet) refreshView(entry);  // else init asks once the district is in view
  }

  function refreshView(entry) {
    if (!state.map.hasLayer(entry.group)) { entry.stale = true; return; }  // hidden: fetched when shown
    entry.stale = false;
    var seq = ++entry.viewSeq;
    var b = state.map.getBounds();
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); });
    var url = entry.viewUrl + (entry.viewUrl.indexOf("?") < 0 ? "?" : "&") + "b=" + box.join(",") +
      "&z=" + state.map.getZoom().toFixed(2);
    busy(1);
    fetch(url)
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (answer) {
        if (entry.viewSeq === seq && state.layers[entry.def.id] === entry) drawView(entry, answer);
      })
      .catch(function (e) { console.error("layer " + entry.def.id + " view not loaded: " + e); })
      .then(function () { busy(-1); });
  }

  function refreshViews() {
    Object.keys(state.layers).forEach(function (id) {
      var entry = state.layers[id];
      if (entry.viewport) refreshView(entry);
    });
  }

  function binShift(id) {
    // each big layer's counts sit at their own place around a cell's centre (up to six layers)
    var big = state.order.filter(function (x) { return state.layers[x] && state.layers[x].viewport; });
    if (big.length < 2) return [0, 0];
    var angle = (2 * Math.PI * Math.max(big.indexOf(id), 0)) / big.length - Math.PI / 2;
    return [Math.round(22 * Math.cos(angle)), Math.round(22 * Math.sin(angle))];
  }

  function binMarker(def, bin, shift) {
    var m = L.marker([bin[0], bin[1]], { icon: clusterIcon(def, bin[2], shift), keyboard: false });
    m.on("click", function (e) {
      L.DomEvent.stopPropagation(e);
      state.map.setView([bin[0], bin[1]], Math.min(state.map.getZoom() + 2, 19));
    });
    return m;
  }

  function ringedPointStyle(style, highlighted, risk) {
    // a canvas point; a place's risk level colours its outline, as the ring does around an icon
    var out = pointStyle(style, highlighted), ring = riskColor(risk);
    if (ring && !highlighted) { out.color = ring; out.weight = 3; out.radius += 1; }
    return out;
  }

  function canvasPoints(entry, geojson) {
    // points drawn individually on canvas (thousands of DOM icons would make every pan slow), with one
    // tooltip and one click handler for the layer; a place mapped as an area gets its outline, not
    // clickable, and its point inside
    var def = entry.def, group = L.featureGroup(), areas = [];
    geojson.features.forEach(function (f) {
      var props = f.properties;
      var c = f.geometry && f.geometry.type === "Point" ? [f.geometry.coordinates[1], f.geometry.coordinates[0]]
        : props.rep;
      if (props.rep) areas.push(f);
      if (!c) return;
      var m = new ShapeMarker(c, ringedPointStyle(def.style, false, props.risk));
      m.feature = f;
      m.lanternPoint = true;
      m.lanternRisk = props.risk;
      if (props.risk && props.risk !== "none") entry.hasRisk = true;
      entry.features[props.fid] = m;
      group.addLayer(m);
    });
    bindGroup(def, group);
    if (!areas.length) return group;
    var outlines = L.geoJSON({ type: "FeatureCollection", features: areas }, {
      renderer: state.pointCanvas, interactive: false, style: function () { return areaStyle(def.style); },
    });
    return L.layerGroup([outlines, group]);
  }

  function drawView(entry, answer) {
    entry.features = {};
    entry.companions = {};
    var inner;
    if (answer.mode === "bins") {
      var shift = binShift(entry.def.id);
      inner = L.layerGroup(answer.bins.map(function (bin) { return binMarker(entry.def, bin, shift); }));
    } else if (!entry.def.choropleth) {
      inner = canvasPoints(entry, answer.geojson);
    } else {
      inner = thematicLayer(entry, answer.geojson);
    }
    entry.binned = answer.mode === "bins";
    entry.shown = answer.total;
    entry.group.removeLayer(entry.inner);
    entry.inner = inner;
    entry.group.addLayer(inner);
    var sel = state.selected;
    if (sel && sel.id === entry.def.id && entry.features[sel.fid]) setHighlight(entry, sel.fid, true);
  }

  // -- layers: defined at once, their features filled in as they arrive ---------------------------
  function busy(delta) {
    state.pending += delta;
    if (state.pending > 0) return;
    state.pending = 0;
    var waiters = state.waiters;
    state.waiters = [];
    waiters.forEach(function (fn) { fn(); });
  }

  function whenIdle(fn) {
    if (state.pending > 0) state.waiters.push(fn);
    else fn();
  }

  function newEntry(def) {
    // group: what the map holds (shown or not); inner: the features, once they are there
    return { def: def, features: {}, companions: {}, group: L.layerGroup(), inner: null, loaded: false,
             clustered: false, hasRisk: false };
  }

  function fillLayer(entry, geojson) {
    var def = entry.def;
    var many = def.geometry === "Point" && !def.basemap && !def.choropleth &&
      (geojson.features || []).length > CLUSTER_ABOVE;
    if (def.basemap) entry.inner = basemapLayer(def, geojson);
    else if (many) entry.inner = clusterLayer(entry, geojson);
    else entry.inner = thematicLayer(entry, geojson);
    entry.group.addLayer(entry.inner);
    entry.loaded = true;
    var keep = state.filters[def.id];
    if (entry.clustered) filterCluster(entry, keep === undefined ? null : keep);
    else if (keep !== undefined) setFilter(def.id, keep === null ? null : Object.keys(keep));
  }

  function addLayer(def, geojson) {
    var entry = newEntry(def);
    state.layers[def.id] = entry;
    state.order.push(def.id);
    if (def.visible !== false) entry.group.addTo(state.map);
    if (def.tiles) fillTiles(entry);
    else if (geojson) fillLayer(entry, geojson);
    return entry;
  }

  function fetchLayer(id, url, then) {
    // features from the desktop app (lantern://layer/<id>): the newest answer per layer wins
    var seq = (state.seq[id] || 0) + 1;
    state.seq[id] = seq;
    busy(1);
    fetch(url)
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (geojson) { if (state.seq[id] === seq) then(geojson); })
      .catch(function (e) { console.error("layer " + id + " not loaded: " + e); })
      .then(function () { busy(-1); });
  }

  function loadLayers(items) {
    // the page's own layers: all defined (legend, order, visibility) before any features arrive
    items.forEach(function (item) { addLayer(item.def, item.geojson || null); });
    items.forEach(function (item) {
      if (item.geojson || !item.url || item.def.tiles) return;
      var entry = state.layers[item.def.id];
      if (item.def.viewport) { viewportLayer(entry, item.url); return; }
      fetchLayer(item.def.id, item.url, function (geojson) {
        if (state.layers[item.def.id] !== entry) return;  // replaced meanwhile
        fillLayer(entry, geojson);
        afterFill(entry);
      });
    });
  }

  function afterFill(entry) {
    applyOrder();
    renderLegend();
    var sel = state.selected;
    if (sel && sel.id === entry.def.id) select(sel.id, sel.fid, !!state.selectPan);
    else if (state.choropleth && entry.def.choropleth) setChoropleth(entry.def.id, state.choropleth);
  }

  function choroplethStyle(def, props) {
    var c = state.choropleth;
    if (!c) return { color: def.style.color, weight: 1, fillColor: def.style.fill_color, fillOpacity: 0.12, dashArray: "3 3" };
    if (props.group !== c.group) return { opacity: 0, fillOpacity: 0 };
    var color = c.colors[c.colors.length - 1];
    for (var i = 0; i < c.breaks.length; i++) {
      if (props.density <= c.breaks[i]) { color = c.colors[i]; break; }
    }
    return { color: "#555555", weight: 1, fillColor: color, fillOpacity: 0.7, dashArray: null };
  }

  function setChoropleth(layerId, choropleth) {
    // choropleth: {group, label, breaks: [upper bounds], colors: [...]} or null
    state.choropleth = choropleth;
    var entry = state.layers[layerId];
    if (!entry) return false;
    if (!entry.inner) { renderLegend(); return true; }
    entry.inner.eachLayer(function (layer) {
      if (layer.feature && layer.setStyle) layer.setStyle(choroplethStyle(entry.def, layer.feature.properties));
    });
    renderLegend();
    return true;
  }

  function setFilter(layerId, fids) {
    // show only these fids (null: all)
    var keep = fids === null ? null : {};
    if (fids !== null) fids.forEach(function (f) { keep[f] = true; });
    state.filters[layerId] = keep;  // also for features still to come
    var entry = state.layers[layerId];
    if (!entry) return false;
    if (entry.viewport) { delete state.filters[layerId]; return true; }  // the app filters what it sends
    entry.filtered = keep === null ? null : Object.keys(keep).length;
    if (!entry.loaded) return true;
    if (entry.clustered) { filterCluster(entry, keep); return true; }
    var inner = entry.inner;
    Object.keys(entry.features).forEach(function (fid) {
      var layer = entry.features[fid];
      var show = keep === null || keep[fid];
      var shown = inner.hasLayer(layer);
      if (show && !shown) inner.addLayer(layer);
      if (!show && shown) inner.removeLayer(layer);
      (entry.companions[fid] || []).forEach(function (c) {
        if (show && !inner.hasLayer(c)) inner.addLayer(c);
        if (!show && inner.hasLayer(c)) inner.removeLayer(c);
      });
    });
    return true;
  }

  function replaceLayer(def, geojson) {
    // new data for one layer (after an edit), keeping its place in the order and its visibility
    delete state.seq[def.id];  // an answer still on its way is older than these data
    return swapLayer(def, geojson);
  }

  function reloadLayer(def, url) {
    // as replaceLayer, with the features fetched from the app; the old ones stay until they arrive
    if (def.tiles) { delete state.seq[def.id]; swapLayer(def, null); return true; }  // tiles: fetched as drawn
    if (def.viewport) {  // a big layer: asked for what is in view
      delete state.seq[def.id];
      swapLayer(def, null);
      viewportLayer(state.layers[def.id], url);
      return true;
    }
    fetchLayer(def.id, url, function (geojson) { swapLayer(def, geojson); });
    return true;
  }

  function dropEntry(entry) {
    // a layer leaves the map: a paint no longer waits for its clustering
    state.map.removeLayer(entry.group);
    if (entry.chunking) { entry.chunking = false; busy(-1); }
    delete entry.nextKeep;
  }

  function swapLayer(def, geojson) {
    var old = state.layers[def.id];
    var visible = old ? state.map.hasLayer(old.group) : def.visible !== false;
    var order = state.order.slice();
    if (old) dropEntry(old);
    def.visible = visible;
    state.order = state.order.filter(function (id) { return id !== def.id; });
    var entry = addLayer(def, geojson);
    state.order = order.indexOf(def.id) >= 0 ? order : state.order;
    afterFill(entry);
    return Object.keys(entry.features).length;
  }

  // -- drawing: a new place (one click) or an area (clicks, double-click to finish) --------------
  function setMode(mode) {
    cancelDrawing();
    state.mode = mode || null;
    var container = state.map.getContainer();
    container.style.cursor = state.mode ? "crosshair" : "";
    if (state.mode === "polygon") state.map.doubleClickZoom.disable();
    else state.map.doubleClickZoom.enable();
    return state.mode;
  }

  function addVertex(latlng) {
    if (!state.drawing) {
      state.drawing = { points: [], line: L.polyline([], { color: "#0d47a1", weight: 2, dashArray: "4 3" }).addTo(state.map),
                        marks: L.layerGroup().addTo(state.map) };
    }
    state.drawing.points.push(latlng);
    state.drawing.line.setLatLngs(state.drawing.points.concat([state.drawing.points[0]]));
    L.circleMarker(latlng, { radius: 4, color: "#0d47a1", fillColor: "#ffffff", fillOpacity: 1, weight: 2 })
      .addTo(state.drawing.marks);
  }

  function finishPolygon() {
    var d = state.drawing;
    if (!d || d.points.length < 3) return false;
    var ring = d.points.map(function (p) { return [p.lng, p.lat]; });
    ring.push(ring[0]);
    cancelDrawing();
    if (state.bridge) state.bridge.polygonDrawn(JSON.stringify(ring));
    return true;
  }

  function cancelDrawing() {
    if (state.drawing) {
      state.map.removeLayer(state.drawing.line);
      state.map.removeLayer(state.drawing.marks);
      state.drawing = null;
    }
  }

  function drawPolygon(lnglats) {
    // for tests and tools: draw a polygon from [lng, lat] pairs and finish it
    setMode("polygon");
    lnglats.forEach(function (p) { addVertex(L.latLng(p[1], p[0])); });
    return finishPolygon();
  }

  function rescaleIcons() {
    var scale = iconScale(state.map.getZoom());
    if (scale === state.scale) return;
    state.scale = scale;
    Object.keys(state.layers).forEach(function (id) {
      var entry = state.layers[id];
      if (entry.clustered) return;  // canvas circles: no icons
      Object.keys(entry.features).forEach(function (fid) {
        var layer = entry.features[fid];
        if (layer.setIcon) {
          var on = !!(state.selected && state.selected.id === id && String(state.selected.fid) === fid);
          layer.setIcon(pointIcon(entry.def.style, on, layer.lanternRisk));
        }
      });
    });
  }

  function applyOrder() {
    // paths: bring to front bottom-to-top; markers: z-index by position
    state.order.forEach(function (id, i) {
      var entry = state.layers[id];
      if (!entry || !entry.inner || !state.map.hasLayer(entry.group)) return;
      if (entry.tiled) { entry.inner.setZIndex(i); return; }  // tile layers stack in the basemap pane
      if (entry.def.basemap) return;  // on its own canvas, under every thematic layer
      if (entry.clustered) return;  // on the points' canvas; clusters are markers above
      entry.inner.eachLayer(function (layer) {
        if (layer.bringToFront) layer.bringToFront();
        if (layer.setZIndexOffset) layer.setZIndexOffset(i * 1000);
      });
    });
  }

  function setVisible(id, visible) {
    var entry = state.layers[id];
    if (!entry) return false;
    if (visible && !state.map.hasLayer(entry.group)) {
      entry.group.addTo(state.map);
      applyOrder();
      if (entry.viewport && entry.stale) refreshView(entry);
    } else if (!visible && state.map.hasLayer(entry.group)) {
      state.map.removeLayer(entry.group);
    }
    renderLegend();
    return state.map.hasLayer(entry.group);
  }

  function setOrder(ids) {
    state.order = ids.filter(function (id) { return state.layers[id]; });
    applyOrder();
    renderLegend();
  }

  function select(id, fid, pan, at) {
    if (state.selected) {
      var prev = state.layers[state.selected.id];
      if (prev) setHighlight(prev, state.selected.fid, false);
    }
    state.selected = null;
    state.selectPan = false;
    var entry = state.layers[id];
    if (entry && !entry.loaded) {
      // its features are on their way: select it when they arrive
      state.selected = { id: id, fid: fid };
      state.selectPan = pan;
      return true;
    }
    if (entry && entry.viewport && !entry.features[fid]) {
      // a big layer holds only what is in view: go there; the answer highlights it
      state.selected = { id: id, fid: fid };
      if (pan && at) state.map.setView(at, Math.max(state.map.getZoom(), 17), { animate: false });
      return true;
    }
    if (!entry || !entry.features[fid]) return false;
    setHighlight(entry, fid, true);
    state.selected = { id: id, fid: fid };
    if (pan) {
      var layer = entry.features[fid];
      if (entry.clustered && entry.inner.hasLayer(layer) && state.map.hasLayer(entry.inner)) {
        entry.inner.zoomToShowLayer(layer, function () { layer.bringToFront(); });
      } else if (layer.getLatLng) state.map.panTo(layer.getLatLng());
      else if (layer.getBounds) state.map.fitBounds(layer.getBounds(), { maxZoom: state.map.getZoom() });
    }
    return true;
  }

  function setExtent(bounds, label) {
    // bounds: [[south, west], [north, east]]
    if (state.extent) state.map.removeLayer(state.extent);
    if (!bounds) return;
    state.extent = L.rectangle(bounds, {
      color: "#555555", weight: 1.5, dashArray: "8 6", fill: false, interactive: false,
    }).addTo(state.map);
    state.extent.bindTooltip(label, { permanent: false });
  }

  function setBasemap(on, url, attribution) {
    if (state.basemap) { state.map.removeLayer(state.basemap); state.basemap = null; }
    if (on) {
      state.basemap = L.tileLayer(url, { maxZoom: 19, attribution: attribution });
      state.basemap.addTo(state.map);
      state.basemap.bringToBack();
    }
    return !!state.basemap;
  }

  function renderLegend() {
    var box = document.getElementById("lantern-legend");
    if (!box) return;
    while (box.firstChild) box.removeChild(box.firstChild);
    var title = document.createElement("div");
    title.className = "lantern-legend-title lantern-legend-toggle";
    title.textContent = (state.legendCollapsed ? "▸ " : "▾ ") + (state.legendTitle || "Legend");
    title.title = "Click to fold or unfold the legend";
    title.addEventListener("click", function () {
      state.legendCollapsed = !state.legendCollapsed;
      renderLegend();
    });
    box.appendChild(title);
    if (state.legendCollapsed) return;
    state.order.slice().reverse().forEach(function (id) {
      var def = state.layers[id].def;
      if (def.basemap) return;
      var row = document.createElement("div");
      row.className = "lantern-legend-row";
      row.setAttribute("data-layer", id);
      if (!state.map.hasLayer(state.layers[id].group)) row.classList.add("lantern-off");
      var sym = document.createElement("span");
      sym.className = "lantern-legend-symbol";
      if (def.geometry === "Point") sym.appendChild(shapeSvg(def.style, 14, false));
      else {
        var sw = document.createElement("span");
        sw.className = "lantern-legend-area";
        sw.style.borderColor = def.style.color;
        sw.style.background = def.style.fill_color;
        if (def.style.dash) sw.style.borderStyle = "dashed";
        sym.appendChild(sw);
      }
      row.appendChild(sym);
      var text = document.createElement("span");
      text.textContent = def.label;
      row.appendChild(text);
      box.appendChild(row);
    });
    var anyRisk = Object.keys(state.layers).some(function (id) {
      var e = state.layers[id];
      return state.map.hasLayer(e.group) && e.hasRisk;
    });
    if (anyRisk && state.riskLegend) {
      var rt = document.createElement("div");
      rt.className = "lantern-legend-title lantern-legend-section";
      rt.textContent = state.riskLegend.title;
      box.appendChild(rt);
      state.riskLegend.levels.forEach(function (l) {
        var row = document.createElement("div");
        row.className = "lantern-legend-row";
        row.setAttribute("data-risk", l.id);
        var sym = document.createElement("span");
        sym.className = "lantern-legend-symbol";
        sym.appendChild(shapeSvg({ shape: "circle", color: "#555555", fill_color: "#dddddd", fill_opacity: 1, weight: 1 }, 16, false, l.color));
        row.appendChild(sym);
        var t = document.createElement("span");
        t.textContent = l.label;
        row.appendChild(t);
        box.appendChild(row);
      });
    }
    if (state.choropleth) {
      var c = state.choropleth;
      var ct = document.createElement("div");
      ct.className = "lantern-legend-title lantern-legend-section";
      ct.textContent = c.label;
      box.appendChild(ct);
      c.breaks.forEach(function (upper, i) {
        var row = document.createElement("div");
        row.className = "lantern-legend-row";
        var sw = document.createElement("span");
        sw.className = "lantern-legend-area";
        sw.style.background = c.colors[i];
        sw.style.borderColor = "#555555";
        row.appendChild(sw);
        var t = document.createElement("span");
        var lower = i === 0 ? 0 : c.breaks[i - 1];
        t.textContent = lower + " – " + upper;
        row.appendChild(t);
        box.appendChild(row);
      });
    }
    (state.extraLegends || []).forEach(function (section) {
      var st = document.createElement("div");
      st.className = "lantern-legend-title lantern-legend-section";
      st.textContent = section.title;
      box.appendChild(st);
      section.rows.forEach(function (r) {
        var row = document.createElement("div");
        row.className = "lantern-legend-row";
        var sw = document.createElement("span");
        sw.className = "lantern-legend-area";
        sw.style.background = r.color;
        sw.style.borderColor = "#555555";
        row.appendChild(sw);
        var t = document.createElement("span");
        t.textContent = r.label;
        row.appendChild(t);
        box.appendChild(row);
      });
    });
    var synthetic = state.order.filter(function (id) { return state.layers[id].def.synthetic; });
    if (synthetic.length) {
      var note = document.createElement("div");
      note.className = "lantern-legend-note";
      note.textContent = state.layers[synthetic[0]].def.synthetic_note;
      box.appendChild(note);
    }
  }

  function addLegend(titleText) {
    state.legendTitle = titleText;
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "lantern-legend");
        div.id = "lantern-legend";
        L.DomEvent.disableClickPropagation(div);
        return div;
      },
    });
    new Legend().addTo(state.map);
    renderLegend();
  }

  function info() {
    var out = { layers: {}, order: state.order.slice(), selected: state.selected, basemap: !!state.basemap,
                pending: state.pending, zoom: state.map.getZoom(),
                mode: state.mode || null, choropleth: state.choropleth ? state.choropleth.group : null };
    Object.keys(state.layers).forEach(function (id) {
      var entry = state.layers[id];
      var risks = {};
      Object.keys(entry.features).forEach(function (f) {
        var r = entry.features[f].lanternRisk;
        if (r) risks[f] = r;
      });
      var shown = null;
      if (entry.clustered) shown = entry.shown;
      else if (!entry.def.basemap && !entry.tiled) {
        shown = Object.keys(entry.features).filter(function (f) {
          return entry.inner && entry.inner.hasLayer(entry.features[f]);
        }).length;
      }
      out.layers[id] = {
        risk: risks,
        shown: shown,
        visible: state.map.hasLayer(entry.group),
        count: entry.tiled ? null : entry.def.basemap ? (entry.inner ? entry.inner.getLayers().length : 0)
          : Object.keys(entry.features).length,
        loaded: entry.loaded,
        clustered: entry.clustered,
        tiled: !!entry.tiled,
        tilesLoaded: entry.tilesLoaded || 0,
        tileErrors: entry.tileErrors || 0,
        viewport: !!entry.viewport,
        binned: !!entry.binned,
        inView: entry.viewport ? entry.shown : null,  // features in view within the filters (the app's count)
        bins: entry.binned && entry.inner ? entry.inner.getLayers().length : 0,
      };
    });
    return JSON.stringify(out);
  }

  function setView(lat, lng, zoom) {
    // for tests and tools: show this place at this zoom
    state.map.setView([lat, lng], zoom, { animate: false });
    return state.map.getZoom();
  }

  function featurePoint(id, fid) {
    // the feature's position in container pixels, for tests and tools
    var layer = state.layers[id] && state.layers[id].features[fid];
    if (!layer) return "null";
    var ll = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
    var p = state.map.latLngToContainerPoint(ll);
    return JSON.stringify({ x: p.x, y: p.y });
  }

  function addInfo(info) {
    // a title box: title, marking, date and sources; text only
    var Info = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "lantern-info");
        var head = document.createElement("div");
        head.className = "lantern-info-title";
        head.textContent = info.title;
        div.appendChild(head);
        if (info.marking) {
          var mark = document.createElement("div");
          mark.className = "lantern-info-marking";
          mark.textContent = info.marking;
          div.appendChild(mark);
        }
        (info.lines || []).forEach(function (line) {
          var p = document.createElement("div");
          p.className = "lantern-info-line";
          p.textContent = line;
          div.appendChild(p);
        });
        L.DomEvent.disableClickPropagation(div);
        return div;
      },
    });
    new Info().addTo(state.map);
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function init(map, config) {
    state.map = map;
    // the basemap gets its own pane and canvas, below the thematic layers' SVG
    map.createPane("lanternBasemap").style.zIndex = 350;
    state.canvas = L.canvas({ pane: "lanternBasemap", padding: 0.3 });
    state.pointCanvas = L.canvas({ padding: 0.3 });  // clustered layers' points, one canvas for all
    if (config.attribution) map.attributionControl.addAttribution(escapeHtml(config.attribution));
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    map.attributionControl.setPrefix(false);
    state.scale = iconScale(map.getZoom());
    state.extraLegends = config.extra_legends || [];
    if (config.info) addInfo(config.info);
    state.riskLegend = config.risk_legend || null;
    state.riskColors = {};
    if (state.riskLegend) state.riskLegend.levels.forEach(function (l) { state.riskColors[l.id] = l.color; });
    loadLayers(config.layers || []);
    applyOrder();
    if (config.extent) setExtent(config.extent, config.extent_label);
    addLegend(config.legend_title);
    if (config.bounds) {
      var fit = function () {
        var legend = document.getElementById("lantern-legend");
        var right = legend ? legend.offsetWidth + 20 : 12;
        map.fitBounds(config.bounds, { paddingTopLeft: [50, 12], paddingBottomRight: [right, 12], animate: false });
      };
      if (config.view) map.setView([config.view[0], config.view[1]], config.view[2], { animate: false });
      else fit();
      // until the user moves the map, keep the district fitted as the window settles
      var touched = false;
      map.getContainer().addEventListener("mousedown", function () { touched = true; });
      map.getContainer().addEventListener("wheel", function () { touched = true; });
      map.getContainer().addEventListener("keydown", function () { touched = true; });
      if (config.view) touched = true;
      map.on("resize", function () { if (!touched) fit(); });
    }
    state.viewSet = true;  // the district (or the kept view) is in view: big layers ask what is in it
    refreshViews();
    map.on("zoomend", rescaleIcons);
    map.on("mousemove", function (e) {
      if (state.bridge) state.bridge.cursorMoved(e.latlng.lat, e.latlng.lng);
    });
    map.on("click", function (e) {
      if (state.mode === "polygon") { addVertex(e.latlng); return; }
      if (state.mode === "place") {
        if (state.bridge) state.bridge.mapClicked(e.latlng.lat, e.latlng.lng);
        return;
      }
      select(null, null, false);
      if (state.bridge) state.bridge.featureClicked("", -1);
    });
    map.on("dblclick", function () { if (state.mode === "polygon") finishPolygon(); });
    map.on("moveend", function () {
      refreshViews();
      var c = map.getCenter();
      if (state.bridge) state.bridge.viewChanged(c.lat, c.lng, map.getZoom());
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && state.mode) { setMode(null); if (state.bridge) state.bridge.modeEnded(); }
      if (e.key === "Enter" && state.mode === "polygon") finishPolygon();
    });
  }

  function connect() {
    // called last: the app's "ready" signal means layers are drawn and the channel works
    if (typeof QWebChannel !== "undefined" && window.qt && qt.webChannelTransport) {
      new QWebChannel(qt.webChannelTransport, function (channel) {
        state.bridge = channel.objects.bridge;
        state.ready = true;
        var c = state.map.getCenter();  // the app knows the view before the user first moves the map
        state.bridge.viewChanged(c.lat, c.lng, state.map.getZoom());
        state.bridge.ready();  // the app runs its queued calls, then asks for reportPainted()
      });
    } else {
      state.ready = true;
      reportPainted();
    }
  }

  // "painted": the layers are added (init ran before connect), the features fetched from the app
  // have arrived and been clustered (nothing pending), and two animation frames have
  // passed, so the browser has drawn them at least once (Leaflet's canvas redraws in a frame,
  // the second frame runs after the first one's paint). The app's ready signal waits for this,
  // not for the page load. Called again, it reports the next complete paint (--screenshot retries).
  function reportPainted() {
    var done = function () {
      state.paintCount += 1;
      if (state.bridge && state.bridge.painted) state.bridge.painted(state.paintCount);
    };
    whenIdle(function () {
      if (document.visibilityState === "hidden") { setTimeout(done, 0); return; }  // no frames come: nothing to wait for
      requestAnimationFrame(function () { requestAnimationFrame(done); });
    });
  }

  function setExtraLegends(sections) {
    state.extraLegends = sections || [];
    renderLegend();
    return state.extraLegends.length;
  }

  function removeLayer(id) {
    var entry = state.layers[id];
    if (!entry) return false;
    dropEntry(entry);
    delete state.layers[id];
    delete state.filters[id];
    delete state.seq[id];
    state.order = state.order.filter(function (x) { return x !== id; });
    renderLegend();
    return true;
  }

  window.lantern = {
    init: init,
    setExtraLegends: setExtraLegends,
    removeLayer: removeLayer,
    setChoropleth: setChoropleth,
    setFilter: setFilter,
    replaceLayer: replaceLayer,
    reloadLayer: reloadLayer,
    refreshLayer: function (id) { var e = state.layers[id]; if (e && e.viewport) refreshView(e); return !!e; },
    setMode: setMode,
    drawPolygon: drawPolygon,
    connect: connect,
    setVisible: setVisible,
    setOrder: setOrder,
    select: select,
    setBasemap: setBasemap,
    setExtent: setExtent,
    info: info,
    featurePoint: featurePoint,
    setView: setView,
    isReady: function () { return state.ready; },
    reportPainted: reportPainted,
    paintCount: function () { return state.paintCount; },
  };
})();
