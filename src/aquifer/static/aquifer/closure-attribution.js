// closure/attribution.html: observed and simulated head with the two contributions (moved
// out of the page for the Content-Security-Policy).
(function () {
  const c = JSON.parse(document.getElementById("attribution-chart-data").textContent);
  const l = JSON.parse(document.getElementById("attribution-chart-labels").textContent);
  if (!window.Plotly) return;
  const traces = [
    {type: "scatter", mode: "markers", name: l.observed, x: c.dates, y: c.observed, marker: {size: 3, color: "#333"}},
    {type: "scatter", mode: "lines", name: l.simulated, x: c.dates, y: c.simulated, line: {color: "#1f77b4"}},
    {type: "scatter", mode: "lines", name: l.weather, x: c.dates, y: c.weather, yaxis: "y2", line: {color: "#2ca02c"}}
  ];
  if (c.pumping.length) {
    traces.push({type: "scatter", mode: "lines", name: l.pumping, x: c.dates, y: c.pumping, yaxis: "y2", line: {color: "#d62728"}});
  }
  Plotly.newPlot("attribution-chart", traces, {
    margin: {t: 10, r: 60, b: 40, l: 60}, legend: {orientation: "h"},
    yaxis: {title: {text: "m"}}, yaxis2: {overlaying: "y", side: "right", title: {text: "m"}}
  }, {responsive: true, displaylogo: false});
})();
