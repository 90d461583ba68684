// Phonlap's presentation page: ←/→ step through the periods, N shows the next view, F toggles
// full screen, C cycles the views by themselves. The views reload themselves on live events
// (hx-trigger="sse:…"); a reloaded view keeps the view that is showing. When a workshop session
// opens or closes, the workshop's slot reloads and its tab appears or goes.
(function () {
  "use strict";
  var CYCLE_MS = 20000;
  var wrap, current = "map", timer = null;

  function views() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-show]"), function (b) {
      return !b.hidden;
    }).map(function (b) { return b.getAttribute("data-show"); });
  }

  function show(name) {
    current = name;
    document.querySelectorAll(".present-view").forEach(function (section) {
      section.hidden = section.getAttribute("data-view") !== name;
    });
    document.querySelectorAll("[data-show]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-show") === name ? "true" : "false");
    });
    if (name === "map" && window.Plotly) {  // drawn while hidden: fit it to the screen now
      document.querySelectorAll("#present-map .chart.drawn").forEach(function (el) { window.Plotly.Plots.resize(el); });
    }
  }

  function next() {
    var all = views();
    show(all[(all.indexOf(current) + 1) % all.length]);
  }

  function step(delta) {
    var periods = JSON.parse(wrap.getAttribute("data-periods") || "[]");
    var at = periods.indexOf(wrap.getAttribute("data-period"));
    var to = periods[at + delta];
    if (!to) { return; }
    var url = wrap.getAttribute("data-url") + "?period=" + encodeURIComponent(to);
    window.history.replaceState(null, "", url);
    window.htmx.ajax("GET", url, { target: "#present", select: "#present", swap: "outerHTML" });
  }

  function fullScreen() {
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
  }

  function cycle() {
    var button = document.querySelector("[data-cycle]");
    if (timer) { window.clearInterval(timer); timer = null; }
    else { timer = window.setInterval(next, CYCLE_MS); }
    if (button) { button.setAttribute("aria-pressed", timer ? "true" : "false"); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.matches("input, textarea, select")) { return; }
    var key = event.key.toLowerCase();
    if (key === "arrowright") { step(1); }
    else if (key === "arrowleft") { step(-1); }
    else if (key === "n") { next(); }
    else if (key === "f") { fullScreen(); }
    else if (key === "c") { cycle(); }
    else { return; }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-show], [data-cycle]");
    if (!button) { return; }
    if (button.hasAttribute("data-cycle")) { cycle(); } else { show(button.getAttribute("data-show")); }
  });
  // the workshop's tab is there while its view is (a session open)
  function workshopTab() {
    var tab = document.getElementById("present-tab-workshop");
    if (!tab) { return; }
    var open = !!document.getElementById("present-workshop");
    tab.hidden = !open;
    if (open) { tab.setAttribute("aria-controls", "present-workshop"); } else { tab.removeAttribute("aria-controls"); }
  }
  // a session opened or closed (the board reloads itself on its contributions)
  document.addEventListener("htmx:sseOpen", function (event) {
    var source = event.detail && event.detail.source;
    if (!source || source.phonlapSessions) { return; }
    source.phonlapSessions = true;
    source.addEventListener("workshop", function (message) {
      var change = null;
      try { change = JSON.parse(message.data); } catch (e) { return; }
      var slot = document.getElementById("present-workshop-slot");
      if (slot && change && change.entity === "workshop_session" && window.htmx) { window.htmx.trigger(slot, "workshop-sessions"); }
    });
  });
  // a view or the whole page came back from the server: keep showing what was showing
  document.addEventListener("htmx:afterSettle", function () {
    wrap = document.getElementById("present") || wrap;
    workshopTab();
    if (views().indexOf(current) < 0) { current = "map"; }
    show(current);
  });

  function start() {
    wrap = document.getElementById("present");
    workshopTab();
    show(current);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
