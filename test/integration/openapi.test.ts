import { testApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => { t = await testApp(); });
afterAll(() => t.close());

it('publishes the auth and admin routes, generated from their schemas', async () => {
  const res = await t.api.raw().get('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body.openapi).toMatch(/^3\.1/);
  const paths = res.body.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; security?: unknown[] }>>;
  for (const [path, method] of [
    ['/api/v1/auth/login', 'post'], ['/api/v1/auth/token', 'post'],
    ['/api/v1/institutions', 'get'], ['/api/v1/institutions', 'post'],
    ['/api/v1/institutions/{id}', 'get'], ['/api/v1/institutions/{id}', 'patch'],
    ['/api/v1/users', 'get'], ['/api/v1/users', 'post'], ['/api/v1/users/{id}', 'patch'],
    ['/api/v1/api-clients', 'get'], ['/api/v1/api-clients', 'post'], ['/api/v1/api-clients/{id}', 'delete'],
  ] as const) {
    expect(paths[path]?.[method]).toBeDefined();
  }
  const login = paths['/api/v1/auth/login']!.post!;
  expect(login.security).toEqual([]);
  expect(JSON.stringify(login.requestBody!.content['application/json']!.schema)).toContain('password');
  const createUser = JSON.stringify(paths['/api/v1/users']!.post!.requestBody);
  expect(createUser).toContain('"minLength":12');
  expect(createUser).toContain('partner_system');
  expect(paths['/api/v1/institutions']!.post!.security).toEqual([{ bearer: [] }]);
});
