/*
 * The device health map (templates/monitoring/health_map.html): devices as circle markers
 * coloured by state (online / late / offline). Configuration: the JSON in #health-config.
 * Popups are built with escape.js's Aquifer.html (station and well names are user data).
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
    var source = document.getElementById("health-config");
    var el = document.getElementById("health-map");
    if (!source || !el || !window.L) return;
    var config = JSON.parse(source.textContent);
    var map = L.map(el, { zoomSnap: 0.25 });
    map.fitBounds(config.bounds);
    get(config.townships).then(function (data) {
      L.geoJSON(data, { style: { color: "#555", weight: 1.5, fill: false, dashArray: "4 3" } })
        .addTo(map);
    });
    get(config.url).then(function (data) {
      L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            radius: 6, color: "#fff", weight: 1, fillOpacity: 0.9,
            fillColor: config.colours[f.properties.state] || "#999",
            className: "device-marker device-" + f.properties.state
          });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(html`<strong>${p.station}</strong> ${p.well}<br>` +
            html`${config.labels[p.state] || p.state}<br>${p.last || "—"}<br>` +
            html`<a href="${p.url}">»</a>`);
        }
      }).addTo(map);
      el.dataset.loaded = String(data.features.length);
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
