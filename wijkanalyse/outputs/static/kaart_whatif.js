/* wijkanalyse kaart_whatif.js: the what-if on the map ("Wat als?"), computed in the page.
 *
 * Reads D.whatif (wijkanalyse.outputs._whatif): the engine's walking network, every
 * resident cell's and meeting point's attachment to it, and a polynomial from lat/lon to RD.
 * A new spot is attached by the engine's rule (nearest eligible way at the foot of the
 * perpendicular, ways within tie_m of the nearest count too, none beyond max_attach_m), in
 * RD metres; then a Dijkstra search bounded at the threshold walks the same graph the engine
 * walks. Lengths are integers (units of 10 micrometres), so the sums are exact.
 *
 * Gained: cells beyond the threshold now (the engine's figure) that a new spot brings within.
 * Lost: cells within now that a closed point reached, and that no remaining meeting point
 * and no new spot reaches. Nothing leaves the page.
 *
 * kaart.js calls WA.whatif.init(map, D, state, api) at the end of WA.init, and adds
 * WA.whatif.venueExtra(i) to the popup of venue i. Strings from the data are HTML-escaped
 * by Python; numbers are formatted here.
 */
(function () {
  "use strict";
  var WA = window.WA = window.WA || {};
  var W = WA.whatif = { venueExtra: function () { return ""; } };

  function varints(text, signed) {
    var out = [], i = 0, n = text.length;
    while (i < n) {
      var b, r = 0, shift = 1;
      do {
        b = text.charCodeAt(i++) - 63;
        r += (b & 31) * shift;
        shift *= 32;
      } while (b >= 32);
      out.push(signed ? (r % 2 ? -(r + 1) / 2 : r / 2) : r);
    }
    return out;
  }
  W.varints = varints;

  // ------------------------------------------------------------ the network as arrays
  function rowsOf(part, count) {
    var k = varints(part.k, false), e = varints(part.e, true), a = varints(part.a, false), o = varints(part.o, false);
    var start = new Int32Array(count + 1), edge = 0;
    for (var i = 0; i < count; i++) { start[i + 1] = start[i] + (k[i] || 0); }
    for (var j = 0; j < e.length; j++) { edge += e[j]; e[j] = edge; }
    return { start: start, edge: e, along: a, off: o };
  }

  function build(X) {
    var g = X.graph;
    var nodeSteps = varints(g.nodes, true), nn = nodeSteps.length / 2;
    var nx = new Float64Array(nn), ny = new Float64Array(nn), cx = 0, cy = 0, i, j;
    for (i = 0; i < nn; i++) { cx += nodeSteps[2 * i]; cy += nodeSteps[2 * i + 1]; nx[i] = cx / 100; ny[i] = cy / 100; }
    var du = varints(g.u, false), dv = varints(g.v, true), len = varints(g.len, false), code = varints(g.g, false);
    var xy = varints(g.xy, true), ne = du.length;
    var eu = new Int32Array(ne), ev = new Int32Array(ne), el = new Float64Array(ne), u = 0;
    for (i = 0; i < ne; i++) { u += du[i]; eu[i] = u; ev[i] = u + dv[i]; el[i] = len[i]; }
    // shapes of the eligible ways, end nodes included, in RD metres
    var eligible = [], shapeStart = [], sx = [], sy = [], box = [], at = 0;
    for (i = 0; i < ne; i++) {
      if (!code[i]) { continue; }
      eligible.push(i);
      shapeStart.push(sx.length);
      var px = nx[eu[i]] * 100, py = ny[eu[i]] * 100;
      sx.push(px / 100); sy.push(py / 100);
      for (j = 0; j < code[i] - 1; j++) {
        px += xy[at++]; py += xy[at++];
        sx.push(px / 100); sy.push(py / 100);
      }
      sx.push(nx[ev[i]]); sy.push(ny[ev[i]]);
    }
    shapeStart.push(sx.length);
    for (i = 0; i < eligible.length; i++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (j = shapeStart[i]; j < shapeStart[i + 1]; j++) {
        x0 = Math.min(x0, sx[j]); y0 = Math.min(y0, sy[j]); x1 = Math.max(x1, sx[j]); y1 = Math.max(y1, sy[j]);
      }
      box.push(x0, y0, x1, y1);
    }
    // adjacency (both directions; a loop way leads nowhere)
    var degree = new Int32Array(nn + 1);
    for (i = 0; i < ne; i++) { if (eu[i] !== ev[i]) { degree[eu[i] + 1]++; degree[ev[i] + 1]++; } }
    for (i = 0; i < nn; i++) { degree[i + 1] += degree[i]; }
    var fill = degree.slice(0, nn), to = new Int32Array(degree[nn]), w = new Float64Array(degree[nn]);
    for (i = 0; i < ne; i++) {
      if (eu[i] === ev[i]) { continue; }
      to[fill[eu[i]]] = ev[i]; w[fill[eu[i]]++] = el[i];
      to[fill[ev[i]]] = eu[i]; w[fill[ev[i]]++] = el[i];
    }
    var nCells = X.cells.w.length;
    var meetingIndex = varints(X.meeting.i, false), v = 0;
    for (i = 0; i < meetingIndex.length; i++) { v += meetingIndex[i]; meetingIndex[i] = v; }
    var meetingOf = {};
    meetingIndex.forEach(function (venue, k) { meetingOf[venue] = k; });
    return {
      nNodes: nn, eu: eu, ev: ev, len: el, eligible: eligible, shapeStart: shapeStart, sx: sx, sy: sy, box: box,
      adjStart: degree, adjTo: to, adjW: w,
      cellN: varints(X.cells.n, true), cellB: varints(X.cells.b, true), cellW: X.cells.w,
      cellRows: rowsOf(X.cells, nCells), nCells: nCells,
      meetingVenue: meetingIndex, meetingOf: meetingOf, meetingRows: rowsOf(X.meeting, meetingIndex.length)
    };
  }

  // ------------------------------------------------------------ lat/lon -> RD, attachment
  var EXPONENTS = [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2], [3, 0], [2, 1], [1, 2], [0, 3]];
  function toRD(P, lat, lng) {
    var u = (lng - P.lon0) * P.s, v = (lat - P.lat0) * P.s, x = 0, y = 0;
    for (var k = 0; k < EXPONENTS.length; k++) {
      var t = Math.pow(u, EXPONENTS[k][0]) * Math.pow(v, EXPONENTS[k][1]);
      x += P.x[k] * t; y += P.y[k] * t;
    }
    return [x, y];
  }

  // Distance from (x, y) to shape i and the metres along it to the nearest point (first segment wins a tie).
  function onShape(G, i, x, y) {
    var best = Infinity, along = 0, run = 0;
    for (var j = G.shapeStart[i]; j < G.shapeStart[i + 1] - 1; j++) {
      var ax = G.sx[j], ay = G.sy[j], dx = G.sx[j + 1] - ax, dy = G.sy[j + 1] - ay;
      var seg = Math.sqrt(dx * dx + dy * dy), t = 0;
      if (seg > 0) { t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (seg * seg))); }
      var qx = ax + t * dx - x, qy = ay + t * dy - y, d = Math.sqrt(qx * qx + qy * qy);
      if (d < best) { best = d; along = run + t * seg; }
      run += seg;
    }
    return [best, along];
  }

  function boxDistance(G, i, x, y) {
    var b = G.box, dx = Math.max(b[4 * i] - x, 0, x - b[4 * i + 2]), dy = Math.max(b[4 * i + 1] - y, 0, y - b[4 * i + 3]);
    return Math.sqrt(dx * dx + dy * dy);
  }

  // The attachment rows of a point (the engine's rule), or null when it is not on the network.
  function attach(G, X, x, y) {
    var nearest = Infinity, i, found = [];
    for (i = 0; i < G.eligible.length; i++) {
      if (boxDistance(G, i, x, y) > nearest) { continue; }
      nearest = Math.min(nearest, onShape(G, i, x, y)[0]);
    }
    if (!(nearest <= X.max_attach_m)) { return null; }
    for (i = 0; i < G.eligible.length; i++) {
      if (boxDistance(G, i, x, y) > nearest + X.tie_m) { continue; }
      var hit = onShape(G, i, x, y);
      if (hit[0] <= nearest + X.tie_m) {
        var e = G.eligible[i], lenM = G.len[e] * X.unit;
        var along = Math.max(0, Math.min(lenM, hit[1]));
        found.push({ e: e, a: Math.floor(along / X.unit + 0.5), o: Math.floor(hit[0] / X.unit + 0.5), m: hit[0] });
      }
    }
    return found;
  }

  // ------------------------------------------------------------ bounded Dijkstra
  function Heap() { this.k = []; this.v = []; }
  Heap.prototype.push = function (key, value) {
    var k = this.k, v = this.v, i = k.length;
    k.push(key); v.push(value);
    while (i > 0) {
      var p = (i - 1) >> 1;
      if (k[p] <= key) { break; }
      k[i] = k[p]; v[i] = v[p]; i = p;
    }
    k[i] = key; v[i] = value;
  };
  Heap.prototype.pop = function () {
    var k = this.k, v = this.v, topK = k[0], topV = v[0], lastK = k.pop(), lastV = v.pop(), n = k.length;
    if (n) {
      var i = 0;
      for (;;) {
        var c = 2 * i + 1;
        if (c >= n) { break; }
        if (c + 1 < n && k[c + 1] < k[c]) { c++; }
        if (k[c] >= lastK) { break; }
        k[i] = k[c]; v[i] = v[c]; i = c;
      }
      k[i] = lastK; v[i] = lastV;
    }
    this.key = topK;
    return topV;
  };

  // Distances (units) from the nearest of the source rows to every node within the limit.
  function walk(G, rows, limit) {
    var dist = new Float64Array(G.nNodes).fill(Infinity), heap = new Heap(), byEdge = {};
    function seed(node, d) {
      if (d <= limit && d < dist[node]) { dist[node] = d; heap.push(d, node); }
    }
    rows.forEach(function (r) {
      seed(G.eu[r.e], r.o + r.a);
      seed(G.ev[r.e], r.o + G.len[r.e] - r.a);
      (byEdge[r.e] = byEdge[r.e] || []).push(r);
    });
    while (heap.k.length) {
      var node = heap.pop(), d = heap.key;
      if (d > dist[node]) { continue; }
      for (var j = G.adjStart[node]; j < G.adjStart[node + 1]; j++) {
        var nd = d + G.adjW[j], m = G.adjTo[j];
        if (nd <= limit && nd < dist[m]) { dist[m] = nd; heap.push(nd, m); }
      }
    }
    return { dist: dist, byEdge: byEdge };
  }

  // The walk (units) from the sources of a search to point p of a row set: its best row.
  function distanceTo(G, reach, R, p) {
    var best = Infinity;
    for (var r = R.start[p]; r < R.start[p + 1]; r++) {
      var e = R.edge[r], a = R.along[r], o = R.off[r];
      var d = Math.min(reach.dist[G.eu[e]] + a, reach.dist[G.ev[e]] + G.len[e] - a);
      var same = reach.byEdge[e];
      if (same) {
        for (var s = 0; s < same.length; s++) { d = Math.min(d, same[s].o + Math.abs(same[s].a - a)); }
      }
      best = Math.min(best, d + o);
    }
    return best;
  }

  function meetingRows(G, k) {
    var R = G.meetingRows, out = [];
    for (var r = R.start[k]; r < R.start[k + 1]; r++) { out.push({ e: R.edge[r], a: R.along[r], o: R.off[r] }); }
    return out;
  }

  // ------------------------------------------------------------ the scenario
  function compute(G, X, added, closed) {
    var T = X.threshold, gained = [], lost = [], c;
    var addedRows = [];
    added.forEach(function (s) { addedRows = addedRows.concat(s.rows); });
    if (addedRows.length) {
      var A = walk(G, addedRows, T);
      for (c = 0; c < G.nCells; c++) {
        if (G.cellW.charAt(c) === "0" && distanceTo(G, A, G.cellRows, c) <= T) { gained.push(c); }
      }
    }
    var closedRows = [], remainingRows = addedRows.slice();
    G.meetingVenue.forEach(function (venue, k) {
      if (closed[venue]) { closedRows = closedRows.concat(meetingRows(G, k)); } else { remainingRows = remainingRows.concat(meetingRows(G, k)); }
    });
    if (closedRows.length) {
      var C = walk(G, closedRows, T), candidates = [];
      for (c = 0; c < G.nCells; c++) {
        if (G.cellW.charAt(c) === "1" && distanceTo(G, C, G.cellRows, c) <= T) { candidates.push(c); }
      }
      if (candidates.length) {
        var R = walk(G, remainingRows, T);
        candidates.forEach(function (cell) { if (!(distanceTo(G, R, G.cellRows, cell) <= T)) { lost.push(cell); } });
      }
    }
    return { gained: gained, lost: lost };
  }

  function tally(G, cells) {
    var people = 0, secret = 0, perBuurt = {};
    cells.forEach(function (c) {
      var n = G.cellN[c], b = G.cellB[c];
      if (n < 0) { secret++; } else { people += n; }
      perBuurt[b] = (perBuurt[b] || 0) + Math.max(n, 0);
    });
    return { people: people, cells: cells.length, secret: secret, perBuurt: perBuurt };
  }

  // ------------------------------------------------------------ on the map
  W.init = function (map, D, state, api) {
    var X = D.whatif;
    if (!X) { return; }
    var G = build(X), fmt = WA.fmtInt, threshold = D.text.threshold;
    var S = W.state = { added: [], closed: {}, placing: false, result: { gained: [], lost: [] }, G: G };
    var centres = WA.decode(X.cells.p);
    var pane = map.createPane("wa-whatif");
    pane.style.zIndex = 455;
    var shown = L.featureGroup().addTo(map), spots = L.featureGroup().addTo(map);
    var markers = S.markers = api.venueMarkers || [];

    function buurtName(b) { return b >= 0 && D.buurten.pop[b] ? D.buurten.pop[b][0] : "buiten de buurten"; }
    function people(t) {
      var text = fmt(t.people) + (t.people === 1 ? " inwoner" : " inwoners") + " (" + fmt(t.cells) + (t.cells === 1 ? " vak" : " vakken") + ")";
      if (t.secret) { text += ", waarvan " + fmt(t.secret) + (t.secret === 1 ? " vak" : " vakken") + " met een geheim aantal (1 tot 4)"; }
      return text;
    }
    function swatch(color) { return '<span class="wa-vak" style="background:' + color + '"></span>'; }

    // the control: a button, a hint while placing, the outcome
    var Box = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "wa-watals leaflet-control");
        box.innerHTML =
          '<div class="wa-watals-kop"><strong>Wat als?</strong>' +
          '<button type="button" class="wa-knop" id="wa-watals-plek" aria-pressed="false">Zet hier een ontmoetingsplek</button>' +
          '<button type="button" class="wa-knop" id="wa-watals-wis" hidden>Wis wat-als</button></div>' +
          '<p class="wa-watals-hint" id="wa-watals-hint" hidden></p>' +
          '<div class="wa-watals-uitkomst" id="wa-watals-uitkomst" aria-live="polite"></div>';
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var box = new Box().addTo(map).getContainer();
    var placeButton = box.querySelector("#wa-watals-plek"), clearButton = box.querySelector("#wa-watals-wis");
    var hint = box.querySelector("#wa-watals-hint"), outcome = box.querySelector("#wa-watals-uitkomst");

    function say(text) { hint.innerHTML = text; hint.hidden = !text; }
    function setPlacing(on) {
      S.placing = on;
      placeButton.setAttribute("aria-pressed", on ? "true" : "false");
      placeButton.classList.toggle("wa-aan", on);
      map.getContainer().classList.toggle("wa-plaatsen", on);
      say(on ? "Tik op de kaart waar de nieuwe plek komt." : "");
    }
    placeButton.addEventListener("click", function () { map.closePopup(); setPlacing(!S.placing); });
    clearButton.addEventListener("click", function () { clear(); });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && S.placing) { setPlacing(false); } });

    function square(c, color) {
      var lat = centres[c][0], lng = centres[c][1], e = D.cell.e, nv = D.cell.n;
      return L.polygon([
        [lat - e[0] - nv[0], lng - e[1] - nv[1]], [lat + e[0] - nv[0], lng + e[1] - nv[1]],
        [lat + e[0] + nv[0], lng + e[1] + nv[1]], [lat - e[0] + nv[0], lng - e[1] + nv[1]]
      ], { pane: "wa-whatif", color: "#ffffff", weight: 1, fillColor: color, fillOpacity: 0.9 });
    }
    function cellPopup(c, gained) {
      var n = G.cellN[c];
      return '<div class="wa-popup"><h3>Vak van 100 bij 100 m: ' +
        (gained ? "komt binnen " : "valt buiten ") + threshold + " m (wat als)</h3><table>" +
        "<tr><th>Inwoners</th><td>" + (n >= 0 ? fmt(n) : "aantal geheim (CBS: 1 tot 4)") + "</td></tr>" +
        "<tr><th>Buurt</th><td>" + buurtName(G.cellB[c]) + "</td></tr></table></div>";
    }

    function render() {
      var r = S.result = compute(G, X, S.added, S.closed);
      shown.clearLayers();
      r.gained.forEach(function (c) {
        var sq = square(c, X.colors.gain);
        sq.on("click", function () { api.openPopup(L.latLng(centres[c]), cellPopup(c, true)); });
        sq.addTo(shown);
      });
      r.lost.forEach(function (c) {
        var sq = square(c, X.colors.loss);
        sq.on("click", function () { api.openPopup(L.latLng(centres[c]), cellPopup(c, false)); });
        sq.addTo(shown);
      });
      var gain = tally(G, r.gained), loss = tally(G, r.lost);
      r.gain = gain; r.loss = loss;
      var nClosed = Object.keys(S.closed).length, any = S.added.length || nClosed;
      clearButton.hidden = !any;
      if (!any) { outcome.innerHTML = ""; return; }
      var parts = [];
      if (S.added.length) { parts.push(fmt(S.added.length) + (S.added.length === 1 ? " nieuwe plek" : " nieuwe plekken")); }
      if (nClosed) { parts.push(fmt(nClosed) + (nClosed === 1 ? " punt gesloten" : " punten gesloten")); }
      var html = '<p class="wa-watals-wat">' + parts.join(", ") + ":</p>" +
        '<div class="wa-rij">' + swatch(X.colors.gain) + "<span><b>Erbij binnen " + threshold + " m:</b> " + people(gain) + "</span></div>" +
        '<div class="wa-rij">' + swatch(X.colors.loss) + "<span><b>Niet meer binnen " + threshold + " m:</b> " + people(loss) + "</span></div>";
      var buurten = {};
      Object.keys(gain.perBuurt).forEach(function (b) { buurten[b] = [gain.perBuurt[b], 0]; });
      Object.keys(loss.perBuurt).forEach(function (b) { buurten[b] = [(buurten[b] || [0])[0], loss.perBuurt[b]]; });
      var keys = Object.keys(buurten).sort(function (a, b) {
        return (buurten[b][0] + buurten[b][1]) - (buurten[a][0] + buurten[a][1]) || Number(a) - Number(b);
      });
      if (keys.length) {
        html += '<table class="wa-watals-buurten"><thead><tr><th>Buurt</th><th>erbij</th><th>niet meer</th></tr></thead><tbody>';
        keys.forEach(function (b) {
          html += '<tr data-buurt="' + Number(b) + '"><td>' + buurtName(Number(b)) + "</td><td>" + fmt(buurten[b][0]) +
            "</td><td>" + fmt(buurten[b][1]) + "</td></tr>";
        });
        html += "</tbody></table>";
      }
      html += '<p class="wa-noot">Berekend in deze kaart over hetzelfde looppadennet als de analyse ' +
        "(" + threshold + " m over straten en paden). Er gaat niets over internet.</p>";
      outcome.innerHTML = html;
      r.perBuurt = buurten;
    }

    function spotPopup(s) {
      return '<div class="wa-popup"><h3>Nieuwe plek ' + s.n + " (wat als)</h3><table>" +
        "<tr><th>Deze plek alleen</th><td>" + people(s.alone) + " erbij binnen " + threshold + " m</td></tr>" +
        "<tr><th>Tot het looppad</th><td>" + fmt(s.rows[0].m) + " m</td></tr></table>" +
        '<p><button type="button" class="wa-knop" data-wa-weg="' + s.n + '">Haal deze plek weg</button></p></div>';
    }

    function place(lat, lng) {
      setPlacing(false);
      var rd = toRD(X.proj, lat, lng), rows = attach(G, X, rd[0], rd[1]);
      if (!rows) {
        say("Hier ligt geen straat of pad binnen " + fmt(X.max_attach_m) + " m: kies een plek dichter bij een looppad.");
        return null;
      }
      var s = { n: (S.added.length ? S.added[S.added.length - 1].n : 0) + 1, lat: lat, lng: lng, x: rd[0], y: rd[1], rows: rows };
      s.alone = tally(G, compute(G, X, [s], {}).gained);
      s.marker = L.circleMarker([lat, lng], {
        pane: "wa-proposals", radius: 9, color: "#ffffff", weight: 3, fillColor: "#222222", fillOpacity: 1
      }).addTo(spots);
      s.marker.on("click", function () { api.openPopup(s.marker.getLatLng(), spotPopup(s)); });
      S.added.push(s);
      render();
      return s;
    }
    function unplace(n) {
      S.added = S.added.filter(function (s) {
        if (s.n === n) { spots.removeLayer(s.marker); return false; }
        return true;
      });
      render();
    }
    function styleVenue(i) {
      var m = markers[i];
      if (!m) { return; }
      if (S.closed[i]) {
        m.setStyle({ fillColor: "#ffffff", color: X.colors.loss, weight: 3, dashArray: "3 3" });
      } else {
        m.setStyle({ fillColor: D.colors.meeting, color: "#ffffff", weight: 1.5, dashArray: null });
      }
    }
    function close(i) {
      if (G.meetingOf[i] === undefined) { return false; }
      S.closed[i] = true;
      styleVenue(i);
      render();
      return true;
    }
    function reopen(i) {
      delete S.closed[i];
      styleVenue(i);
      render();
    }
    function clear() {
      setPlacing(false);
      spots.clearLayers();
      S.added = [];
      var was = Object.keys(S.closed);
      S.closed = {};
      was.forEach(function (i) { styleVenue(Number(i)); });
      map.closePopup();
      render();
    }

    W.venueExtra = function (i) {
      if (G.meetingOf[i] === undefined) { return ""; }
      return S.closed[i]
        ? '<p><b>Wat als:</b> gesloten. <button type="button" class="wa-knop" data-wa-heropen="' + i + '">Zet dit punt terug</button></p>'
        : '<p><button type="button" class="wa-knop" data-wa-sluit="' + i + '">Sluit dit punt</button></p>';
    };
    map.on("popupopen", function (e) {
      var el = e.popup.getElement();
      if (!el) { return; }
      Array.prototype.forEach.call(el.querySelectorAll("[data-wa-sluit],[data-wa-heropen],[data-wa-weg]"), function (b) {
        b.addEventListener("click", function () {
          map.closePopup();
          if (b.hasAttribute("data-wa-sluit")) { close(Number(b.getAttribute("data-wa-sluit"))); }
          if (b.hasAttribute("data-wa-heropen")) { reopen(Number(b.getAttribute("data-wa-heropen"))); }
          if (b.hasAttribute("data-wa-weg")) { unplace(Number(b.getAttribute("data-wa-weg"))); }
        });
      });
    });
    map.on("click", function (e) {
      if (!S.placing) { return; }
      map.closePopup();
      place(e.latlng.lat, e.latlng.lng);
    });

    W.place = place;
    W.close = close;
    W.reopen = reopen;
    W.clear = clear;
    W.toRD = function (lat, lng) { return toRD(X.proj, lat, lng); };
    W.attach = function (x, y) { return attach(G, X, x, y); };
  };
})();
