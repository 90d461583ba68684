// Phonlap: draws the Plotly figures the server put in data-figure attributes (no inline script:
// the CSP allows none). Each chart has a table beside it; printing opens the tables.
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") { return; }
    document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      window.Plotly.newPlot(el, figure.data, figure.layout, figure.config);
      el.classList.add("drawn");
    });
  }

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-table").forEach(function (d) { d.open = true; });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
