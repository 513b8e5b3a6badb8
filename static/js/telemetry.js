// Battery and meter pages: history charts from the series API, then live updates from the tenant
// websocket ("telemetry.readings" events carry every new point of every asset, coalesced).
(function () {
  "use strict";
  var MAX_POINTS = 3000;
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];

  function number(value, digits) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value === "number") { return String(Math.round(value * Math.pow(10, digits)) / Math.pow(10, digits)); }
    return String(value);
  }
  var zone = null;  // the tenant's time zone, as the server-rendered times use
  function when(iso) {
    try { return new Date(iso).toLocaleString([], zone ? { timeZone: zone } : {}); } catch (e) { return new Date(iso).toLocaleString(); }
  }

  // --- Lists and site pages: refresh the cells of the rows shown -------------------------------------
  function updateTables(update) {
    document.querySelectorAll('[data-live-table="' + update.kind + '"] tr[data-asset="' + update.asset + '"]').forEach(function (row) {
      var values = update.latest.values;
      row.querySelectorAll("[data-metric]").forEach(function (cell) {
        var name = cell.dataset.metric;
        if (name === "time") { cell.textContent = when(update.latest.time); }
        else if (values[name] !== undefined) { cell.textContent = number(values[name], name === "current" ? 2 : 1); }
      });
    });
  }

  // --- Asset page --------------------------------------------------------------------------------------
  var configNode = document.getElementById("telemetry-config");
  var config = configNode ? JSON.parse(configNode.textContent) : null;
  if (config) { zone = config.tz; }
  var charts = [];
  var cellsChart = null;
  var rangeHours = 24;

  function lineOptions(unit) {
    return {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      plugins: { legend: { display: true } },
      scales: {
        x: { type: "linear", ticks: { maxTicksLimit: 6, callback: function (v) {
          var d = new Date(v), options = zone ? { timeZone: zone } : {};
          return rangeHours > 48 ? d.toLocaleDateString([], options) : d.toLocaleTimeString([], Object.assign({ hour: "2-digit", minute: "2-digit" }, options));
        } } },
        y: { title: { display: !!unit, text: unit } }
      }
    };
  }

  function seriesUrl(metrics) {
    var end = new Date();
    var start = new Date(end.getTime() - rangeHours * 3600 * 1000);
    return config.series + "?assets=" + config.kind + ":" + config.asset + "&metrics=" + metrics.join(",") +
      "&start=" + start.toISOString() + "&end=" + end.toISOString() + "&interval=auto";
  }

  function updateExportLinks() {
    var end = new Date();
    var start = new Date(end.getTime() - rangeHours * 3600 * 1000);
    document.querySelectorAll("[data-export]").forEach(function (link) {
      var base = link.getAttribute("href").split("?")[0];
      link.setAttribute("href", base + "?assets=" + config.kind + ":" + config.asset + "&start=" + start.toISOString() +
        "&end=" + end.toISOString() + "&interval=auto" + (config.kind === "battery" ? "&metrics=voltage,current,temperature,soc,soh" : "&metrics=power,voltage,current,energy_wh"));
    });
  }

  function loadCharts() {
    if (!window.Chart) { return; }
    charts.forEach(function (entry) { entry.chart.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var metrics = canvas.dataset.chart.split(",");
      var chart = new Chart(canvas, { type: "line", data: { datasets: metrics.map(function (metric, i) {
        return { label: metric, data: [], borderColor: COLOURS[i % COLOURS.length], pointRadius: 0, borderWidth: 1.5 };
      }) }, options: lineOptions("") });
      var entry = { chart: chart, metrics: metrics };
      charts.push(entry);
      fetch(seriesUrl(metrics), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          (body.series || []).forEach(function (series) {
            var index = metrics.indexOf(series.metric);
            if (index < 0) { return; }
            chart.data.datasets[index].label = series.metric + (series.unit ? " (" + series.unit + ")" : "");
            chart.data.datasets[index].data = series.points.map(function (p) { return { x: Date.parse(p[0]), y: p[1] }; });
          });
          chart.update();
        });
    });
    updateExportLinks();
  }

  function drawCells(cells) {
    if (!window.Chart || !cells || !cells.length) { return; }
    var canvas = document.getElementById("cells-chart");
    if (!canvas) { return; }
    var low = Math.min.apply(null, cells), high = Math.max.apply(null, cells);
    var colours = cells.map(function (v) { return v === high ? "#d62728" : (v === low ? "#1f77b4" : "#8c8c8c"); });
    var labels = cells.map(function (_v, i) { return String(i + 1); });
    if (!cellsChart) {
      cellsChart = new Chart(canvas, { type: "bar", data: { labels: labels, datasets: [{ label: "V", data: cells, backgroundColor: colours }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
          scales: { y: { min: Math.floor((low - 0.05) * 100) / 100, max: Math.ceil((high + 0.05) * 100) / 100 } } } });
    } else {
      cellsChart.data.labels = labels;
      cellsChart.data.datasets[0].data = cells;
      cellsChart.data.datasets[0].backgroundColor = colours;
      cellsChart.options.scales.y.min = Math.floor((low - 0.05) * 100) / 100;
      cellsChart.options.scales.y.max = Math.ceil((high + 0.05) * 100) / 100;
      cellsChart.update();
    }
    var spread = document.querySelector('[data-live="spread"]');
    if (spread) { spread.textContent = String(Math.round((high - low) * 1000)); }
    var text = document.getElementById("cells-text");
    if (text) { text.textContent = cells.join(" · ") + " V — min " + low + " V, max " + high + " V"; }
  }

  // Live points come column by column: points.t (unix ms) and one array per metric.
  function pointRows(points, last) {
    var rows = [], start = Math.max(0, points.t.length - (last || points.t.length));
    for (var i = start; i < points.t.length; i++) {
      var values = {};
      Object.keys(points).forEach(function (name) { if (name !== "t" && points[name][i] !== null) { values[name] = points[name][i]; } });
      rows.push([points.t[i], values]);
    }
    return rows;
  }

  function prependRecent(points) {
    var body = document.querySelector("#recent-table tbody");
    if (!body) { return; }
    var columns = config.kind === "battery" ? ["voltage", "current", "soc", "temperature", "state"] : ["power", "voltage", "current", "energy_total_wh"];
    pointRows(points, 10).forEach(function (point) {
      var row = document.createElement("tr");
      var cells = [when(point[0])].concat(columns.map(function (c) { return number(point[1][c], c === "current" ? 2 : 1); }));
      cells.forEach(function (text) { var td = document.createElement("td"); td.textContent = text; row.appendChild(td); });
      body.insertBefore(row, body.firstChild);
    });
    while (body.rows.length > 10) { body.deleteRow(body.rows.length - 1); }
    var empty = body.querySelector("td[colspan]");
    if (empty) { empty.parentNode.remove(); }
  }

  function applyToPage(update) {
    var values = update.latest.values;
    document.querySelectorAll("[data-live]").forEach(function (node) {
      var name = node.dataset.live;
      if (name === "time") { node.textContent = when(update.latest.time); }
      else if (values[name] !== undefined && name !== "spread") { node.textContent = number(values[name], 3); }
    });
    if (config.threshold !== null && values.power !== undefined) {
      var banner = document.getElementById("threshold-alert");
      if (banner) { banner.hidden = !(values.power > config.threshold); }
    }
    if (config.cells && values.cell_voltages) { drawCells(values.cell_voltages); }
    var horizon = Date.now() - rangeHours * 3600 * 1000;
    var times = update.points.t;
    charts.forEach(function (entry) {
      entry.metrics.forEach(function (metric, index) {
        var data = entry.chart.data.datasets[index].data, column = update.points[metric];
        if (!column) { return; }
        for (var i = 0; i < times.length; i++) {
          if (column[i] !== null) { data.push({ x: times[i], y: column[i] }); }
        }
        while (data.length && (data[0].x < horizon || data.length > MAX_POINTS)) { data.shift(); }
      });
      entry.chart.update("none");
    });
    prependRecent(update.points);
  }

  document.addEventListener("voltwatch:event", function (event) {
    var message = event.detail;
    if (!message || message.type !== "telemetry.readings") { return; }
    (message.payload.updates || []).forEach(function (update) {
      updateTables(update);
      if (config && update.kind === config.kind && update.asset === config.asset) { applyToPage(update); }
    });
  });

  if (config) {
    var range = document.querySelector("[data-range]");
    if (range) { range.addEventListener("change", function () { rangeHours = parseInt(range.value, 10); loadCharts(); }); }
    var start = function () {
      loadCharts();
      if (config.cells && config.initial_cells) { drawCells(config.initial_cells); }
    };
    if (window.Chart) { start(); } else { window.addEventListener("load", start); }
  }
})();
