// accounting/withdrawals.html: moved out of the page for the Content-Security-Policy.
(function () {
  const c = JSON.parse(document.getElementById("withdrawal-chart-data").textContent);
  Plotly.newPlot("withdrawal-chart", [
    {type: "bar", name: c.labels.metered, x: c.x, y: c.metered, marker: {color: "#1f77b4"}},
    {type: "bar", name: c.labels.estimated, x: c.x, y: c.estimated,
     marker: {color: "rgba(255,127,14,0.55)", pattern: {shape: "/"}}}
  ], {barmode: "stack", margin: {t: 10, r: 10, b: 60, l: 70},
      yaxis: {title: {text: c.labels.unit}}, legend: {orientation: "h"}},
  {responsive: true, displaylogo: false});
})();
