// The Charging section: charts drawn from their json_script data (no inline script: the CSP has
// none), sortable tables, the filters form sending to the current tab, the moment shortcuts.
// Everything is (re)applied to the page at load and to each piece HTMX swaps in.
(function () {
  "use strict";

  var COLOURS = ["#0b6bcb", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var lang = document.documentElement.lang || undefined;

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  // --- Charts ----------------------------------------------------------------------------------
  function chartConfig(data) {
    var kind = data.kind;
    var pie = kind === "pie";
    var datasets = (data.datasets || []).map(function (set, index) {
      var colour = COLOURS[index % COLOURS.length];
      var copy = { label: set.label, data: set.data };
      if (pie) {
        copy.backgroundColor = set.data.map(function (_v, i) { return COLOURS[i % COLOURS.length]; });
        copy.borderColor = cssVar("--surface", "#fff");
      } else if (kind === "line") {
        copy.borderColor = colour;
        copy.backgroundColor = colour;
        copy.tension = 0.2;
        copy.pointStyle = ["circle", "rect", "triangle", "rectRot", "star", "cross"][index % 6];  // not colour alone
        copy.pointRadius = 3;
      } else {
        copy.backgroundColor = colour;
        copy.borderColor = colour;
      }
      return copy;
    });
    var text = cssVar("--text", "#222"), grid = cssVar("--border", "#ddd");
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: lang,
      color: text,
      plugins: { legend: { display: pie || datasets.length > 1, labels: { color: text } } }
    };
    if (!pie) {
      var stacked = kind === "stacked-bar";
      options.scales = {
        x: { stacked: stacked, ticks: { color: text }, grid: { color: grid } },
        y: { stacked: stacked, beginAtZero: true, ticks: { color: text }, grid: { color: grid } }
      };
    }
    if (kind === "histogram") {
      datasets.forEach(function (set) { set.barPercentage = 1; set.categoryPercentage = 1; set.borderColor = cssVar("--surface", "#fff"); set.borderWidth = 1; });
    }
    var type = { pie: "pie", line: "line" }[kind] || "bar";
    return { type: type, data: { labels: data.labels, datasets: datasets }, options: options };
  }

  function drawCharts(root) {
    if (!window.Chart) { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var node = document.getElementById(canvas.dataset.chart);
      if (!node) { return; }
      var existing = window.Chart.getChart(canvas);
      if (existing) { existing.destroy(); }
      new window.Chart(canvas, chartConfig(JSON.parse(node.textContent)));
    });
  }

  // --- Sortable tables ---------------------------------------------------------------------------
  function cellKey(cell, numeric) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (numeric) {
      var number = parseFloat(raw.replace(",", "."));
      return isNaN(number) ? -Infinity : number;
    }
    return raw.toLowerCase();
  }

  function sortBy(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.hasAttribute("data-numeric");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (row) { return row.cells.length > index; });
    rows.sort(function (a, b) {
      var x = cellKey(a.cells[index], numeric), y = cellKey(b.cells[index], numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    th.parentNode.querySelectorAll("th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("table[data-sortable] th .sort-button");
    if (button) { sortBy(button.closest("th")); return; }
    var shortcut = event.target.closest("[data-moments]");
    if (shortcut) {
      var wanted = shortcut.dataset.moments ? shortcut.dataset.moments.split(",") : null;
      var form = shortcut.closest("form");
      form.querySelectorAll("input[data-moment]").forEach(function (box) {
        box.checked = wanted === null || wanted.indexOf(box.value) !== -1;
      });
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // --- The filters send to the tab on show -------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "charging-filters") { return; }
    var content = document.getElementById("tab-content");
    if (content && content.dataset.tabUrl) { event.detail.path = content.dataset.tabUrl; }
  });

  document.addEventListener("change", function (event) {
    // "All sites" and a site are exclusive: choosing sites unselects "all", and "all" alone clears them.
    var select = event.target.closest("select[name=sites]");
    if (!select) { return; }
    var all = select.querySelector("option[value='']");
    var chosen = Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; });
    if (all && all.selected && chosen.length && select.dataset.lastAll === "1") { all.selected = false; }
    else if (all && all.selected) { chosen.forEach(function (o) { o.selected = false; }); }
    select.dataset.lastAll = all && all.selected ? "1" : "0";
  }, true);

  function applied(root) {
    drawCharts(root);
    var content = document.getElementById("tab-content");
    var current = document.querySelector("[data-current-tab]");
    if (content && current) { current.value = content.dataset.tab; }
    document.querySelectorAll("select[name=sites]").forEach(function (select) {
      var all = select.querySelector("option[value='']");
      select.dataset.lastAll = all && all.selected ? "1" : "0";
    });
  }

  // The session list link follows the filters of the address (the shared ones: no tab, no tab parameters).
  var SHARED = ["period", "d1", "d2", "sites", "types", "moments"];
  document.addEventListener("htmx:pushedIntoHistory", function (event) {
    var link = document.querySelector("[data-sessions-link]");
    if (!link || !event.detail || !event.detail.path) { return; }
    var url = new URL(event.detail.path, window.location.href), kept = new URLSearchParams();
    url.searchParams.forEach(function (value, key) { if (SHARED.indexOf(key) !== -1) { kept.append(key, value); } });
    link.href = link.pathname + (kept.toString() ? "?" + kept.toString() : "");
  });

  // The theme toggle changes the colours the charts were drawn with: draw them again.
  new MutationObserver(function () { drawCharts(document); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

  document.addEventListener("htmx:afterSettle", function (event) { applied(event.detail.elt || document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applied(document); });
  } else {
    applied(document);
  }
})();
