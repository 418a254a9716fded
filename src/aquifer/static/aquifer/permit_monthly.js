// permits/detail.html: moved out of the page for the Content-Security-Policy.
(function () {
  var el = document.getElementById("monthly-chart");
  if (!el || !window.Plotly) return;
  var months = JSON.parse(el.dataset.months || "null") || [];
  var x = months.map(function (m) { return m.month; });
  Plotly.newPlot(el, [
    {type: "bar", name: el.dataset.labelMetered, x: x, y: months.map(function (m) { return m.metered_m3; })},
    {type: "bar", name: el.dataset.labelEstimated, x: x, y: months.map(function (m) { return m.estimated_m3; })}
  ], {barmode: "stack", margin: {t: 10, r: 10, b: 40, l: 60},
      xaxis: {title: el.dataset.labelMonth, dtick: 1}, yaxis: {title: "m³"}},
     {displaylogo: false, responsive: true});
})();
