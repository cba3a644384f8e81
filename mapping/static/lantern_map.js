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

  // a tool measuring the page (bench/) sets window.lanternTrace = []: the page's steps are timed into it
  function traced(name, start) {
    if (window.lanternTrace) window.lanternTrace.push([name, Math.round(start), Math.round(performance.now() - start)]);
  }

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

  // -- drawing in slices: many tiles (or markers) arriving together must not make one long task -----
  // Work queued here runs in tasks of at most SLICE_MS (a task of over 50 ms delays input and frames).
  var SLICE_MS = 40;
  var slices = { queue: [], scheduled: false, channel: null };

  function yieldThen(fn) {
    // a new task at once (setTimeout(0) waits 4 ms once nested): a message to ourselves
    if (!slices.channel && typeof MessageChannel !== "undefined") {
      slices.channel = new MessageChannel();
      slices.channel.port1.onmessage = function () { var f = slices.next; slices.next = null; if (f) f(); };
    }
    if (slices.channel) { slices.next = fn; slices.channel.port2.postMessage(0); } else setTimeout(fn, 0);
  }

  function inSlices(fn) {
    slices.queue.push(fn);
    if (slices.scheduled) return;
    slices.scheduled = true;
    yieldThen(drainSlices);
  }

  function drainSlices() {
    var start = performance.now();
    while (slices.queue.length && performance.now() - start < SLICE_MS) {
      var fn = slices.queue.shift();
      try { fn(); } catch (e) { console.error("map drawing failed: " + e); }
    }
    if (slices.queue.length) yieldThen(drainSlices);
    else slices.scheduled = false;
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

  function featureBox(f) {
    // [minx, miny, maxx, maxy] of a tile feature, in tile units (kept on the feature: asked per child tile)
    if (f.box) return f.box;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (var i = 0; i < f.geometry.length; i++) {
      var ring = f.geometry[i];
      for (var j = 0; j < ring.length; j++) {
        var p = ring[j];
        if (p.x < x0) x0 = p.x;
        if (p.x > x1) x1 = p.x;
        if (p.y < y0) y0 = p.y;
        if (p.y > y1) y1 = p.y;
      }
    }
    f.box = [x0, y0, x1, y1];
    return f.box;
  }

  function addBatches(out, tile, coords, dataZoom, style, w, h) {
    // the features of ``tile`` (of zoom dataZoom: coords' own tile or its ancestor) that reach coords' tile,
    // in tile pixels, grouped by style into out.batches (in out.order)
    var dz = Math.max(coords.z - dataZoom, 0), k = 1 << dz;
    var ix = coords.x - (coords.x >> dz) * k, iy = coords.y - (coords.y >> dz) * k;
    Object.keys(tile.layers).forEach(function (name) {
      var layer = tile.layers[name], e = layer.extent, s = (w * k) / e;
      var margin = 16 / s;  // half a thick line, in tile units: strokes just outside still reach the edge
      var x0 = (ix * e) / k - margin, x1 = ((ix + 1) * e) / k + margin;
      var y0 = (iy * e) / k - margin, y1 = ((iy + 1) * e) / k + margin;
      var at = { s: s, ox: ix * w, oy: iy * h };
      layer.features.forEach(function (f) {
        var b = featureBox(f);
        if (b[2] < x0 || b[0] > x1 || b[3] < y0 || b[1] > y1) return;  // not on this tile
        var st = style(f.properties, coords.z);
        var key = out.prefix + "|" + f.type + "|" + st.color + "|" + st.weight + "|" + st.fillColor + "|" +
          st.fillOpacity + "|" + st.opacity + "|" + st.dashArray + "|" + st.fill;
        var batch = out.batches[key];
        if (!batch) { batch = out.batches[key] = { style: st, type: f.type, at: at, features: [] }; out.order.push(batch); }
        batch.features.push(f);
      });
    });
  }

  function drawBatch(ctx, batch) {
    // one path for every feature of one style: a tile's 10,000 roads are a few strokes, not 10,000
    var st = batch.style, fill = st.fill && batch.type === 3;
    var s = batch.at.s, ox = batch.at.ox, oy = batch.at.oy;
    ctx.beginPath();
    batch.features.forEach(function (f) {
      f.geometry.forEach(function (ring) {
        ctx.moveTo(ring[0].x * s - ox, ring[0].y * s - oy);
        for (var i = 1; i < ring.length; i++) ctx.lineTo(ring[i].x * s - ox, ring[i].y * s - oy);
        if (f.type === 1) ctx.lineTo(ring[0].x * s - ox + 0.01, ring[0].y * s - oy);  // a point: a dot
        else if (fill) ctx.closePath();
      });
    });
    if (fill) {
      ctx.globalAlpha = st.fillOpacity === undefined ? 0.2 : st.fillOpacity;
      ctx.fillStyle = st.fillColor || st.color;
      ctx.fill("nonzero");  // vector tiles wind holes the other way: nonzero keeps them, and joins touching shapes
    }
    if (st.stroke !== false && st.weight !== 0) {
      ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
      ctx.lineWidth = st.weight === undefined ? 3 : st.weight;
      ctx.strokeStyle = st.color;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.setLineDash(st.dashArray ? String(st.dashArray).split(/[ ,]+/).map(Number) : []);
      ctx.stroke();
    }
  }

  // The tiled layers (water, buildings, roads, railways) are drawn together, one canvas a tile: five
  // canvases a tile made the browser allocate, composite and garbage-collect five times as much (a 160 ms
  // pause at each zoom). Each kind is a TileKind in its entry's group: adding, hiding or reordering it
  // redraws the shared tiles in place. A tile is drawn from its kind's data at that zoom, or beyond the
  // deepest zoom from its ancestor, scaled and shifted (Leaflet would scale that zoom's canvases up,
  // blurred, lines thickened 2x a zoom). A parsed tile is kept a while: a zoom-16 view's 15 tiles come from
  // 6 zoom-15 ones, and a zoom back out finds the tiles it showed before.
  var TILE_FEATURES_KEPT = 150000;  // parsed features kept per kind (a few tens of MB)
  var CANVASES_KEPT = 48;  // canvases of tiles gone, kept for new tiles (a new one costs an allocation)

  var TileKind = L.Layer.extend({
    initialize: function (entry) {
      var def = entry.def;
      this.entry = entry;
      this.z = 0;
      this.style = tileStyle(def);
      this.minZoom = def.tile_min_zoom;
      this.maxZoom = def.tile_max_zoom;
      this.showFrom = def.tile_show_from;
      this.kept = { tiles: {}, order: [], features: 0 };
      // what VectorGrid's fetch-and-parse reads of its layer
      this.source = { _url: def.tiles, options: { subdomains: "abc", fetchOptions: {} },
                      _getSubdomain: L.TileLayer.prototype._getSubdomain };
    },
    onAdd: function (map) { basemapGrid(map).addKind(this); },
    onRemove: function (map) { if (state.grid) state.grid.removeKind(this); },
    setZIndex: function (z) {
      if (z !== this.z) { this.z = z; if (state.grid && this._map) state.grid.changed(); }
      return this;
    },
    drawnAt: function (coords, zoom) {
      // coords.z: the tile's zoom; zoom: the map's, rounded (kinds cut from a deeper zoom show from there)
      return coords.z >= this.minZoom && zoom >= this.showFrom;
    },
    parsed: function (coords) {
      // the parsed tile this kind draws ``coords`` from, fetched once while kept
      var dataZoom = Math.min(coords.z, this.maxZoom), dz = coords.z - dataZoom;
      var at = { x: coords.x >> dz, y: coords.y >> dz, z: dataZoom };
      var key = at.z + "/" + at.x + "/" + at.y, kept = this.kept, found = kept.tiles[key];
      if (found) {
        kept.order.splice(kept.order.indexOf(key), 1);
        kept.order.push(key);
        return found.promise;
      }
      var entry = { features: 0 };
      entry.promise = L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this.source, at).then(function (tile) {
        tile.dataZoom = dataZoom;
        Object.keys(tile.layers).forEach(function (n) { entry.features += tile.layers[n].features.length; });
        kept.features += entry.features;
        while (kept.features > TILE_FEATURES_KEPT && kept.order.length > 1 && kept.order[0] !== key) {
          var old = kept.order.shift();
          kept.features -= kept.tiles[old].features;
          delete kept.tiles[old];
        }
        return tile;
      }, function (e) {
        if (kept.tiles[key] === entry) { delete kept.tiles[key]; kept.order.splice(kept.order.indexOf(key), 1); }
        throw e;
      });
      kept.tiles[key] = entry;
      kept.order.push(key);
      return entry.promise;
    },
  });

  var BasemapGrid = L.GridLayer.extend({
    initialize: function (options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this.kinds = [];
      this.canvases = [];
      this.round = 0;  // bumped at each in-place redraw: a slower draw of an older round is dropped
      this.on("tileunload", function (e) {
        if (this.canvases.length < CANVASES_KEPT) this.canvases.push(e.tile);
      }, this);
    },

    addKind: function (kind) {
      if (this.kinds.indexOf(kind) < 0) this.kinds.push(kind);
      this.changed();
    },

    removeKind: function (kind) {
      var i = this.kinds.indexOf(kind);
      if (i >= 0) this.kinds.splice(i, 1);
      this.changed();
    },

    changed: function () {
      // kinds added, removed or reordered: the tiles are drawn again (once, however many changes come at once)
      if (!this.kinds.length) { if (this._map) this._map.removeLayer(this); return; }
      this.kinds.sort(function (a, b) { return a.z - b.z; });
      this.options.minNativeZoom = Math.min.apply(null, this.kinds.map(function (k) { return k.minZoom; }));
      this.options.minZoom = Math.min.apply(null, this.kinds.map(function (k) { return k.showFrom; }));
      if (!this._map) { state.map.addLayer(this); return; }  // its tiles are made as it is added
      if (this.soon) return;
      this.soon = true;
      this.hold(1);  // a paint asked for meanwhile waits for the redraw
      var self = this;
      Promise.resolve().then(function () {
        self.soon = false;
        if (self._map) self.redrawInPlace();
        self.hold(-1);
      });
    },

    redrawInPlace: function () {
      // every tile drawn again with the kinds shown now, without taking it off the map first
      var self = this, keys = Object.keys(this._tiles), left = keys.length;
      this.round += 1;
      if (!left) return;
      this.hold(1);
      keys.forEach(function (key) {
        var tile = self._tiles[key];
        self.fill(tile.el, tile.coords, function () { left -= 1; if (!left) self.hold(-1); });
      });
    },

    createTile: function (coords, done) {
      var size = this.getTileSize(), canvas = this.canvases.pop();
      if (canvas) {
        L.DomUtil.removeClass(canvas, "leaflet-tile-loaded");
        canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);  // not the tile it showed before
      } else {
        canvas = document.createElement("canvas");
        canvas.width = size.x;
        canvas.height = size.y;
      }
      this.fill(canvas, coords, function (error) { done(error, canvas); });
      return canvas;
    },

    fill: function (canvas, coords, done) {
      // fetch (or find) each kind's data for coords, then draw them all, bottom to top, in a slice
      var self = this, round = this.round, zoom = Math.round(this._map.getZoom());
      var kinds = this.kinds.filter(function (k) { return k.drawnAt(coords, zoom); });
      var error = null;
      var parts = kinds.map(function (kind) {
        return kind.parsed(coords).then(null, function (e) {
          kind.entry.tileErrors = (kind.entry.tileErrors || 0) + 1;
          error = e;
          return null;
        });
      });
      Promise.all(parts).then(function (tiles) {
        inSlices(function () {
          var key = self._tileCoordsToKey(coords), shown = self._tiles[key];
          // a tile panned past meanwhile, or redrawn since, is not drawn (done() is then a no-op)
          if (round === self.round && shown && shown.el === canvas) {
            var t0 = performance.now();
            var out = { batches: {}, order: [], prefix: "" };
            kinds.forEach(function (kind, i) {
              out.prefix = String(i);  // each kind's batches in its own place in the order
              if (tiles[i]) addBatches(out, tiles[i], coords, tiles[i].dataZoom, kind.style, canvas.width, canvas.height);
            });
            var ctx = canvas.getContext("2d");
            ctx.clearRect(0, 0, canvas.width, canvas.height);
            out.order.forEach(function (batch) { drawBatch(ctx, batch); });
            ctx.globalAlpha = 1;
            traced("tile " + key, t0);
          }
          done(error);
        });
      });
    },

    hold: function (delta) {
      // tiles being fetched or drawn (Leaflet's loading, a redraw): a complete paint waits for them
      var before = this.holding || 0;
      this.holding = Math.max(before + delta, 0);
      if (!before && this.holding) busy(1);
      if (before && !this.holding) {
        busy(-1);
        this.kinds.forEach(function (k) { k.entry.tilesLoaded = (k.entry.tilesLoaded || 0) + 1; });
      }
    },

    onAdd: function (map) {
      // GridLayer fires "loading" when it asks for tiles and "load" once every tile in view is drawn
      this.on("loading", this.startLoading, this);
      this.on("load", this.endLoading, this);
      L.GridLayer.prototype.onAdd.call(this, map);
    },

    onRemove: function (map) {
      this.off("loading", this.startLoading, this);
      this.off("load", this.endLoading, this);
      this.loadingTiles = false;
      if (this.holding) { this.holding = 1; this.hold(-1); }
      L.GridLayer.prototype.onRemove.call(this, map);
    },

    startLoading: function () { if (!this.loadingTiles) { this.loadingTiles = true; this.hold(1); } },
    endLoading: function () { if (this.loadingTiles) { this.loadingTiles = false; this.hold(-1); } },
  });

  function basemapGrid() {
    if (!state.grid) {
      state.grid = new BasemapGrid({
        pane: "lanternBasemap",
        maxZoom: 19,
        updateWhenZooming: false,
        keepBuffer: 1,
      });
    }
    return state.grid;
  }

  function fillTiles(entry) {
    entry.inner = new TileKind(entry);
    entry.tiled = true;
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
    div.title = def.label + ": " + count.toLocaleString();  // the layer and the whole count, where markers overlap
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
        var t0 = performance.now();
        if (entry.viewSeq === seq && state.layers[entry.def.id] === entry) drawView(entry, answer);
        traced("view " + entry.def.id, t0);
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
      if (entry.tiled) { entry.inner.setZIndex(i); return; }  // kinds drawn in this order on the shared tiles
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
    if ((entry && !entry.loaded) || (!entry && state.seq[id])) {
      // its features (or a new layer's, e.g. an overlay just added) are on their way: select it when they arrive
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
    // the app (find, bookmarks, a submission under review) and tests: show this place at this zoom; the
    // district is no longer fitted when the window resizes
    state.touched = true;
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
      // until the user (or the app, through setView) moves the map, keep the district fitted as the window settles
      state.touched = !!config.view;
      ["mousedown", "wheel", "keydown"].forEach(function (name) {
        map.getContainer().addEventListener(name, function () { state.touched = true; });
      });
      map.on("resize", function () { if (!state.touched) fit(); });
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
