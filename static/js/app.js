// Phonlap: small behaviours htmx does not cover. No inline handlers: the CSP allows no inline script.
(function () {
  "use strict";

  // Every htmx request carries this page's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });

  // When nothing came back (offline, server down, a proxy error), say so; the form stays.
  function notice(text) {
    var flash = document.getElementById("flash");
    if (!flash) { return; }
    var box = document.createElement("div");
    box.className = "alert flash-message";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var p = document.createElement("p");
    p.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("data-dismiss", ".flash-message");
    close.textContent = flash.getAttribute("data-close") || "×";
    box.appendChild(p);
    box.appendChild(close);
    flash.replaceChildren(box);
    box.focus();
  }
  document.addEventListener("htmx:sendError", function () {
    notice(document.getElementById("flash").getAttribute("data-offline"));
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if ([401, 403, 404, 429, 500].indexOf(status) < 0) {
      notice(document.getElementById("flash").getAttribute("data-failed"));
    }
  });

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
