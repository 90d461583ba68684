// World Café countdowns: every [data-seconds] element (templates/workshop/_countdown.html)
// counts down from the seconds left when the server rendered it, measured on this device's
// monotonic clock (a projector's wrong wall clock does not matter). Elements swapped in by
// htmx are picked up on the next tick. No eval, no inline script: CSP-safe.
(function () {
  "use strict";
  var started = new WeakMap();

  function text(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function tick() {
    var now = performance.now();
    document.querySelectorAll("[data-seconds]").forEach(function (el) {
      if (!started.has(el)) started.set(el, now);
      var total = parseInt(el.getAttribute("data-seconds"), 10) || 0;
      var left = Math.max(0, total - Math.floor((now - started.get(el)) / 1000));
      var out = el.querySelector(".countdown-time");
      if (!out) return;
      if (left > 0) {
        out.textContent = text(left);
      } else {
        out.textContent = el.getAttribute("data-over") || "0:00";
        el.classList.add("countdown-over");
      }
    });
  }

  tick();
  setInterval(tick, 1000);
  // a board or section swapped in shows its countdown at once, not up to a second later
  document.addEventListener("htmx:afterSwap", tick);
})();
