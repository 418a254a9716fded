/* A well's reading series as a Plotly chart (templates/telemetry/_series_chart.html).
 *
 * Fetches GET /api/wells/<id>/series?element=…&resolution=auto&max_points=… and draws the
 * value line with the min–max envelope of what each point stands for. Zooming in fetches the
 * zoomed range again (the server picks a finer resolution when the range allows it); a double
 * click returns to the chosen period. Times: the API sends ISO times with the county's UTC
 * offset; the chart shows that wall-clock time, whatever the browser's time zone, and sends
 * zoomed ranges back without offset (the server reads them as county time).
 * Every text comes from the template (translated there): nothing here needs translating.
 */
(function () {
  "use strict";

  var DAY_MS = 86400000;

  function wallTime(iso) {
    // "2024-05-01T08:00:00+08:00" -> "2024-05-01 08:00:00" (drop the offset: county time)
    return iso.replace("T", " ").replace(/([+-]\d\d:\d\d|Z)$/, "");
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  var localeName = null;

  function plotlyLocale() {
    // Month and weekday names for the date axis in the page's language, from the browser's
    // Intl data (plotly.min.js ships English only); messages stay Plotly's own.
    if (localeName !== null) return localeName || undefined;
    localeName = "";
    var lang = document.documentElement.lang || "";
    if (!lang || lang.indexOf("en") === 0 || !window.Intl) return undefined;
    try {
      var names = function (options, count, date) {
        var fmt = new Intl.DateTimeFormat(lang, options);
        var out = [];
        for (var i = 0; i < count; i++) out.push(fmt.format(date(i)));
        return out;
      };
      var month = function (i) { return new Date(2024, i, 15); };
      var day = function (i) { return new Date(2024, 0, 7 + i); }; // 2024-01-07: a Sunday
      window.Plotly.register({
        moduleType: "locale",
        name: "aquifer-" + lang,
        dictionary: {},
        format: {
          months: names({ month: "long" }, 12, month),
          shortMonths: names({ month: "short" }, 12, month),
          days: names({ weekday: "long" }, 7, day),
          shortDays: names({ weekday: "short" }, 7, day),
          date: "%Y-%m-%d",
        },
      });
      localeName = "aquifer-" + lang;
    } catch (e) {
      localeName = "";
    }
    return localeName || undefined;
  }

  function init(section) {
    if (section.dataset.seriesReady) return;
    section.dataset.seriesReady = "1";
    var d = section.dataset;
    var plot = section.querySelector(".series-plot");
    var status = section.querySelector(".series-status");
    var elementSelect = section.querySelector(".series-element");
    var rangeSelect = section.querySelector(".series-range");
    var zoom = null; // [start, end] in county wall time while zoomed in
    var request = 0; // answers to superseded requests are dropped
    var timer = null;

    function budget() {
      var width = plot.clientWidth || 800;
      return Math.max(200, Math.min(3000, Math.round(width * 1.5)));
    }

    function load() {
      var params = new URLSearchParams({
        element: elementSelect.value,
        resolution: "auto",
        max_points: String(budget()),
      });
      if (zoom) {
        params.set("start", zoom[0]);
        params.set("end", zoom[1]);
      } else if (rangeSelect.value) {
        var start = new Date(Date.now() - Number(rangeSelect.value) * DAY_MS);
        params.set("start", start.toISOString());
      }
      var mine = ++request;
      status.textContent = d.msgLoading;
      fetch(d.url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (body) {
          if (mine === request) draw(body);
        })
        .catch(function () {
          if (mine === request) status.textContent = d.msgError;
        });
    }

    function draw(body) {
      var option = elementSelect.options[elementSelect.selectedIndex];
      var name = option.textContent.trim();
      var unit = body.unit ? " (" + body.unit + ")" : "";
      var t = [], v = [], lo = [], hi = [], band = false;
      body.points.forEach(function (p) {
        t.push(wallTime(p[0]));
        v.push(p[1]);
        lo.push(p[2]);
        hi.push(p[3]);
        if (p[2] !== p[3]) band = true;
      });
      if (!t.length && !zoom) {
        if (window.Plotly) window.Plotly.purge(plot);
        status.textContent = d.msgEmpty;
        return;
      }
      var traces = [];
      if (band) {
        traces.push({
          x: t, y: hi, type: "scatter", mode: "lines", line: { width: 0 },
          hoverinfo: "skip", showlegend: false,
        });
        traces.push({
          x: t, y: lo, type: "scatter", mode: "lines", line: { width: 0 },
          fill: "tonexty", fillcolor: "rgba(31, 119, 180, 0.3)", name: d.msgRange,
          hoverinfo: "skip", showlegend: false,
        });
      }
      traces.push({
        x: t, y: v, type: "scatter", mode: t.length > 60 ? "lines" : "lines+markers",
        name: name, line: { color: "#1f77b4", width: 1.5 }, marker: { size: 4 },
        hovertemplate: "%{x}<br>%{y}" + unit + "<extra></extra>",
      });
      var layout = {
        margin: { l: 64, r: 16, t: 8, b: 40 },
        showlegend: false,
        hovermode: "closest",
        uirevision: elementSelect.value + "|" + rangeSelect.value,
        xaxis: { type: "date" },
        yaxis: {
          title: { text: name + unit },
          // Depth to water grows downward, as on a hydrograph.
          autorange: option.dataset.reversed ? "reversed" : true,
        },
      };
      var config = { responsive: true, displaylogo: false };
      // Plotly throws on `locale: undefined` (English pages): name a locale only when there is one.
      var locale = plotlyLocale();
      if (locale) config.locale = locale;
      window.Plotly.react(plot, traces, layout, config);
      status.textContent = format(d.msgPoints, {
        shown: t.length,
        total: body.source_points,
        resolution: d["res" + body.resolution.charAt(0).toUpperCase() + body.resolution.slice(1)],
      });
      if (!plot.dataset.seriesBound) {
        plot.dataset.seriesBound = "1";
        plot.on("plotly_relayout", onRelayout);
      }
    }

    function onRelayout(ev) {
      var next = zoom;
      if (ev["xaxis.autorange"]) next = null;
      else if (ev["xaxis.range[0]"] !== undefined) {
        next = [String(ev["xaxis.range[0]"]), String(ev["xaxis.range[1]"])];
      } else if (ev["xaxis.range"]) next = [String(ev["xaxis.range"][0]), String(ev["xaxis.range"][1])];
      if (next === zoom) return;
      zoom = next;
      clearTimeout(timer);
      timer = setTimeout(load, 250);
    }

    function reset() {
      zoom = null;
      load();
    }

    elementSelect.addEventListener("change", reset);
    rangeSelect.addEventListener("change", reset);
    load();
  }

  function initAll(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll(".series-chart").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(); });
  } else {
    initAll();
  }
  // Pages that swap in a chart with htmx.
  document.addEventListener("htmx:load", function (ev) { initAll(ev.target); });
})();
