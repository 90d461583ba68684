// Phonlap: draws the Plotly figures the server put in data-figure attributes (no inline script:
// the CSP allows none), again whenever htmx brings a new one (a live update, another period).
// Each chart has a table or list beside it; printing opens the tables. A map ([data-links])
// opens the element clicked, and its mode bar gets an SVG download next to Plotly's PNG one.
(function () {
  "use strict";
  // Set when the page asks for Plotly only once a chart is near the screen (templates/_plotly.html).
  var lazySrc = document.currentScript && document.currentScript.getAttribute("data-plotly");
  var loading = false;

  function svgButton(el) {
    return {
      name: "downloadSvg",
      title: el.getAttribute("data-svg-label") || "SVG",
      icon: window.Plotly.Icons.disk,
      click: function (gd) {
        var options = (gd._context && gd._context.toImageButtonOptions) || {};
        window.Plotly.downloadImage(gd, { format: "svg", filename: options.filename || "chart" });
      }
    };
  }

  function drawOne(el) {
    var figure = JSON.parse(el.getAttribute("data-figure"));
    var config = figure.config || {};
    if (el.hasAttribute("data-links") && config.modeBarButtons) {
      config.modeBarButtons = [config.modeBarButtons[0].concat([svgButton(el)])];
    }
    window.Plotly.newPlot(el, figure.data, figure.layout, config).then(function () {
      el.classList.add("drawn");
    });
    if (el.hasAttribute("data-links")) {
      el.on("plotly_click", function (event) {
        var url = event.points && event.points[0] && event.points[0].customdata;
        if (url) { window.location.assign(url); }
      });
      // a map's labels are annotations carrying the element's address
      el.on("plotly_clickannotation", function (event) {
        var note = (figure.layout.annotations || [])[event.index];
        if (note && note.url) { window.location.assign(note.url); }
      });
    }
  }

  function loadPlotly() {
    if (loading) { return; }
    loading = true;
    var script = document.createElement("script");
    script.src = lazySrc;
    script.onload = function () { draw(document); };
    document.head.appendChild(script);
  }

  // Watch the charts; the first one that comes within half a screen of view loads Plotly for all.
  function whenNear(charts) {
    if (!charts.length) { return; }
    if (!("IntersectionObserver" in window)) { loadPlotly(); return; }
    var observer = new IntersectionObserver(function (entries) {
      if (!entries.some(function (e) { return e.isIntersecting; })) { return; }
      observer.disconnect();
      loadPlotly();
    }, { rootMargin: "50% 0px" });
    charts.forEach(function (el) { observer.observe(el); });
  }

  // A chart that is not shown (the map on a phone, where its list stands instead) is drawn
  // once it is: Plotly cannot lay out into a box of no size.
  function shown(el) { return el.getClientRects().length > 0; }

  function drawWhenShown(el) {
    if (shown(el) || !el.closest(".map-figure")) { drawOne(el); } else { el.classList.add("waiting"); }
  }

  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart.waiting[data-figure]").forEach(function (el) {
      if (shown(el)) { el.classList.remove("waiting"); drawOne(el); }
    });
  });

  function draw(root) {
    if (typeof window.Plotly === "undefined") {
      var within = root && root.querySelectorAll ? root : document;
      if (lazySrc && !loading) { whenNear(Array.prototype.slice.call(within.querySelectorAll(".chart[data-figure]"))); }
      return;
    }
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(".chart[data-figure]")) { drawWhenShown(scope); return; }
    scope.querySelectorAll(".chart[data-figure]").forEach(drawWhenShown);
  }

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-table").forEach(function (d) { d.open = true; });
  });
  window.phonlapDraw = draw;

  function start() {
    draw(document);
    // content htmx swaps in later (the first load is drawn above)
    document.addEventListener("htmx:afterSwap", function (event) {
      var target = event.detail.target;
      var el = target && target.isConnected ? target : document.getElementById(target && target.id);
      if (el) { draw(el); }
      else { draw(document.querySelector("#map-view, #present")); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
