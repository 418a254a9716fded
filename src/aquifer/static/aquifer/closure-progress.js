// closure/progress.html: removed volume against target per township and per zone (moved out
// of the page for the Content-Security-Policy).
(function () {
  const c = JSON.parse(document.getElementById("progress-chart-data").textContent);
  const labels = JSON.parse(document.getElementById("progress-chart-labels").textContent);
  if (!window.Plotly) return;
  function bars(id, names, removed, target) {
    if (!names.length) return;
    Plotly.newPlot(id, [
      {type: "bar", name: labels.removed, x: names, y: removed, marker: {color: "#1a9641"}},
      {type: "bar", name: labels.target, x: names, y: target, marker: {color: "rgba(150,150,150,0.5)"}}
    ], {barmode: "group", margin: {t: 10, r: 10, b: 80, l: 70},
        yaxis: {title: {text: "m³"}}, legend: {orientation: "h"}},
    {responsive: true, displaylogo: false});
  }
  bars("progress-chart", c.names, c.removed, c.target);
  bars("progress-zone-chart", c.zone_names, c.zone_removed, c.zone_target);
})();
