import { testApp, type TestApp } from '../helpers/test-app';
import { READY_BODY } from '../helpers/queue-backend';

let t: TestApp;
beforeAll(async () => { t = await testApp(); });
afterAll(() => t.close());

it('answers liveness and readiness when PostgreSQL and the queue store (Redis, or PostgreSQL itself) are up', async () => {
  expect((await t.api.raw().get('/healthz')).status).toBe(200);
  const ready = await t.api.raw().get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual(READY_BODY);
});

it('answers an unknown API route with the error shape', async () => {
  const res = await t.api.raw().get('/api/v1/nothing-here');
  expect(res.status).toBe(404);
  expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String), details: [] } });
});

it('publishes Prometheus metrics', async () => {
  await t.api.raw().get('/healthz');
  const res = await t.api.raw().get('/metrics');
  expect(res.status).toBe(200);
  expect(res.text).toContain('afrc_http_requests_total');
});
