/*
 * /analysis/: zones coloured by water-level recovery status and by groundwater quality class
 * (templates/analysis/overview.html). Configuration: the JSON in #analysis-map-config.
 * Popups are built with escape.js's Aquifer.html (zone names are user data).
 */
(function () {
  "use strict";

  var html = window.Aquifer.html;

  function init() {
    var source = document.getElementById("analysis-map-config");
    if (!source || !window.L) return;
    var cfg = JSON.parse(source.textContent);
    function makeMap(id) {
      var m = L.map(id, { attributionControl: false });
      m.fitBounds(cfg.bounds);
      return m;
    }
    var statusMap = makeMap("status-map"), qualityMap = makeMap("quality-map");
    fetch(cfg.url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (data) {
      L.geoJSON(data, {
        style: function (f) {
          return { color: "#555", weight: 1, fillOpacity: 0.6,
                   fillColor: cfg.statusColours[f.properties.status] || "#bdbdbd" };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(html`<strong>${p.name}</strong><br>${cfg.text.status}: ${p.status_label}`);
        }
      }).addTo(statusMap);
      L.geoJSON(data, {
        style: function (f) {
          return { color: "#555", weight: 1, fillOpacity: 0.6,
                   fillColor: cfg.classColours[f.properties.quality_class || ""] };
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(
            html`<strong>${p.name}</strong><br>${cfg.text.klass}: ${p.quality_class || cfg.text.none}`);
        }
      }).addTo(qualityMap);
      document.getElementById("status-map").dataset.loaded = String(data.features.length);
    }).catch(function () {
      var e = document.getElementById("map-error");
      e.textContent = cfg.text.loadError;
      e.hidden = false;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
