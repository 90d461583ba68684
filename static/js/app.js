// Phonlap: small behaviours htmx does not cover. No inline handlers (a strict CSP comes later).
(function () {
  "use strict";

  // After a swap, put the keyboard focus on the new content: a marked element, else the first
  // autofocus field, else the swapped element itself.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.isConnected) { root = document.getElementById(event.detail.target && event.detail.target.id); }
    if (!root) { return; }
    var target = root.querySelector("[data-focus]") || (root.matches("[data-focus]") ? root : null) ||
      root.querySelector("[aria-invalid=true]") || root.querySelector("[autofocus]");
    if (!target && root.hasAttribute("tabindex")) { target = root; }
    if (target) { target.focus({ preventScroll: false }); }
  });

  // Cancel on a "new element" form: remove the form without a request.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (!button) { return; }
    var box = button.closest(button.getAttribute("data-dismiss"));
    var section = box && box.closest("section");
    if (box) { box.remove(); }
    var add = section && section.querySelector("button.add");
    if (add) { add.focus(); }
  });
})();
