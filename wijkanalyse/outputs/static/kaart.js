/* wijkanalyse kaart.js: draws the data document of wijkanalyse.outputs.maps with Leaflet.
 *
 * Every string in the document is HTML-escaped by Python, or is a search key of only
 * a-z, 0-9 and spaces; numbers are formatted here. Nothing else is inserted as HTML.
 * Each kind of layer has its own pane, so the drawing order never depends on which layer
 * was switched on last: markers always lie above polygons.
 */
(function () {
  "use strict";

  var PANES = {
    streets: 150, // below the tiles: shows through when the tiles cannot load (offline)
    buurten: 410, areas: 420, kernen: 425, hotspots: 430, gaps: 440, cells: 450,
    kernlabels: 460, venues: 620, proposals: 640
  };
  var WA = window.WA = window.WA || {};

  function decode(text) {
    var out = [], i = 0, lat = 0, lng = 0, n = text.length;
    function next() {
      var b, shift = 0, result = 0;
      do {
        b = text.charCodeAt(i++) - 63;
        result |= (b & 0x1f) << shift;
        shift += 5;
      } while (b >= 0x20);
      return (result & 1) ? ~(result >> 1) : (result >> 1);
    }
    while (i < n) {
      lat += next();
      lng += next();
      out.push([lat / 1e5, lng / 1e5]);
    }
    return out;
  }
  WA.decode = decode;

  function rings(g) {
    return g.map(function (polygon) { return polygon.map(decode); });
  }

  function fmtInt(value) {
    return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  WA.fmtInt = fmtInt;

  function normalise(text) {
    var t = String(text);
    if (t.normalize) { t = t.normalize("NFD").replace(/[\u0300-\u036f]/g, ""); }
    return t.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }

  function el(tag, className, html) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (html !== undefined) { node.innerHTML = html; }
    return node;
  }

  function row(label, value) {
    return "<tr><th>" + label + "</th><td>" + value + "</td></tr>";
  }

  var OSM_ID = /^(node|way|relation)\/[0-9]+$/;

  // A layer's popup i: title, then a row per value that is present (see maps._Popups).
  function popupHtml(part, i) {
    var values = part.pop[i], rows = "";
    for (var k = 1; k < values.length; k++) {
      if (values[k] !== null && values[k] !== undefined) { rows += row(part.cols[k - 1], values[k]); }
    }
    var html = '<div class="wa-popup"><h3>' + values[0] + "</h3><table>" + rows + "</table>";
    if (part.note) { html += '<p class="wa-noot">' + part.note + "</p>"; }
    if (part.osm && part.osm[i] && OSM_ID.test(part.osm[i])) {
      html += '<p><a href="https://www.openstreetmap.org/' + part.osm[i] +
        '" target="_blank" rel="noopener noreferrer">Bekijk of verbeter op OpenStreetMap</a></p>';
    }
    if (part.link && part.link[i]) {  // a relative address checked by Python (the national overview: the gemeente's map)
      html += '<p><a href="' + part.link[i] + '" target="_blank" rel="noopener">' + part.linkText + "</a></p>";
    }
    return html + "</div>";
  }
  WA.popupHtml = popupHtml;

  // The short name of feature i: its own name list, or else its popup title.
  function nameOf(part, i) {
    return part.name ? part.name[i] : part.pop[i][0];
  }

  WA.init = function (map, D) {
    var canHover = !!(window.matchMedia && window.matchMedia("(hover: hover)").matches);
    var layers = {};
    var state = { map: map, layers: layers, mode: "signal", background: "pdok", part: 0 };
    WA.state = state;
    var panel = null;

    Object.keys(PANES).forEach(function (name) {
      var pane = map.createPane("wa-" + name);
      pane.style.zIndex = PANES[name];
      if (name === "streets") { pane.style.pointerEvents = "none"; }
    });

    // ------------------------------------------------------------ Dutch controls
    L.control.zoom({ position: "topleft", zoomInTitle: "Inzoomen", zoomOutTitle: "Uitzoomen" }).addTo(map);
    L.control.scale({ position: "bottomleft", imperial: false, metric: true, maxWidth: 120 }).addTo(map);
    if (map.attributionControl) {
      map.attributionControl.setPrefix(
        '<a href="https://leafletjs.com" target="_blank" rel="noopener noreferrer" ' +
        'title="JavaScript-bibliotheek voor interactieve kaarten">Leaflet</a>');
      map.attributionControl.addAttribution(D.attribution);
    }
    map.on("popupopen", function (e) {
      var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", "Sluiten"); close.setAttribute("title", "Sluiten"); }
    });

    function panelPadding() {
      if (!panel || panel.classList.contains("wa-dicht") || map.getSize().x < 700) { return 10; }
      return panel.offsetWidth + 20;
    }

    // Where a popup may lie: clear of the zoom buttons, the panel (button) and the scale bar.
    // On a phone the panel folds up first and the popup lies below the controls at the top,
    // so its close button is never under "Lagen en legenda".
    function popupRoom() {
      var size = map.getSize(), phone = size.x < 700;
      var room = { size: size, top: 10, left: phone ? 6 : 54, right: phone ? 6 : panelPadding(), bottom: 34 };
      if (phone) {
        var box = map.getContainer().getBoundingClientRect();
        [".leaflet-control-zoom", ".wa-paneel"].forEach(function (selector) {
          var node = map.getContainer().querySelector(selector);
          if (node) { room.top = Math.max(room.top, node.getBoundingClientRect().bottom - box.top + 6); }
        });
      }
      return room;
    }
    function openPopup(latlng, html) {
      if (panel && map.getSize().x < 700 && !panel.classList.contains("wa-dicht")) {
        panel.classList.add("wa-dicht");
        syncPanel();
      }
      var room = popupRoom(), width = room.size.x - room.left - room.right - 54;  // 54: the popup's own margins
      L.popup({
        maxWidth: Math.max(150, Math.min(340, width)),
        minWidth: Math.max(150, Math.min(220, width)),
        maxHeight: Math.max(120, room.size.y - room.top - room.bottom - 64),  // the rest scrolls inside
        autoPanPaddingTopLeft: L.point(room.left, room.top),
        autoPanPaddingBottomRight: L.point(room.right, room.bottom),
        className: "wa-popupvak"
      }).setLatLng(latlng).setContent(html).openOn(map);
    }
    WA.openPopup = openPopup;

    function clickable(layer, html, tooltip) {
      layer.on("click", function (e) {
        var where = layer.getLatLng ? layer.getLatLng() : e.latlng;
        openPopup(where, typeof html === "function" ? html() : html);
      });
      if (tooltip && canHover) { layer.bindTooltip(tooltip, { sticky: !layer.getLatLng, direction: "top" }); }
      return layer;
    }

    // ------------------------------------------------------------ backgrounds
    var tiles = state.tiles = {};
    D.tiles.forEach(function (t) {
      tiles[t.id] = L.tileLayer(t.url, { attribution: t.attr, maxZoom: t.maxZoom, maxNativeZoom: t.maxZoom });
    });
    if (D.streets && D.streets.length) {
      layers.streets = L.polyline(D.streets.map(decode), {
        pane: "wa-streets", renderer: L.canvas({ pane: "wa-streets" }), interactive: false,
        color: D.colors.street, weight: 1, opacity: 0.9
      });
      layers.streets.addTo(map);
    }

    // ------------------------------------------------------------ buurten
    var B = D.buurten;
    var buurtShapes = B.g.map(rings);
    var buurtPolys = [];
    // Two levels of areas in one part (the national overview: gemeenten and wijken): B.lvl[i] is the
    // level of area i, D.levels the level a colouring shows; the other level is left off the map.
    function shownIn(mode, i) {
      return !B.lvl || !D.levels || D.levels[mode] === undefined || B.lvl[i] === D.levels[mode];
    }
    function modeShowing(i) {
      var found = "borders";
      Object.keys(D.levels || {}).forEach(function (mode) { if (D.levels[mode] === B.lvl[i] && found === "borders") { found = mode; } });
      return found;
    }
    function buurtStyle(i) {
      var c;
      if (state.mode === "signal") {
        c = B.sig[i];
        return { fillColor: c < 0 ? D.colors.missing : D.colors.signal[c], fillOpacity: 0.6, color: "#555", weight: 0.8, fill: true };
      }
      if (state.mode === "reach" || state.mode === "dagdeel") {
        c = state.mode === "reach" ? B.bereik[i] : D.day_parts.c[state.part][i];
        return { fillColor: c < 0 ? D.colors.missing : D.colors.reach[c], fillOpacity: 0.6, color: "#555", weight: 0.8, fill: true };
      }
      if (state.mode.indexOf("group") === 0) {  // a target group ([doelgroepen]): its share within reach
        c = D.groups[+state.mode.slice(5)].cls[i];
        return { fillColor: c < 0 ? D.colors.missing : D.colors.reach[c], fillOpacity: 0.6, color: "#555", weight: 0.8, fill: true };
      }
      return { fillColor: "#ffffff", fillOpacity: 0, color: "#444", weight: 1.2, fill: true };
    }
    layers.buurten = L.featureGroup();
    buurtShapes.forEach(function (shape, i) {
      if (!shape.length) { buurtPolys.push(null); return; }
      var poly = L.polygon(shape, { pane: "wa-buurten" });
      poly._waIndex = i;
      clickable(poly, function () { return popupHtml(B, i); }, nameOf(B, i));
      if (canHover) {  // on a touch screen the highlight would stay after a tap
        poly.on("mouseover", function () { poly.setStyle({ weight: 3, color: "#000" }); });
        poly.on("mouseout", function () { poly.setStyle(buurtStyle(i)); });
      }
      poly.addTo(layers.buurten);
      buurtPolys.push(poly);
    });
    function setMode(mode) {
      state.mode = mode;
      if (mode === "none") {
        map.removeLayer(layers.buurten);
      } else {
        buurtPolys.forEach(function (poly, i) {
          if (!poly) { return; }
          if (shownIn(mode, i)) { poly.addTo(layers.buurten); } else { layers.buurten.removeLayer(poly); }
          poly.setStyle(buurtStyle(i));
        });
        if (!map.hasLayer(layers.buurten)) { layers.buurten.addTo(map); }
      }
      syncPanel();
    }
    state.setMode = setMode;
    buurtPolys.forEach(function (poly, i) {
      if (!poly) { return; }
      if (!shownIn(state.mode, i)) { layers.buurten.removeLayer(poly); }
      poly.setStyle(buurtStyle(i));
    });
    layers.buurten.addTo(map);

    // ------------------------------------------------------------ hot spots (outlines of buurten)
    layers.hotspots = L.featureGroup();
    B.hot.forEach(function (h, i) {
      if (h < 0 || !buurtShapes[i].length) { return; }
      var style = D.colors.hotspots[h];
      // A white halo under the outline keeps it visible on every fill colour.
      L.polygon(buurtShapes[i], { pane: "wa-hotspots", color: "#ffffff", weight: 7, opacity: 0.85, fill: false, interactive: false })
        .addTo(layers.hotspots);
      var poly = L.polygon(buurtShapes[i], {
        pane: "wa-hotspots", color: style[0], weight: 3.5, dashArray: style[1] ? "8 6" : null,
        fill: true, fillOpacity: 0
      });
      clickable(poly, function () { return popupHtml(B, i); }, nameOf(B, i)).addTo(layers.hotspots);
    });

    // ------------------------------------------------------------ gaps
    var G = D.gaps;
    layers.gaps = L.featureGroup();
    if (G) {
      G.g.forEach(function (g, i) {
        if (!g.length) { return; }
        var poly = L.polygon(rings(g), {
          pane: "wa-gaps", color: D.colors.gaps, weight: 2, dashArray: "6 4", fillColor: D.colors.gaps, fillOpacity: 0.15
        });
        clickable(poly, function () { return popupHtml(G, i); }, G.name[i]).addTo(layers.gaps);
      });
    }

    // ------------------------------------------------------------ residents beyond the threshold
    var C = D.cells;
    layers.outside = L.featureGroup();
    if (C) {
      var centres = decode(C.p);
      var e = D.cell.e, nv = D.cell.n;
      var cellText = function (i) {
        var n = C.n[i], d = C.d[i], b = C.b[i], g = C.gat[i];
        var rows = row("Inwoners", n >= 0 ? fmtInt(n) : "aantal geheim (CBS: 1 tot 4)");
        rows += row("Afstand tot ontmoetingspunt",
          d >= 0 ? fmtInt(d) + " m " + D.text.walk : (d === -1 ? "geen ontmoetingspunt bereikbaar" : "onbekend"));
        if (b >= 0) { rows += row("Buurt", nameOf(B, b)); }
        if (G && g >= 0) { rows += row("Hoort bij", G.name[g]); }
        return '<div class="wa-popup"><h3>Vak van 100 bij 100 m, verder dan ' + D.text.threshold +
          " m</h3><table>" + rows + "</table></div>";
      };
      centres.forEach(function (c, i) {
        var lat = c[0], lng = c[1];
        var square = [
          [lat - e[0] - nv[0], lng - e[1] - nv[1]], [lat + e[0] - nv[0], lng + e[1] - nv[1]],
          [lat + e[0] + nv[0], lng + e[1] + nv[1]], [lat - e[0] + nv[0], lng - e[1] + nv[1]]
        ];
        var poly = L.polygon(square, {
          pane: "wa-cells", color: "#ffffff", weight: 0.6, fillColor: D.colors.outside, fillOpacity: 0.75
        });
        clickable(poly, function () { return cellText(i); }).addTo(layers.outside);
      });
    }

    // ------------------------------------------------------------ venues
    var V = D.venues;
    layers.meeting_points = L.featureGroup();
    layers.other_venues = L.featureGroup();
    var venueMarkers = [];
    if (V) {
      decode(V.p).forEach(function (ll, i) {
        var meeting = V.m[i] === 1;
        var over = V.over && V.over[i] === 1;  // more residents within reach than its capacity: a thick dark ring
        var marker = L.circleMarker(ll, {
          pane: "wa-venues", radius: meeting ? 8 : 6, color: over ? "#000000" : "#ffffff", weight: over ? 3.5 : 1.5,
          fillColor: meeting ? D.colors.meeting : D.colors.other, fillOpacity: 0.95
        });
        // (what-if: kaart_whatif.js adds "Sluit dit punt" to a meeting point's popup)
        clickable(marker, function () { return popupHtml(V, i) + (WA.whatif ? WA.whatif.venueExtra(i) : ""); },
          nameOf(V, i) + " (" + V.cats[V.cat[i]] + ")");
        marker.addTo(meeting ? layers.meeting_points : layers.other_venues);
        venueMarkers.push(marker);
      });
    }

    // ------------------------------------------------------------ proposals, areas, kernen (when computed)
    var P = D.proposals;
    var proposalMarkers = [];
    if (P) {
      layers.proposals = L.featureGroup();
      var lastRank = Math.max.apply(null, P.rank.concat([0]));
      decode(P.p).forEach(function (ll, i) {
        var marker = L.marker(ll, {
          // Rank order: #1 on top of every later one wherever they overlap (Leaflet adds the pixel y).
          zIndexOffset: 10000 * (lastRank - Number(P.rank[i]) + 1),
          pane: "wa-proposals", keyboard: true,
          icon: L.divIcon({ className: "wa-voorstel", html: "<span>" + Number(P.rank[i]) + "</span>", iconSize: [26, 26] })
        });
        clickable(marker, function () { return popupHtml(P, i); }, nameOf(P, i)).addTo(layers.proposals);
        proposalMarkers.push(marker);
      });
    }
    var A = D.areas;
    var areaPolys = [];
    var labelItems = [];
    if (A) {
      layers.broker_areas = L.featureGroup();
      var areaLabels = decode(A.label);
      A.g.forEach(function (g, i) {
        // A light fill of the area's own colour (style.area_colors, as on the print map): a tap inside opens it.
        var poly = L.polygon(rings(g), {
          pane: "wa-areas", color: A.c[i], weight: 4, opacity: 0.9, fill: true, fillColor: A.c[i], fillOpacity: 0.12
        });
        clickable(poly, function () { return popupHtml(A, i); }, nameOf(A, i)).addTo(layers.broker_areas);
        areaPolys.push(poly);
        var tag = L.tooltip({ permanent: true, direction: "center", className: "wa-gebiedlabel", interactive: false, pane: "wa-kernlabels" })
          .setLatLng(areaLabels[i]).setContent('<span style="border-color:' + A.c[i] + '">' + A.tag[i] + "</span>");
        tag.addTo(layers.broker_areas);
        labelItems.push({ tip: tag, rank: 1, n: 0 });
      });
    }
    var K = D.kernen;
    var kernPolys = [];
    if (K) {
      layers.kernen = L.featureGroup();
      layers.kernlabels = L.featureGroup();  // the village and town names: always on, whatever the Kernen layer
      var labels = decode(K.label);
      K.g.forEach(function (g, i) {
        var poly = L.polygon(rings(g), { pane: "wa-kernen", color: D.colors.kern, weight: 2.5, dashArray: "10 5", fill: false });
        clickable(poly, function () { return popupHtml(K, i); }, K.name[i]).addTo(layers.kernen);
        kernPolys.push(poly);
        var tip = L.tooltip({ permanent: true, direction: "top", offset: [0, -2], className: "wa-kernlabel", interactive: false, pane: "wa-kernlabels" })
          .setLatLng(labels[i]).setContent(K.name[i]);
        tip.addTo(layers.kernlabels);
        labelItems.push({ tip: tip, rank: 0, n: K.n ? K.n[i] : 0 });
      });
      layers.kernlabels.addTo(map);
    }

    // Labels that would overlap: the kern with more residents (then the werkgebied) keeps its label.
    function placeLabels() {
      var taken = [], size = map.getSize();
      labelItems.slice().sort(function (a, b) { return a.rank - b.rank || b.n - a.n; }).forEach(function (item) {
        var node = item.tip.getElement();
        if (!node || !map.hasLayer(item.tip)) { return; }
        node.style.visibility = "visible";
        var w = node.offsetWidth, h = node.offsetHeight, p = map.latLngToContainerPoint(item.tip.getLatLng());
        var box = item.tip.options.direction === "top"
          ? { l: p.x - w / 2, r: p.x + w / 2, t: p.y - h - 8, b: p.y }
          : { l: p.x - w / 2, r: p.x + w / 2, t: p.y - h / 2, b: p.y + h / 2 };
        var clash = box.r < 0 || box.l > size.x || box.b < 0 || box.t > size.y || taken.some(function (o) {
          return box.l < o.r + 4 && box.r > o.l - 4 && box.t < o.b + 2 && box.b > o.t - 2;
        });
        if (clash) { node.style.visibility = "hidden"; } else { taken.push(box); }
      });
    }
    state.placeLabels = placeLabels;

    // ------------------------------------------------------------ scenarios (wijkanalyse run --scenario)
    var SC = D.scenarios;
    var scenarioIds = [];
    if (SC) {
      var ce = D.cell.e, cn = D.cell.n;
      SC.layers.forEach(function (sc) {
        var group = layers[sc.id] = L.featureGroup();
        D.names[sc.id] = sc.name;
        D.legends[sc.id] = sc.legend;
        scenarioIds.push(sc.id);
        if (sc.cells) {
          decode(sc.cells.p).forEach(function (c, i) {
            var lat = c[0], lng = c[1];
            var square = [
              [lat - ce[0] - cn[0], lng - ce[1] - cn[1]], [lat + ce[0] - cn[0], lng + ce[1] - cn[1]],
              [lat + ce[0] + cn[0], lng + ce[1] + cn[1]], [lat - ce[0] + cn[0], lng - ce[1] + cn[1]]
            ];
            var gains = sc.cells.c[i] === 1;
            var poly = L.polygon(square, {  // a dark edge keeps the cells apart from the signal colours
              pane: "wa-cells", color: gains ? "#ffffff" : "#3b1600", weight: gains ? 0.6 : 1, fillOpacity: 0.9,
              fillColor: gains ? SC.colors.gained : SC.colors.lost
            });
            clickable(poly, function () { return popupHtml(sc.cells, i); }).addTo(group);
          });
        }
        if (sc.points) {
          decode(sc.points.p).forEach(function (ll, i) {
            var opens = sc.points.w[i] === 1;
            var marker = L.circleMarker(ll, {
              pane: "wa-proposals", radius: 11, weight: 3, color: opens ? SC.colors.opened : SC.colors.closed,
              dashArray: opens ? null : "4 3", fillColor: "#ffffff", fillOpacity: opens ? 0.9 : 0.1
            });
            clickable(marker, function () { return popupHtml(sc.points, i); }, nameOf(sc.points, i)).addTo(group);
          });
        }
      });
    }

    // ------------------------------------------------------------ the layer panel
    var overlays = [
      { id: "hotspots", show: true, empty: !layers.hotspots.getLayers().length, emptyText: "geen" },
      { id: "outside", show: true, empty: !C, emptyText: "niemand" },
      { id: "gaps", show: false, empty: !G || !G.g.length, emptyText: "geen" },
      { id: "meeting_points", show: true, empty: !layers.meeting_points.getLayers().length, emptyText: "geen" },
      { id: "other_venues", show: true, empty: !layers.other_venues.getLayers().length, emptyText: "geen" }
    ];
    if (P) { overlays.push({ id: "proposals", show: true }); }
    if (A) { overlays.push({ id: "broker_areas", show: false }); }
    if (K) { overlays.push({ id: "kernen", show: false }); }
    scenarioIds.forEach(function (id) { overlays.push({ id: id, show: false }); });
    overlays = overlays.filter(function (o) { return D.names[o.id]; });  // a map without the layer names none
    overlays.forEach(function (o) { if (D.show && D.show[o.id] !== undefined) { o.show = D.show[o.id]; } });
    overlays.forEach(function (o) { if (o.show && !o.empty && layers[o.id]) { layers[o.id].addTo(map); } });
    if (tiles.pdok) { tiles.pdok.addTo(map); }

    var Panel = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var box = el("div", "wa-paneel leaflet-control");
        var toggle = el("button", "wa-paneel-knop wa-knop");
        toggle.type = "button";
        toggle.setAttribute("aria-controls", "wa-paneel-inhoud");
        var body = el("div", "wa-paneel-inhoud");
        body.id = "wa-paneel-inhoud";
        box.appendChild(toggle);
        box.appendChild(body);

        var search = el("div", "wa-zoek");
        search.innerHTML = '<label for="wa-zoekveld">Zoeken</label>' +
          '<input id="wa-zoekveld" type="search" autocomplete="off" spellcheck="false" ' +
          'placeholder="' + ((D.text && D.text.search) || "Buurt, kern, straat of plek") + '">' +
          '<ul id="wa-zoekresultaten" class="wa-zoekresultaten"></ul>';
        body.appendChild(search);

        function item(type, group, id, label, checked, legend, disabled, note) {
          var wrap = el("div", "wa-laag");
          wrap.setAttribute("data-laag", id);
          var input = document.createElement("input");
          input.type = type;
          input.name = group;
          input.id = "wa-" + group + "-" + id;
          input.value = id;
          input.checked = checked;
          input.disabled = !!disabled;
          var lab = el("label", "", label + (note ? ' <span class="wa-noot">(' + note + ")</span>" : ""));
          lab.setAttribute("for", input.id);
          wrap.appendChild(input);
          wrap.appendChild(lab);
          if (legend) { wrap.appendChild(el("div", "wa-legenda", legend)); }
          return wrap;
        }
        function section(title) {
          var fs = el("fieldset", "wa-groep");
          fs.appendChild(el("legend", "", title));
          body.appendChild(fs);
          return fs;
        }

        var modes = section((D.text && D.text.modes) || "Buurten kleuren naar");
        [["signal", D.names.signal, D.legends.signal], ["reach", D.names.reach, D.legends.reach]]
          .concat((D.groups || []).map(function (g, k) { return ["group" + k, g.name, g.legend]; }))
          .concat([["borders", D.names.borders, ""], ["none", (D.text && D.text.none) || "Geen buurten", ""]])
          .filter(function (m) { return m[1]; }).forEach(function (m) {
          modes.appendChild(item("radio", "modus", m[0], m[1], m[0] === state.mode, m[2]));
          if (m[0] === "reach" && D.day_parts) {  // reach per day part: the same colours, a select of 21 parts
            var wrap = item("radio", "modus", "dagdeel", D.names.day_parts, state.mode === "dagdeel", "");
            var pick = document.createElement("select");
            pick.id = "wa-dagdeel";
            pick.name = "dagdeel";
            pick.setAttribute("aria-label", "Dagdeel");
            D.day_parts.labels.forEach(function (label, k) {
              var option = document.createElement("option");
              option.value = String(k);
              option.textContent = label.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
              pick.appendChild(option);
            });
            wrap.appendChild(pick);
            modes.appendChild(wrap);
          }
        });
        var over = overlays.length ? section("Lagen") : null;  // a map with no overlay has no empty heading
        overlays.forEach(function (o) {
          over.appendChild(item("checkbox", "laag", o.id, D.names[o.id], o.show && !o.empty, D.legends[o.id],
            o.empty, o.empty ? o.emptyText : ""));
        });
        var bg = section("Achtergrond");
        D.tiles.forEach(function (t) { bg.appendChild(item("radio", "achtergrond", t.id, t.name, t.id === "pdok")); });
        bg.appendChild(item("radio", "achtergrond", "none", "Geen kaart van internet", false));
        if (layers.streets) {
          bg.appendChild(item("checkbox", "laag", "streets", D.names.streets, true, D.legends.streets));
        }

        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        L.DomEvent.on(toggle, "click", function () {
          box.classList.toggle("wa-dicht");
          syncPanel();
        });
        L.DomEvent.on(body, "change", function (ev) {
          var t = ev.target;
          if (t.name === "modus") { setMode(t.value); }
          if (t.name === "dagdeel") {
            state.part = parseInt(t.value, 10) || 0;
            if (state.mode === "dagdeel") { setMode("dagdeel"); } else { check("modus", "dagdeel", true); }
          }
          if (t.name === "achtergrond") { setBackground(t.value); }
          if (t.name === "laag" && layers[t.value]) {
            if (t.checked) { layers[t.value].addTo(map); } else { map.removeLayer(layers[t.value]); }
            syncPanel();
            placeLabels();
          }
        });
        return box;
      }
    });
    panel = new Panel().addTo(map).getContainer();
    var small = map.getSize().x < 700 || map.getSize().y < 520;
    if (small) { panel.classList.add("wa-dicht"); }

    function syncPanel() {
      if (!panel) { return; }
      var open = !panel.classList.contains("wa-dicht");
      var toggle = panel.querySelector(".wa-paneel-knop");
      toggle.textContent = open ? "Lagen en legenda \u25B4" : "Lagen en legenda \u25BE";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      var body = panel.querySelector(".wa-paneel-inhoud");
      body.style.maxHeight = Math.max(120, map.getSize().y - 70) + "px";
      Array.prototype.forEach.call(panel.querySelectorAll(".wa-laag"), function (wrap) {
        var input = wrap.querySelector("input");
        var on = input.checked && !input.disabled;
        wrap.classList.toggle("wa-aan", on);
      });
    }
    state.syncPanel = syncPanel;

    function setBackground(id) {
      state.background = id;
      Object.keys(tiles).forEach(function (key) {
        if (key === id) { tiles[key].addTo(map); } else { map.removeLayer(tiles[key]); }
      });
    }
    state.setBackground = setBackground;

    function check(group, id, on) {
      var input = document.getElementById("wa-" + group + "-" + id);
      if (input && input.checked !== on) {
        input.checked = on;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    // ------------------------------------------------------------ search
    var index = [];
    function add(part, kind, go) {
      if (!part || !part.key) { return; }
      part.key.forEach(function (key, i) {
        index.push({ key: " " + key, label: nameOf(part, i), kind: typeof kind === "function" ? kind(i) : kind, go: go(i) });
      });
    }
    function showBounds(layer) {
      // Without animation: the popup opened next pans itself into view from where the map really is.
      map.fitBounds(layer.getBounds(), { maxZoom: 16, paddingTopLeft: [50, 20], paddingBottomRight: [panelPadding(), 20], animate: false });
    }
    add(B, B.lvl && B.kinds ? function (i) { return B.kinds[B.lvl[i]]; } : "buurt", function (i) {
      return function () {
        var poly = buurtPolys[i];
        if (!poly) { return; }
        if (state.mode === "none" || !shownIn(state.mode, i)) { check("modus", modeShowing(i), true); }
        showBounds(poly);
        openPopup(poly.getBounds().getCenter(), popupHtml(B, i));
      };
    });
    if (K) {
      add(K, "kern", function (i) {
        return function () { check("laag", "kernen", true); showBounds(kernPolys[i]); openPopup(kernPolys[i].getBounds().getCenter(), popupHtml(K, i)); };
      });
    }
    if (V) {
      add(V, "plek", function (i) {
        return function () {
          check("laag", V.m[i] === 1 ? "meeting_points" : "other_venues", true);
          var ll = venueMarkers[i].getLatLng();
          map.setView(ll, Math.max(map.getZoom(), 16), { animate: false });
          openPopup(ll, popupHtml(V, i));
        };
      });
    }
    if (P) {
      add(P, "voorstel", function (i) {
        return function () {
          check("laag", "proposals", true);
          var ll = proposalMarkers[i].getLatLng();
          map.setView(ll, Math.max(map.getZoom(), 16), { animate: false });
          openPopup(ll, popupHtml(P, i));
        };
      });
    }
    if (A) {
      add(A, "werkgebied", function (i) {
        return function () { check("laag", "broker_areas", true); showBounds(areaPolys[i]); openPopup(areaPolys[i].getBounds().getCenter(), popupHtml(A, i)); };
      });
    }
    var S = D.straten;
    var streetPoints = S ? decode(S.p) : [];
    if (S) {
      add(S, "straat", function (i) {
        return function () {
          var ll = streetPoints[i];
          map.setView(ll, Math.max(map.getZoom(), 17), { animate: false });
          openPopup(ll, popupHtml(S, i));
        };
      });
    }
    var field = document.getElementById("wa-zoekveld");
    var list = document.getElementById("wa-zoekresultaten");
    var found = [];
    function runSearch() {
      var q = normalise(field.value);
      list.innerHTML = "";
      found = [];
      if (q.length < 2) { return; }
      var starts = [], contains = [];
      index.forEach(function (entry) {
        var at = entry.key.indexOf(" " + q);
        if (at === 0) { starts.push(entry); } else if (at > 0 || entry.key.indexOf(q) >= 0) { contains.push(entry); }
      });
      found = starts.concat(contains).slice(0, 8);
      if (!found.length) {
        list.appendChild(el("li", "wa-geen", "Niets gevonden"));
        return;
      }
      found.forEach(function (entry) {
        var li = el("li");
        var button = el("button", "wa-resultaat", entry.label + ' <span class="wa-soort">' + entry.kind + "</span>");
        button.type = "button";
        // Stop the click here: the list is emptied before it would reach the map, which would
        // then take it for a click on the map and close the popup that was just opened.
        button.addEventListener("click", function (ev) { ev.stopPropagation(); choose(entry); });
        li.appendChild(button);
        list.appendChild(li);
      });
    }
    function choose(entry) {
      list.innerHTML = "";
      if (map.getSize().x < 700) { panel.classList.add("wa-dicht"); syncPanel(); }
      entry.go();
    }
    field.addEventListener("input", runSearch);
    field.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && found.length) { ev.preventDefault(); choose(found[0]); }
      if (ev.key === "Escape") { field.value = ""; runSearch(); }
    });
    state.search = function (text) { field.value = text; runSearch(); return found.length; };

    // ------------------------------------------------------------ explanations and sources
    var dialog = el("div", "wa-uitleg");
    dialog.id = "wa-uitleg";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "wa-uitleg-titel");
    dialog.hidden = true;
    var inner = el("div", "wa-uitleg-inhoud");
    var head = el("div", "wa-uitleg-kop", '<h2 id="wa-uitleg-titel">Uitleg en bronnen</h2>');
    var closeButton = el("button", "wa-knop", "Sluiten");
    closeButton.type = "button";
    head.appendChild(closeButton);
    inner.appendChild(head);
    D.help.forEach(function (s, i) {
      var sec = el("section", "", "<h3>" + s[0] + "</h3>" + s[1]);
      if (i === D.help.length - 1) { sec.id = "bronnen"; }
      inner.appendChild(sec);
    });
    dialog.appendChild(inner);
    document.body.appendChild(dialog);
    function openHelp(sectionId) {
      dialog.hidden = false;
      var target = sectionId && document.getElementById(sectionId);
      if (target) { target.scrollIntoView(); } else { inner.scrollTop = 0; }
      closeButton.focus();
    }
    function closeHelp() { dialog.hidden = true; }
    state.openHelp = openHelp;
    closeButton.addEventListener("click", closeHelp);
    dialog.addEventListener("click", function (ev) { if (ev.target === dialog) { closeHelp(); } });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !dialog.hidden) { closeHelp(); } });
    var helpButton = document.getElementById("wa-uitleg-knop");
    if (helpButton) { helpButton.addEventListener("click", function () { openHelp(); }); }
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest(".wa-bronnen-link");
      if (link) { ev.preventDefault(); openHelp("bronnen"); }
    });

    // ------------------------------------------------------------ start
    map.invalidateSize();
    map.fitBounds(D.bounds, { paddingTopLeft: [10, 10], paddingBottomRight: [panelPadding(), 10], animate: false });
    map.on("resize", syncPanel);
    state.moving = false;
    map.on("movestart zoomstart", function () { state.moving = true; });
    map.on("moveend zoomend", function () { state.moving = false; });
    map.on("zoomend moveend resize", placeLabels);
    placeLabels();
    syncPanel();

    // ------------------------------------------------------------ what-if (kaart_whatif.js)
    if (WA.whatif && WA.whatif.init) { WA.whatif.init(map, D, state, { openPopup: openPopup, venueMarkers: venueMarkers }); }
    state.ready = true;
  };
})();
