/*
 * The portal's maps (templates/portal/): the public wells coloured by trend status (home), the
 * zones (zones page), and the place picker of the complaint form (click sets lon/lat).
 * Configuration: the JSON in #portal-map-config. Popups use escape.js's Aquifer.html.
 */
(function () {
  "use strict";

  var CENTRE = [35.48, 112.42];

  function init() {
    var source = document.getElementById("portal-map-config");
    var el = document.getElementById("portal-map");
    if (!source || !el || !window.L) return;
    var cfg = JSON.parse(source.textContent);
    var map = L.map(el, { attributionControl: false }).setView(CENTRE, 10);
    if (cfg.pick) {
      var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
      var marker = null;
      map.on("click", function (e) {
        lon.value = e.latlng.lng.toFixed(6);
        lat.value = e.latlng.lat.toFixed(6);
        if (marker) marker.setLatLng(e.latlng); else marker = L.marker(e.latlng).addTo(map);
      });
      return;
    }
    var html = window.Aquifer && window.Aquifer.html;
    fetch(cfg.url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 5, weight: 1, color: "#333", fillOpacity: 0.9,
              fillColor: (cfg.colours || {})[f.properties.status] || "#bdbdbd" });
          },
          style: function () { return { weight: 1, color: "#555", fillOpacity: 0.3 }; },
          onEachFeature: function (f, l) {
            var p = f.properties;
            if (cfg.wellPath && html) {
              var href = new URL(cfg.wellPath + encodeURIComponent(p.code) + "/", location.href);
              l.bindPopup(html`<a href="${href.pathname}">${p.code}</a>`);
            } else if (html) {
              l.bindPopup(html`<strong>${p.name}</strong><br>${p.kind_label}`);
            }
          }
        }).addTo(map);
        if (data.features.length) map.fitBounds(layer.getBounds());
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
