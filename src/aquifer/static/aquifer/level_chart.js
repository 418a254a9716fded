// analysis/well_detail.html: moved out of the page for the Content-Security-Policy.
(function () {
  const el = document.getElementById("level-plot");
  if (!el) return;
  const c = JSON.parse(document.getElementById("level-chart-data").textContent);
  const traces = [{x: c.x, y: c.y, mode: "lines+markers", name: c.text.monthly, connectgaps: false}];
  if (c.line && c.line.length) traces.push({x: c.x, y: c.line, mode: "lines", name: c.text.trend, line: {dash: "dash", color: "#d62728"}});
  if (c.forecast) {
    const f = c.forecast;
    traces.push({x: f.months, y: f.upper, mode: "lines", line: {width: 0}, showlegend: false, hoverinfo: "skip"});
    traces.push({x: f.months, y: f.lower, mode: "lines", line: {width: 0}, fill: "tonexty", fillcolor: "rgba(44,160,44,0.2)", name: c.text.band});
    traces.push({x: f.months, y: f.values, mode: "lines", name: c.text.forecast, line: {color: "#2ca02c"}});
  }
  Plotly.newPlot(el, traces, {
    margin: {t: 10, r: 10, b: 40, l: 60},
    yaxis: {title: {text: c.text.axis}, autorange: c.reversed ? "reversed" : true},
    legend: {orientation: "h"}
  }, {responsive: true, displaylogo: false});
})();
