// Renders the API document with Swagger UI. This is a file rather than an
// inline script because the server's Content-Security-Policy allows scripts
// from 'self' only. The document URL is relative, so the page also works
// behind a path prefix.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "../api/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    // The default validator badge loads an image from a third party, which
    // the CSP forbids and which would leak the page's URL.
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: false,
    filter: true,
  });
});
