// monitoring/health_map.html: moved out of the page for the Content-Security-Policy.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("health-config").textContent);
  var el = document.getElementById("health-map");
  var map = L.map(el, { zoomSnap: 0.25 });
  map.fitBounds(config.bounds);
  function esc(v) { return String(v == null ? "" : v).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]; }); }
  function get(url) { return fetch(url, {credentials: "same-origin"}).then(function (r) {
    if (!r.ok) { throw new Error(r.status); } return r.json(); }); }
  get(config.townships).then(function (data) {
    L.geoJSON(data, {style: {color: "#555", weight: 1.5, fill: false, dashArray: "4 3"}}).addTo(map);
  });
  get(config.url).then(function (data) {
    L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 6, color: "#fff", weight: 1, fillOpacity: 0.9,
          fillColor: config.colours[f.properties.state] || "#999",
          className: "device-marker device-" + f.properties.state});
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup("<strong>" + esc(p.station) + "</strong> " + esc(p.well) + "<br>" +
          esc(config.labels[p.state] || p.state) + "<br>" + esc(p.last || "—") +
          "<br><a href=\"" + esc(p.url) + "\">»</a>");
      }
    }).addTo(map);
    el.dataset.loaded = String(data.features.length);
  }).catch(function () {
    var e = document.getElementById("map-error"); e.textContent = "!"; e.hidden = false;
  });
})();
