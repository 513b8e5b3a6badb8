// Device page: 24-hour history charts from the fleet API (the table below them says the same).
(function () {
  "use strict";
  var canvas = document.getElementById("chart-system");
  if (!canvas || !window.Chart) { return; }
  var url = canvas.dataset.history + "?points=144";
  var charts = [];

  function draw(history) {
    var labels = history.points.map(function (p) { return new Date(p.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); });
    var series = function (key) { return history.points.map(function (p) { return p[key]; }); };
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [
      new Chart(canvas, { type: "line", data: { labels: labels, datasets: [
        { label: "CPU %", data: series("cpu") }, { label: "Memory %", data: series("memory") }, { label: "Disk %", data: series("disk") }
      ] }, options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } } }),
      new Chart(document.getElementById("chart-temperature"), { type: "line", data: { labels: labels, datasets: [
        { label: "°C", data: series("temperature"), borderColor: "#b3261e" }
      ] }, options: { animation: false, maintainAspectRatio: false } })
    ];
  }

  function load() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); }).then(draw);
  }
  load();
  document.addEventListener("voltwatch:fleet", load);
})();
