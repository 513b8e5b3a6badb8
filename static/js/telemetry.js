// Battery, meter and site pages: history charts from the series API, then live updates from the tenant
// websocket. portal.js re-dispatches every websocket message as a "voltwatch:event"; the
// "telemetry.readings" ones carry every new point of every asset of the tenant, coalesced.
(function () {
  "use strict";

  var MAX_POINTS = 4000;  // per dataset: a chart never holds more, whatever the range and the rate
  var COLOURS = ["#0b6bcb", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];
  var BUCKET_MS = { raw: 0, "1m": 60000, "1h": 3600000, "1d": 86400000 };
  var lang = document.documentElement.lang || undefined;

  var configNode = document.getElementById("telemetry-config");
  var config = configNode ? JSON.parse(configNode.textContent) : null;
  var zone = config ? config.tz : null;

  // --- Formatting, as the server renders the same values -----------------------------------------
  function number(value, digits) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value !== "number") { return String(value); }
    if (digits === null || digits === undefined || isNaN(digits)) { return String(value); }
    var rounded = Number(value.toFixed(digits)) || 0;  // never "-0.00"
    return rounded.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
  }

  // As the server writes times: the short date, then the time to the second, in the tenant's zone.
  function when(time, timeZone) {
    var moment = new Date(time), day = { year: "numeric", month: "2-digit", day: "2-digit" };
    var clock = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    timeZone = timeZone || zone;
    if (timeZone) { day.timeZone = timeZone; clock.timeZone = timeZone; }
    try { return moment.toLocaleDateString(lang, day) + " " + moment.toLocaleTimeString(lang, clock); } catch (e) { return moment.toLocaleString(); }
  }

  function text(key, values) {
    var template = (config && config.text && config.text[key]) || key;
    return template.replace(/%\((\w+)\)[sd]/g, function (_m, name) { return values && values[name] !== undefined ? values[name] : ""; });
  }

  function flagsText(value) {
    if (value === null || value === undefined) { return "—"; }
    if (!value) { return text("none"); }
    var names = (config && config.flag_names) || [], parts = [];
    for (var bit = 0; bit < 63; bit++) {
      if (Math.floor(value / Math.pow(2, bit)) % 2 === 1) { parts.push(bit < names.length ? names[bit] : text("bit", { bit: bit })); }
    }
    return parts.join(", ");
  }

  function display(name, value, digits) {
    if (value === null || value === undefined) { return "—"; }
    if (name === "error_flags") { return flagsText(value); }
    if (value === true) { return text("yes"); }
    if (value === false) { return text("no"); }
    return number(value, digits);
  }

  // --- Event shapes -----------------------------------------------------------------------------------
  // payload: {"updates": [update, …]} (or one update); update.points: columns {"t": [unix ms], metric: […]}
  // or rows [[iso time, {metric: value}], …]. Both become rows [[unix ms, {metric: value}], …].
  function updatesOf(payload) {
    if (!payload) { return []; }
    if (Array.isArray(payload.updates)) { return payload.updates; }
    return payload.kind ? [payload] : [];
  }

  function pointRows(points) {
    if (!points) { return []; }
    if (Array.isArray(points)) {
      return points.map(function (p) { return [typeof p[0] === "number" ? p[0] : Date.parse(p[0]), p[1] || {}]; });
    }
    var rows = [], times = points.t || [];
    for (var i = 0; i < times.length; i++) {
      var values = {};
      for (var name in points) {
        if (name !== "t" && points[name] && points[name][i] !== null && points[name][i] !== undefined) { values[name] = points[name][i]; }
      }
      rows.push([times[i], values]);
    }
    return rows;
  }

  // --- Lists and site pages: the cells of the rows shown ------------------------------------------
  function updateTables(update) {
    var rows = document.querySelectorAll('[data-live-table="' + update.kind + '"] tr[data-asset="' + update.asset + '"]');
    rows.forEach(function (row) {
      var values = update.latest.values || {}, timeZone = row.closest("table").dataset.tz;
      row.querySelectorAll("[data-metric]").forEach(function (cell) {
        var name = cell.dataset.metric;
        if (name === "time") { cell.textContent = when(update.latest.time, timeZone); }
        else if (values[name] !== undefined) { cell.textContent = number(values[name], parseInt(cell.dataset.digits, 10)); }
      });
    });
  }

  // --- Asset page: cards, banner, cells ------------------------------------------------------------
  function withSpread(values) {
    var result = Object.assign({}, values);
    var low = values.cell_voltage_min, high = values.cell_voltage_max;
    if ((low === undefined || high === undefined) && values.cell_voltages && values.cell_voltages.length) {
      low = Math.min.apply(null, values.cell_voltages);
      high = Math.max.apply(null, values.cell_voltages);
    }
    if (low !== undefined && high !== undefined && low !== null && high !== null) { result.spread = (high - low) * 1000; }
    return result;
  }

  function updateCards(latest) {
    var values = withSpread(latest.values || {});
    document.querySelectorAll("[data-live]").forEach(function (node) {
      var name = node.dataset.live;
      if (name === "time") { node.textContent = when(latest.time); return; }
      if (values[name] === undefined) { return; }
      node.textContent = display(name, values[name], node.dataset.digits === undefined ? null : parseInt(node.dataset.digits, 10));
    });
    var banner = document.getElementById("threshold-alert");
    if (banner && config.threshold !== null && typeof values.power === "number") {
      banner.hidden = !(values.power > config.threshold);
    }
    if (config.cells && values.cell_voltages && values.cell_voltages.length) { drawCells(values.cell_voltages); }
  }

  function cellVolts(value) { return value.toLocaleString(lang, { maximumFractionDigits: 3, useGrouping: false }); }

  var cellsChart = null;
  function drawCells(cells) {
    var low = Math.min.apply(null, cells), high = Math.max.apply(null, cells);
    var paragraph = document.getElementById("cells-text");
    if (paragraph) {
      paragraph.textContent = cells.map(cellVolts).join(" · ") + " V — " +
        text("cells", { min: cellVolts(low), max: cellVolts(high), spread: number((high - low) * 1000, 0) });
    }
    var canvas = document.getElementById("cells-chart");
    if (!canvas || !window.Chart) { return; }
    var lowIndex = cells.indexOf(low), highIndex = cells.indexOf(high);
    var colours = cells.map(function (_v, i) { return i === highIndex ? "#d62728" : (i === lowIndex ? "#0b6bcb" : "#8c96a3"); });
    var labels = cells.map(function (_v, i) { return String(i + 1); });
    var margin = Math.max(0.02, (high - low) * 0.5);
    var bounds = { min: Math.floor((low - margin) * 100) / 100, max: Math.ceil((high + margin) * 100) / 100 };
    if (!cellsChart) {
      cellsChart = new Chart(canvas, {
        type: "bar",
        data: { labels: labels, datasets: [{ label: "V", data: cells, backgroundColor: colours }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
          scales: { y: { min: bounds.min, max: bounds.max, title: { display: true, text: "V" } } } }
      });
      return;
    }
    cellsChart.data.labels = labels;
    cellsChart.data.datasets[0].data = cells;
    cellsChart.data.datasets[0].backgroundColor = colours;
    cellsChart.options.scales.y.min = bounds.min;
    cellsChart.options.scales.y.max = bounds.max;
    cellsChart.update("none");
  }

  // --- Asset page: the last readings table ----------------------------------------------------------
  function prependRecent(rows) {
    var table = document.getElementById("recent-table");
    if (!table) { return; }
    var body = table.tBodies[0], keep = config.recent_count || 10;
    var empty = body.querySelector("tr[data-empty]");
    if (empty) { empty.remove(); }
    rows.slice(-keep).forEach(function (point) {
      var row = document.createElement("tr");
      var cells = [when(point[0])].concat(config.columns.map(function (column) {
        return display(column[0], point[1][column[0]], column[1]);
      }));
      cells.forEach(function (value) { var td = document.createElement("td"); td.textContent = value; row.appendChild(td); });
      body.insertBefore(row, body.firstChild);
    });
    while (body.rows.length > keep) { body.deleteRow(body.rows.length - 1); }
  }

  // --- Asset page: history charts -------------------------------------------------------------------
  var charts = [];
  var rangeHours = 24;
  var generation = 0;

  function axisLabel(ms) {
    var options = rangeHours > 48 ? { day: "numeric", month: "short" } : { hour: "2-digit", minute: "2-digit" };
    if (zone) { options.timeZone = zone; }
    return new Date(ms).toLocaleString(lang, options);
  }

  function lineOptions(unit) {
    return {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true, spanGaps: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      plugins: { legend: { display: true },
        tooltip: { callbacks: { title: function (items) { return items.length ? when(items[0].parsed.x) : ""; } } } },
      scales: { x: { type: "linear", ticks: { maxTicksLimit: 6, callback: axisLabel } },
        y: { title: { display: !!unit, text: unit } } }
    };
  }

  function rangeBounds() {
    var end = new Date();
    return { start: new Date(end.getTime() - rangeHours * 3600 * 1000), end: end };
  }

  function query(metrics, bounds) {
    return "assets=" + encodeURIComponent(config.kind + ":" + config.asset) + "&metrics=" + encodeURIComponent(metrics) +
      "&start=" + encodeURIComponent(bounds.start.toISOString()) + "&end=" + encodeURIComponent(bounds.end.toISOString()) +
      "&interval=auto" + (zone ? "&tz=" + encodeURIComponent(zone) : "");
  }

  function updateExportLinks(bounds) {
    document.querySelectorAll("a[data-export]").forEach(function (link) {
      link.setAttribute("href", link.getAttribute("href").split("?")[0] + "?" + query(config.export_metrics, bounds));
    });
  }

  function loadCharts() {
    var bounds = rangeBounds(), mine = ++generation;
    updateExportLinks(bounds);
    if (!window.Chart) { return; }
    var muted = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim();
    if (muted) { Chart.defaults.color = muted; }
    charts.forEach(function (entry) { entry.chart.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var metrics = canvas.dataset.chart.split(",");
      var units = metrics.map(function (m) { return (config.metrics[m] || {}).unit || ""; });
      var sameUnit = units.every(function (u) { return u === units[0]; });
      var chart = new Chart(canvas, {
        type: "line",
        data: { datasets: metrics.map(function (metric, i) {
          var meta = config.metrics[metric] || { label: metric, unit: "" };
          return { label: meta.label + (meta.unit ? " (" + meta.unit + ")" : ""), data: [], borderColor: COLOURS[i % COLOURS.length],
            backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 0, borderWidth: 1.5 };
        }) },
        options: lineOptions(sameUnit ? units[0] : "")
      });
      chart.options.plugins.legend.display = metrics.length > 1;  // one series: the caption names it
      var entry = { chart: chart, metrics: metrics, bucket: 0 };
      charts.push(entry);
      fetch(config.series + "?" + query(metrics.join(","), bounds), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
        .then(function (body) {
          if (mine !== generation) { return; }
          entry.bucket = BUCKET_MS[body.interval] || 0;
          (body.series || []).forEach(function (series) {
            var index = metrics.indexOf(series.metric);
            if (index < 0) { return; }
            chart.data.datasets[index].data = series.points
              .filter(function (p) { return p[1] !== null; })
              .map(function (p) { return { x: Date.parse(p[0]), y: p[1] }; })
              .slice(-MAX_POINTS);
          });
          chart.update("none");
          var note = document.querySelector("[data-interval-note]");
          if (note && config.text.intervals) { note.textContent = config.text.intervals[body.interval] || ""; }
        })
        .catch(function () {
          var note = document.querySelector("[data-interval-note]");
          if (note) { note.textContent = text("unavailable"); }
        });
    });
  }

  // Live points join the charts; beyond the raw interval one point per bucket is enough to follow.
  function appendToCharts(rows) {
    var horizon = Date.now() - rangeHours * 3600 * 1000;
    charts.forEach(function (entry) {
      entry.metrics.forEach(function (metric, index) {
        var data = entry.chart.data.datasets[index].data;
        rows.forEach(function (point) {
          var value = point[1][metric];
          if (typeof value !== "number") { return; }
          var last = data.length ? data[data.length - 1].x : -Infinity;
          if (point[0] <= last || point[0] - last < entry.bucket) { return; }
          data.push({ x: point[0], y: value });
        });
        var drop = 0;
        while (drop < data.length && data[drop].x < horizon) { drop++; }
        drop = Math.max(drop, data.length - MAX_POINTS);
        if (drop > 0) { data.splice(0, drop); }
      });
      entry.chart.update("none");
    });
  }

  function applyToPage(update) {
    var rows = pointRows(update.points);
    if (update.latest) { updateCards(update.latest); }
    appendToCharts(rows);
    prependRecent(rows);
  }

  document.addEventListener("voltwatch:event", function (event) {
    var message = event.detail;
    if (!message || message.type !== "telemetry.readings") { return; }
    updatesOf(message.payload).forEach(function (update) {
      if (!update.latest) { return; }
      updateTables(update);
      if (config && update.kind === config.kind && update.asset === config.asset) { applyToPage(update); }
    });
  });

  if (config) {
    var range = document.querySelector("[data-range]");
    if (range) {
      range.addEventListener("change", function () { rangeHours = parseInt(range.value, 10) || 24; loadCharts(); });
      rangeHours = parseInt(range.value, 10) || 24;
    }
    // Scripts are deferred in order: Chart.js has run by now when the page loads it.
    loadCharts();
    if (config.cells && config.initial_cells && config.initial_cells.length) { drawCells(config.initial_cells); }
  }
})();
