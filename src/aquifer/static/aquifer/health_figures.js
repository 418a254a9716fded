// monitoring/health_figures.html: moved out of the page for the Content-Security-Policy.
(function () {
  var d = JSON.parse(document.getElementById("health-data").textContent);
  var traces = [
    {x: d.county.x, y: d.county.online, name: d.text.county + " " + d.text.online, mode: "lines", line: {width: 3}},
    {x: d.county.x, y: d.county.complete, name: d.text.county + " " + d.text.complete, mode: "lines", line: {width: 3, dash: "dot"}}
  ];
  Object.keys(d.townships).forEach(function (name) {
    var s = d.townships[name];
    traces.push({x: s.x, y: s.online, name: name + " " + d.text.online, mode: "lines", visible: "legendonly"});
    traces.push({x: s.x, y: s.complete, name: name + " " + d.text.complete, mode: "lines", visible: "legendonly"});
  });
  Plotly.newPlot("health-chart", traces, {yaxis: {tickformat: ".0%", range: [0, 1.05]}, margin: {t: 20}}, {responsive: true});
})();
