// Portal behaviour: theme toggle, mobile navigation, live notifications over the tenant websocket.
(function () {
  "use strict";

  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    try { localStorage.setItem("voltwatch-theme", theme); } catch (e) { /* private mode */ }
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var current = document.documentElement.getAttribute("data-theme");
      setTheme(current === "dark" ? "light" : "dark");
    }
    var navToggle = event.target.closest("[data-nav-toggle]");
    if (navToggle) {
      var sidebar = document.querySelector(".sidebar");
      var open = sidebar.classList.toggle("open");
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
  });

  // --- Live notifications ---------------------------------------------------------------
  var statusEl = document.querySelector("[data-live-status]");
  var toasts = document.querySelector("[data-toasts]");
  var labels = statusEl ? {
    live: statusEl.dataset.labelLive, connecting: statusEl.dataset.labelConnecting, offline: statusEl.dataset.labelOffline
  } : {};

  function setStatus(state) {
    if (!statusEl) { return; }
    statusEl.className = "pill pill-" + state;
    statusEl.textContent = labels[state] || state;
  }

  function toast(title, body, level) {
    if (!toasts) { return; }
    var item = document.createElement("div");
    item.className = "toast " + (level || "");
    item.setAttribute("role", level === "critical" ? "alert" : "status");
    var strong = document.createElement("strong");
    strong.textContent = title;
    item.appendChild(strong);
    if (body) {
      var p = document.createElement("div");
      p.textContent = body;
      item.appendChild(p);
    }
    toasts.appendChild(item);
    setTimeout(function () { item.remove(); }, level === "critical" ? 20000 : 8000);
  }

  var lastEvent = null;
  window.voltwatch = window.voltwatch || {};
  window.voltwatch.events = [];

  function connect(delay) {
    if (!document.body.dataset.ws) { return; }
    setStatus("connecting");
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + document.body.dataset.ws);
    socket.onopen = function () { setStatus("live"); delay = 1000; };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      lastEvent = event;
      window.voltwatch.events.push(event);
      document.dispatchEvent(new CustomEvent("voltwatch:event", { detail: event }));
      // Named per area so pages can refresh on what concerns them (htmx: hx-trigger="voltwatch:alert from:document").
      var area = (event.type || "").split(".")[0];
      if (area === "alert" || area === "fleet") {
        document.dispatchEvent(new CustomEvent("voltwatch:" + area, { detail: event }));
      }
      if (event.type === "hello" || event.type === "pong" || event.type === "platform.pulse") { return; }
      var payload = event.payload || {};
      if (payload.title || payload.message) {
        toast(payload.title || event.type, payload.message || "", payload.severity);
      }
    };
    socket.onclose = function () {
      setStatus("offline");
      setTimeout(function () { connect(Math.min((delay || 1000) * 2, 30000)); }, delay || 1000);
    };
    window.voltwatch.socket = socket;
  }
  connect(1000);
})();
