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
  // Error answers from this app name where their message goes (HX-Retarget: #flash); 409 and
  // 422 re-show the form. Anything else (a proxy's 502, a bare 500) is not swapped over the
  // person's form: a notice says nothing was saved. Handled here, so htmx logs no error.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400 || xhr.status === 409 || xhr.status === 422 || xhr.getResponseHeader("HX-Retarget")) {
      return;
    }
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    notice(document.getElementById("flash").getAttribute("data-failed"));
  });

  // After a swap, put the keyboard focus on the new content: a marked element, else the first
  // autofocus field, else the swapped element itself.
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.headers && config.headers[LIVE_HEADER]) { return; }  // a live reload: leave the focus be
    var root = event.detail.elt;
    if (!root || !root.isConnected) { root = document.getElementById(event.detail.target && event.detail.target.id); }
    if (!root) { return; }
    // in the grid the person has already moved on to another cell: leave the focus there
    if (root.closest("[data-grid]") && document.activeElement && document.activeElement !== document.body) { return; }
    var target = root.querySelector("[data-focus]") || (root.matches("[data-focus]") ? root : null) ||
      root.querySelector("[aria-invalid=true]") || root.querySelector("[autofocus]");
    if (!target && root.hasAttribute("tabindex")) { target = root; }
    if (target) { target.focus({ preventScroll: false }); }
  });

  // Escape leaves a form or a delete question. When something was typed (or the server sent the
  // form back unsaved) it first moves to Cancel, so typed text is never lost to one stray key:
  // a second Escape, or Enter, confirms.
  function edited(form) {
    if (form.hasAttribute("data-unsaved")) { return true; }
    return Array.prototype.some.call(form.querySelectorAll("input, textarea, select"), function (f) {
      if (f.type === "hidden") { return false; }
      if (f.type === "checkbox" || f.type === "radio") { return f.checked !== f.defaultChecked; }
      if (f.tagName === "SELECT") {
        if (f.multiple) {
          return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
        }
        // a single choice with none marked selected starts on its first option: not an edit
        var initial = 0;
        for (var i = 0; i < f.options.length; i++) { if (f.options[i].defaultSelected) { initial = i; } }
        return f.selectedIndex !== initial;
      }
      return f.value !== f.defaultValue;
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || !event.target.closest) { return; }
    var scope = event.target.closest("form, .confirming");
    var cancel = scope && scope.querySelector("[data-cancel]");
    if (!cancel) { return; }
    event.preventDefault();
    if (document.activeElement === cancel || scope.tagName !== "FORM" || !edited(scope)) {
      cancel.click();
    } else {
      cancel.focus();
    }
  });

  // ---- the progress grid ([data-grid]): move like a spreadsheet --------------------------
  // Enter / ArrowDown: the same column one line down; Shift+Enter / ArrowUp: one line up;
  // ArrowLeft / ArrowRight at the edge of the text: the next cell; Escape: undo the typing.
  function gridMove(input, rows, cols) {
    var tr = input.closest("tr");
    var lines = Array.prototype.slice.call(input.closest("table").querySelectorAll("tr"));
    var inputs = Array.prototype.slice.call(tr.querySelectorAll("input"));
    var row = lines.indexOf(tr);
    var col = inputs.indexOf(input) + cols;
    while (rows !== 0) {
      row += rows;
      if (row < 0 || row >= lines.length) { return; }
      if (lines[row].querySelector("input")) { break; }
    }
    var cells = lines[row].querySelectorAll("input");
    var next = cells[Math.max(0, Math.min(col, cells.length - 1))];
    if (next && next !== input) { next.focus(); next.select(); }
  }
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-grid] input")) { return; }
    var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var atEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    var move = null;
    if (event.key === "Enter") { move = event.shiftKey ? [-1, 0] : [1, 0]; }
    else if (event.key === "ArrowDown") { move = [1, 0]; }
    else if (event.key === "ArrowUp") { move = [-1, 0]; }
    else if (event.key === "ArrowLeft" && atStart) { move = [0, -1]; }
    else if (event.key === "ArrowRight" && atEnd) { move = [0, 1]; }
    else if (event.key === "Escape" && input.value !== input.defaultValue) {
      input.value = input.defaultValue;
      event.preventDefault();
      return;
    }
    if (move) { event.preventDefault(); gridMove(input, move[0], move[1]); }
  });
  // On a slow network several cells of one KPI row can be on their way at once, and each answer
  // brings back the whole row as the server had it then. An older answer swapped in last would
  // blank a value saved since (and detach the cell whose request is still out, so its own answer
  // would land nowhere): only the answer to the newest request for a row is swapped in. Errors
  // (422, 409) are always shown, beside the cell that caused them.
  var gridSeq = 0, newestForRow = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var row = elt && elt.closest && elt.closest("[data-grid] tbody[id]");
    if (!row) { return; }
    elt.phonlapSeq = ++gridSeq;
    newestForRow[row.id] = gridSeq;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var target = event.detail.target;
    if (!elt || !elt.phonlapSeq || !target || event.detail.xhr.status >= 400) { return; }
    if (newestForRow[target.id] > elt.phonlapSeq) { event.detail.shouldSwap = false; }
  });
  // A workshop board appends the newest cards (part=new); one answered late, after the whole
  // board reloaded, can bring a card that is already there: keep one of each.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var list = event.detail.target;
    if (!list || !list.matches || !list.matches("ol.cards")) { return; }
    var seen = {};
    Array.prototype.slice.call(list.children).forEach(function (card) {
      if (card.id && seen[card.id]) { card.remove(); } else if (card.id) { seen[card.id] = true; }
    });
  });
  // A form folded in a <details data-keep id> (open a vote, the café's tables) stays open, with
  // what was typed in it, when the board around it is drawn again (a live reload). htmx's own
  // hx-preserve lost the element for good when it came back after being gone (a vote opened,
  // then closed): htmx 2.0.11 parks preserved elements in a "pantry" that it then emptied.
  var kept = [];
  function fields(root) { return root.querySelectorAll("input[id], select[id], textarea[id]"); }
  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return field.value !== field.defaultValue;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    kept = [];
    var target = event.detail.target;
    if (event.detail.shouldSwap === false || !target || !target.querySelectorAll) { return; }
    target.querySelectorAll("details[data-keep][id]").forEach(function (details) {
      var values = [];
      fields(details).forEach(function (field) {
        if (changed(field)) { values.push([field.id, field.type, field.value, field.checked]); }
      });
      var active = document.activeElement;
      var focused = active && active.id && details.contains(active) ? active.id : null;
      if (details.open || values.length) {
        kept.push({ id: details.id, open: details.open, values: values, focused: focused });
      }
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    kept.forEach(function (old) {
      var details = document.getElementById(old.id);
      if (!details) { return; }
      if (old.open) { details.open = true; }
      if (details.querySelector("[aria-invalid=true]")) { return; }  // the server's answer shows what was sent
      old.values.forEach(function (v) {
        var field = document.getElementById(v[0]);
        if (!field || !details.contains(field) || changed(field)) { return; }
        if (v[1] === "checkbox" || v[1] === "radio") { field.checked = v[3]; } else { field.value = v[2]; }
      });
      var focused = old.focused && document.getElementById(old.focused);
      if (focused && details.contains(focused)) { focused.focus({ preventScroll: true }); }
    });
    kept = [];
  });
  // A guest's phone, unlocked or its tab shown again, asks at once whether the vote or the café
  // round changed (_guest_poll.html), not at the poller's next 20 s.
  document.addEventListener("visibilitychange", function () {
    var poller = document.getElementById("guest-poll");
    if (!document.hidden && poller && window.htmx) { window.htmx.trigger(poller, "poll"); }
  });
  // A saved cell brings back its whole KPI row; text being typed in another cell of that row
  // is carried over into the new row and saved when the person leaves the cell.
  var typing = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    typing = null;
    if (event.detail.shouldSwap === false) { return; }
    if (active && active.id && active.matches("[data-grid] input") && event.detail.target.contains(active) &&
        active.value !== active.defaultValue) {
      typing = { id: active.id, value: active.value };
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!typing) { return; }
    var input = document.getElementById(typing.id);
    if (input && !input.hasAttribute("aria-invalid")) {
      input.value = typing.value;
      input.setAttribute("data-unsaved", "");
    }
    typing = null;
  });
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-grid] input[data-unsaved]")) {
      input.removeAttribute("data-unsaved");
      if (input.value !== input.defaultValue && window.htmx) { window.htmx.trigger(input, "change"); }
    }
  });

  // ---- live updates (body[sse-connect], see app/web/events.py) ---------------------------
  // Parts with hx-trigger="sse:…" reload themselves (the htmx SSE extension). Editors
  // ([data-live]) listen on the page's one EventSource and reload just the
  // element that changed, from the page's own URL, unless the person is working in it: an open
  // form, a focused field, a question. After a dropped connection every part reloads ("resync").
  var LIVE_HEADER = "X-Phonlap-Live";
  // Busy: an edit form or question open, something typed, or the keyboard focus inside
  // (replacing the element would lose it).
  function busy(el) {
    var active = document.activeElement;
    if (active && active !== document.body && el.contains(active)) { return true; }
    if (el.matches(".editing, .confirming, form") || el.querySelector(".editing, .confirming, .new-form, [data-unsaved]")) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("form"), edited);
  }
  // From the element's own fragment route when it has one, else picked out of this page.
  function reload(selector, url) {
    var el = document.querySelector(selector);
    if (!el || busy(el) || !window.htmx) { return; }
    var headers = {};
    headers[LIVE_HEADER] = "1";
    var context = { target: selector, swap: "outerHTML", headers: headers };
    if (!url) { context.select = selector; }
    window.htmx.ajax("GET", url || window.location.pathname + window.location.search, context);
  }
  var SECTIONS = { doe_statement: "doe", problem: "problems", kra: "kras", kpi: "kpis", action: "actions", agency: "agencies" };
  function onChange(kind, change) {
    var page = document.querySelector("[data-live]");
    if (!page || !change) { return; }
    var mode = page.getAttribute("data-live");
    if (mode === "plan" && kind === "plan") {
      var base = page.getAttribute("data-plan-url");
      var row = change.entity && document.getElementById(change.entity.replace(/_/g, "-") + "-" + change.id);
      if (change.entity === "plan") { reload("#plan-meta", base + "/meta"); reload("#plan-vision", base + "/vision"); }
      else if (row && change.op === "delete") { if (!busy(row)) { row.remove(); } }
      else if (row) { reload("#" + row.id, base + "/" + SECTIONS[change.entity] + "/" + change.id); }
      else if (SECTIONS[change.entity]) { reload("#section-" + SECTIONS[change.entity]); }
      reload("#plan-checks", base + "/checks");
    } else if (mode === "progress" && (kind === "progress" || kind === "review")) {
      var tbody = change.id && document.getElementById("kpi-progress-" + change.id);
      if (tbody && change.entity !== "action_update") { reload("#" + tbody.id); }
      else { page.querySelectorAll("[data-live-part]").forEach(function (el) { if (el.id) { reload("#" + el.id); } }); }
      reload("#progress-summary");
    }
  }
  // The answer comes a moment later: if a form opened meanwhile (or the element was replaced),
  // keep what is on the screen.
  // A live reload that failed (the element is gone, the session ended) stays silent. Captured
  // first, so the error notice below does not run for it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (!config || !config.headers || !config.headers[LIVE_HEADER]) { return; }
    var target = event.detail.target;
    if (event.detail.xhr.status >= 400 || !target || !target.isConnected || busy(target)) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      event.stopPropagation();
    }
  }, true);
  // Every live part reloads: after a dropped connection, or when the server says "resync"
  // (this stream fell behind, or the server's own link to the database had a gap).
  function resync() {
    document.querySelectorAll("[hx-trigger*='resync']").forEach(function (el) { window.htmx.trigger(el, "resync"); });
    var page = document.querySelector("[data-live]");
    if (!page) { return; }
    page.querySelectorAll("[data-live-part]").forEach(function (el) { if (el.id) { reload("#" + el.id); } });
    if (page.getAttribute("data-live") === "plan") {  // each section, unless someone works in it
      Object.keys(SECTIONS).forEach(function (entity) { reload("#section-" + SECTIONS[entity]); });
      reload("#plan-checks", page.getAttribute("data-plan-url") + "/checks");
    }
  }
  function listen(source) {
    if (!source || source.phonlapListening) { return; }
    source.phonlapListening = true;
    ["plan", "progress", "review"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        var change = null;
        try { change = JSON.parse(event.data); } catch (e) { return; }
        onChange(kind, change);
      });
    });
    source.addEventListener("resync", resync);
  }
  // The connection's state, for a page that shows it; after a drop, every live part reloads.
  var dropped = false;
  function liveStatus(on) {
    document.documentElement.setAttribute("data-live-state", on ? "on" : "off");
    document.querySelectorAll("[data-live-status]").forEach(function (el) {
      el.textContent = el.getAttribute(on ? "data-on" : "data-off");
    });
  }
  document.addEventListener("htmx:sseOpen", function (event) {
    listen(event.detail && event.detail.source);
    liveStatus(true);
    if (!dropped) { return; }
    dropped = false;
    resync();
  });
  document.addEventListener("htmx:sseError", function () { dropped = true; liveStatus(false); });
  document.addEventListener("htmx:afterSettle", function () {  // a swapped-in status line
    var state = document.documentElement.getAttribute("data-live-state");
    if (state) { liveStatus(state === "on"); }
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

  // On a phone the area navigation scrolls sideways: bring the current page's tab into view
  // (by scrolling the row only, never the page).
  var tabs = document.querySelector(".area-nav ul");
  var current = tabs && tabs.querySelector("[aria-current]");
  if (current && tabs.scrollWidth > tabs.clientWidth) {
    var row = tabs.getBoundingClientRect(), tab = current.getBoundingClientRect();
    tabs.scrollLeft += tab.left - row.left - (row.width - tab.width) / 2;
  }

  // The header's menu is a <details>: on a wide screen CSS shows its content even while it is
  // closed (::details-content); a browser without that selector gets it opened instead. On a
  // phone Escape folds it again, the focus back on its button.
  var menu = document.querySelector(".site-menu");
  if (menu && window.CSS && CSS.supports && !CSS.supports("selector(::details-content)")) {
    var wide = window.matchMedia("(min-width: 801px)");
    var openWhenWide = function () { if (wide.matches) { menu.open = true; } };
    openWhenWide();
    wide.addEventListener("change", openWhenWide);
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !menu || !menu.open || !menu.contains(event.target)) { return; }
    var summary = menu.querySelector("summary");
    if (!summary || !summary.getClientRects().length) { return; }
    menu.open = false;
    summary.focus();
  });

  // A form with data-confirm asks first (deleting a record on a plain page, without htmx).
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();
