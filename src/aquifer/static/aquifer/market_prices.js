// rights/market.html: moved out of the page for the Content-Security-Policy.
(function () {
  var el = document.getElementById("price-chart");
  var data = JSON.parse(el.dataset.prices || "{}");
  var labels = JSON.parse(el.dataset.labels || "{}");
  var traces = Object.keys(data).map(function (k) {
    return {name: labels[k] || k, mode: "lines+markers", x: data[k].map(function (p) { return p.date; }),
            y: data[k].map(function (p) { return p.price; }),
            text: data[k].map(function (p) { return p.number + " · " + p.volume_m3 + " m³"; })};
  });
  if (!traces.length) { el.textContent = el.dataset.msgEmpty; return; }
  if (window.Plotly) {
    Plotly.newPlot(el, traces, {margin: {t: 10}, yaxis: {title: el.dataset.axisPrice}}, {displaylogo: false, responsive: true});
  }
})();
