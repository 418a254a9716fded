/*
 * Aquifer's maps (Leaflet, vector layers only; no build step).
 *
 * - #map: the county map. Its configuration (endpoints, colours, translated text) is the JSON
 *   in the element named by data-config. Layers: township outlines with labels, zones filled
 *   by kind, wells as circle markers coloured by status. Each well marker carries the class
 *   "well-marker" and data-well-id; #well-count shows how many wells were drawn, and the map
 *   element gets data-wells-loaded="true" when they are.
 * - .mini-map: a small map of one record; its JSON lists the features to draw.
 *
 * HTML made from data (popups, tooltips, layer names) goes through escape.js's Aquifer.html.
 * A base tile layer is added only when the installation sets one (AQUIFER TILE_URL).
 */
(function () {
  "use strict";

  function readConfig(el) {
    var script = document.getElementById(el.dataset.config);
    return script ? JSON.parse(script.textContent) : {};
  }

  // HTML from data only through escape.js (loaded first): every ${…} is escaped.
  var html = window.Aquifer.html, raw = window.Aquifer.raw, escapeHtml = window.Aquifer.esc;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ": HTTP " + response.status); }
        return response.json();
      });
  }

  function baseMap(el, config) {
    var map = L.map(el, { zoomSnap: 0.25 });
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 18 })
        .addTo(map);
    }
    if (config.bounds) { map.fitBounds(config.bounds); }
    return map;
  }

  function showError(message) {
    var el = document.getElementById("map-error");
    if (el) { el.textContent = message; el.hidden = false; }
  }

  function townshipLayer(data, text) {
    return L.geoJSON(data, {
      pane: "townships",
      style: { color: "#555", weight: 1.5, fill: false, dashArray: "4 3" },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        layer.bindTooltip(escapeHtml(p.name), {
          permanent: true, direction: "center", className: "township-label"
        });
        var note = p.approximate ? raw(html`<br><em>${text.approximate}</em>`) : "";
        layer.bindPopup(html`<strong>${p.name}</strong> ${p.code}${note}`);
      }
    });
  }

  function zoneLayer(data, config) {
    var text = config.text;
    return L.geoJSON(data, {
      pane: "zones",
      style: function (feature) {
        var colour = config.zoneColours[feature.properties.kind] || "#888";
        return { color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.3 };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        layer.bindPopup(html`<strong>${p.name}</strong><br>${p.kind_label}<br>` +
          html`<a href="${p.url}">${text.details}</a>`);
      }
    });
  }

  function wellLayer(data, config) {
    var text = config.text;
    return L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        var status = feature.properties.status;
        return L.circleMarker(latlng, {
          pane: "wells", radius: 6, color: "#ffffff", weight: 1, fillOpacity: 0.9,
          fillColor: config.statusColours[status] || "#333",
          className: "well-marker well-status-" + status
        });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        var status = config.statusLabels[p.status] || p.status;
        layer.bindPopup(html`<strong>${p.code}</strong> ${p.name}<br>` +
          html`${text.status}: ${status}<br>${text.township}: ${p.township}<br>` +
          html`<a href="${p.url}">${text.details}</a>`);
        layer.on("add", function () {
          var path = layer.getElement();
          if (path) { path.setAttribute("data-well-id", feature.id); }
        });
      }
    });
  }

  function countyMap(el) {
    var config = readConfig(el);
    var map = baseMap(el, config);
    map.createPane("zones").style.zIndex = 410;
    map.createPane("townships").style.zIndex = 420;
    map.createPane("wells").style.zIndex = 430;
    var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
    var countEl = document.getElementById("well-count");
    var text = config.text;

    getJSON(config.urls.zones).then(function (data) {
      var layer = zoneLayer(data, config);
      layer.addTo(map);
      control.addOverlay(layer, escapeHtml(text.zones));
    }).catch(function () { showError(text.loadError); });

    getJSON(config.urls.townships).then(function (data) {
      var layer = townshipLayer(data, text);
      layer.addTo(map);
      control.addOverlay(layer, escapeHtml(text.townships));
    }).catch(function () { showError(text.loadError); });

    if (!config.showWells) {
      if (countEl) { countEl.textContent = "0"; }
      el.dataset.wellsLoaded = "true";
      return;
    }
    getJSON(config.urls.wells).then(function (data) {
      var layer = wellLayer(data, config);
      layer.addTo(map);
      control.addOverlay(layer, escapeHtml(text.wells));
      if (countEl) { countEl.textContent = String(data.features.length); }
      el.dataset.wellsLoaded = "true";
    }).catch(function () {
      if (countEl) { countEl.textContent = "?"; }
      showError(text.loadError);
    });
  }

  function miniMap(el) {
    var config = readConfig(el);
    var map = baseMap(el, config);
    var bounds = L.latLngBounds([]);
    (config.features || []).forEach(function (f) {
      var layer = L.geoJSON(f.geometry, {
        style: f.style,
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, L.extend({
            radius: 7, color: "#ffffff", weight: 2, fillOpacity: 0.95, fillColor: "#333"
          }, f.style || {}));
        }
      }).addTo(map);
      if (f.label) { layer.bindTooltip(escapeHtml(f.label)); }
      bounds.extend(layer.getBounds());
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
    }
  }

  function init() {
    var county = document.getElementById("map");
    if (county && window.L) { countyMap(county); }
    document.querySelectorAll(".mini-map").forEach(function (el) {
      if (window.L) { miniMap(el); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
