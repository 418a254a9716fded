/*
 * The closure map (templates/closure/map.html): programme wells as circle markers coloured by
 * status, candidates (the bureau's view), coverage areas as blue polygons. Configuration:
 * the JSON in #closure-config. Popups are built with escape.js's Aquifer.html.
 */
(function () {
  "use strict";

  var html = window.Aquifer.html;

  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    });
  }

  function init() {
    var source = document.getElementById("closure-config");
    var el = document.getElementById("closure-map");
    if (!source || !el || !window.L) return;
    var config = JSON.parse(source.textContent);
    var map = L.map(el, { zoomSnap: 0.25 });
    map.fitBounds(config.bounds);
    get(config.townships).then(function (data) {
      L.geoJSON(data, { style: { color: "#555", weight: 1.5, fill: false, dashArray: "4 3" } })
        .addTo(map);
    });
    get(config.url).then(function (data) {
      var areas = data.features.filter(function (f) { return f.properties.kind === "coverage"; });
      var points = data.features.filter(function (f) { return f.properties.kind !== "coverage"; });
      L.geoJSON({ type: "FeatureCollection", features: areas }, {
        style: { color: "#3182bd", weight: 1, fillOpacity: 0.25 },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(html`<strong>${config.coverage_label}</strong><br>${p.name}<br>${p.served_on || "—"}` +
            (p.illustrative ? " *" : ""));
        }
      }).addTo(map);
      L.geoJSON({ type: "FeatureCollection", features: points }, {
        pointToLayer: function (f, latlng) {
          var s = f.properties.status;
          return L.circleMarker(latlng, {
            radius: 6, color: "#fff", weight: 1, fillOpacity: 0.9,
            fillColor: s === "candidate" ? config.candidate_colour : (config.colours[s] || "#999"),
            className: "closure-marker closure-" + s
          });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var label = p.status === "candidate" ? config.candidate_label : (config.labels[p.status] || p.status);
          layer.bindPopup(html`<strong>${p.well}</strong> ${label}<br>${(p.reasons || []).join("、")}<br>` +
            html`<a href="${p.url}">»</a>`);
        }
      }).addTo(map);
      el.dataset.loaded = String(points.length);
    }).catch(function () {
      var e = document.getElementById("map-error");
      e.textContent = "!";
      e.hidden = false;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
