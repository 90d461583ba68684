// Phonlap: starts Swagger UI on /docs from vendored files, with no inline script and no
// request to another host (venues are offline; a strict CSP allows 'self' only).
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") { return; }
    var Bundle = window.SwaggerUIBundle;
    var presets = [Bundle.presets.apis];
    // swagger-ui-bundle.js alone has no standalone preset (that is a separate file): without it,
    // the plain BaseLayout is used.
    var standalone = Bundle.SwaggerUIStandalonePreset || window.SwaggerUIStandalonePreset;
    if (standalone) { presets.push(standalone); }
    window.ui = Bundle({
      url: root.getAttribute("data-openapi-url") || "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: presets,
      layout: standalone ? "StandaloneLayout" : "BaseLayout",
      // The default validator badge sends the spec to validator.swagger.io: never.
      validatorUrl: null,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
