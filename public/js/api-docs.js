// Renders /api/docs from the OpenAPI document the API publishes (Swagger UI, served locally).
document.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('api-docs');
  // eslint-disable-next-line no-undef
  SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: true,
    // Try-it-out sends requests with the bearer token typed into "Authorize"; nothing is stored.
    persistAuthorization: false,
  });
});
