// Loaded in <head> so the chosen theme applies before the first paint (no flash).
(function () {
  var stored = null;
  try { stored = localStorage.getItem("voltwatch-theme"); } catch (e) { /* private mode */ }
  var dark = stored ? stored === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
