import { testApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => { t = await testApp(); });
afterAll(() => t.close());

it('serves the API reference page, which loads Swagger UI and its start-up script from this server only', async () => {
  const res = await t.api.raw().get('/api/docs');
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/html');
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  // Every script and stylesheet is a path on this server: no CDN, nothing inline.
  const sources = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(sources).toEqual(expect.arrayContaining(['/api/docs/swagger-ui-bundle.js', '/api/docs/swagger-ui.css', '/static/js/api-docs.js']));
  for (const s of sources) expect(s).toMatch(/^\//);
  expect(res.text).not.toMatch(/<script>(?!<\/script>)/);
  expect(res.text).not.toMatch(/<style/);
  expect(res.text).toContain('data-spec-url="/api/v1/openapi.json"');
});

it('serves the Swagger UI files from the installed package, and only those', async () => {
  const js = await t.api.raw().get('/api/docs/swagger-ui-bundle.js');
  expect(js.status).toBe(200);
  expect(js.type).toMatch(/javascript/);
  expect(js.text).toContain('SwaggerUIBundle');
  const css = await t.api.raw().get('/api/docs/swagger-ui.css');
  expect(css.status).toBe(200);
  expect(css.type).toBe('text/css');
  // The package's own index page (pointing at a sample API) is not published.
  const other = await t.api.raw().get('/api/docs/index.html');
  expect(other.status).toBe(404);
  expect(other.body.error.code).toBe('not_found');
  const init = await t.api.raw().get('/static/js/api-docs.js');
  expect(init.status).toBe(200);
  expect(init.text).toContain('SwaggerUIBundle(');
});

it('has a favicon, named by every page and answered at /favicon.ico', async () => {
  const icon = await t.api.raw().get('/favicon.ico');
  expect(icon.status).toBe(200);
  expect(icon.type).toBe('image/svg+xml');
  expect(icon.body.toString()).toContain('<svg');
  const stat = await t.api.raw().get('/static/favicon.svg');
  expect(stat.status).toBe(200);
  const login = await t.api.raw().get('/login');
  expect(login.text).toContain('<link rel="icon" href="/static/favicon.svg"');
  const docs = await t.api.raw().get('/api/docs');
  expect(docs.text).toContain('<link rel="icon" href="/static/favicon.svg"');
});
