// Phonlap's results chain map page: a slider over the period list (the select stays the form's field)
// and a replay that steps through every period, one every REPLAY_MS, from the first.
(function () {
  "use strict";
  var REPLAY_MS = 1600;
  var playing = null;

  function choose(select, index) {
    if (select.selectedIndex === index) { return; }
    select.selectedIndex = index;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function stop(button) {
    window.clearInterval(playing);
    playing = null;
    if (button) { button.setAttribute("aria-pressed", "false"); }
  }

  function start() {
    document.querySelectorAll("input.period-slider[data-select]").forEach(function (slider) {
      var select = document.getElementById(slider.getAttribute("data-select"));
      if (!select) { return; }
      slider.hidden = false;
      slider.addEventListener("input", function () { choose(select, Number(slider.value)); });
      select.addEventListener("change", function () { slider.value = String(select.selectedIndex); });
    });
    document.querySelectorAll("[data-replay]").forEach(function (button) {
      var select = document.getElementById(button.getAttribute("data-replay"));
      if (!select) { return; }
      button.hidden = false;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        if (playing) { stop(button); return; }
        button.setAttribute("aria-pressed", "true");
        choose(select, 0);
        playing = window.setInterval(function () {
          if (select.selectedIndex >= select.options.length - 1) { stop(button); return; }
          choose(select, select.selectedIndex + 1);
        }, REPLAY_MS);
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
