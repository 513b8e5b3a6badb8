// The progress bar of a running charging import. The worker publishes "charging.import" events on the
// tenant websocket (portal.js re-dispatches each as "voltwatch:event"); each one moves the bar and the
// counts. While the socket is down the fragment polls itself every 2 s (hx-trigger="every 2s"), and
// this script lets only one poll in five through while the socket is live, as a safety net.
(function () {
  "use strict";

  function socketLive() {
    var socket = window.voltwatch && window.voltwatch.socket;
    return !!socket && socket.readyState === 1;
  }

  function format(template, values) {
    return (template || "").replace(/%\((\w+)\)s/g, function (_m, name) { return values[name] === undefined ? "" : values[name]; });
  }

  function refresh(element) {
    if (window.htmx) { window.htmx.ajax("GET", element.dataset.progressUrl, { target: element, swap: "outerHTML" }); }
  }

  document.addEventListener("voltwatch:event", function (event) {
    var message = event.detail || {};
    if (message.type !== "charging.import") { return; }
    var run = message.payload || {};
    document.querySelectorAll("[data-import-run='" + run.id + "']").forEach(function (element) {
      var bar = element.querySelector("progress");
      if (bar && run.rows_expected) {
        var percent = Math.min(100, Math.round(run.rows_read / run.rows_expected * 100));
        bar.value = percent;
        bar.textContent = percent + " %";
      }
      var counts = element.querySelector("[data-run-counts]");
      if (counts) {
        counts.textContent = format(element.dataset.countsText, {
          read: run.rows_read, created: run.rows_created, updated: run.rows_updated, rejected: run.rows_rejected
        });
      }
      if (run.status !== "queued" && run.status !== "running") { refresh(element); }  // the final state, from the server
      else if (element.dataset.open === "1") {
        var status = element.querySelector("[data-run-status]");
        if (status && status.dataset.status !== run.status) { refresh(element); }
      }
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (!element || !element.hasAttribute || !element.hasAttribute("data-import-poll")) { return; }
    if (!socketLive()) { return; }
    var skipped = parseInt(element.dataset.skipped || "0", 10);
    if (skipped < 4) { element.dataset.skipped = String(skipped + 1); event.preventDefault(); }
  });
})();
