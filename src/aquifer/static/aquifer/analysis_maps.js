// analysis/overview.html: moved out of the page for the Content-Security-Policy.
(function () {
  const cfg = JSON.parse(document.getElementById("analysis-map-config").textContent);
  function makeMap(id) {
    const m = L.map(id, {attributionControl: false});
    m.fitBounds(cfg.bounds);
    return m;
  }
  const statusMap = makeMap("status-map"), qualityMap = makeMap("quality-map");
  fetch(cfg.url, {credentials: "same-origin"}).then(r => {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(data => {
    L.geoJSON(data, {
      style: f => ({color: "#555", weight: 1, fillOpacity: 0.6,
                    fillColor: cfg.statusColours[f.properties.status] || "#bdbdbd"}),
      onEachFeature: (f, layer) => layer.bindPopup(
        `<strong>${f.properties.name}</strong><br>${cfg.text.status}: ${f.properties.status_label}`)
    }).addTo(statusMap);
    L.geoJSON(data, {
      style: f => ({color: "#555", weight: 1, fillOpacity: 0.6,
                    fillColor: cfg.classColours[f.properties.quality_class || ""]}),
      onEachFeature: (f, layer) => layer.bindPopup(
        `<strong>${f.properties.name}</strong><br>${cfg.text.klass}: ${f.properties.quality_class || cfg.text.none}`)
    }).addTo(qualityMap);
  }).catch(() => {
    const e = document.getElementById("map-error");
    e.textContent = cfg.text.loadError; e.hidden = false;
  });
})();
