import { testApp, type TestApp } from '../helpers/test-app';
import { FACTORY_PASSWORD } from '../helpers/factories';
import { pageSession } from '../helpers/page-session';
import { interceptTask } from '../helpers/lifecycle';
import { TEST_QUEUE_BACKEND } from '../helpers/queue-backend';
import { partnerQueueName } from '../../server/queues/names';

// Bull Board reads the queues on either backend; CI runs this file on both.

let t: TestApp;
beforeAll(async () => { t = await testApp(); });
afterAll(() => t.close());

it(`shows an institution's waiting job and the store it lives in (${TEST_QUEUE_BACKEND})`, async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const task = await interceptTask(t, { toInstitutionId: bank.id });
  const admin = await t.factories.user({ role: 'admin' });
  const s = pageSession(t.app);
  await s.login(admin.username, FACTORY_PASSWORD);
  expect((await s.get('/admin/queues')).status).toBe(200);

  const queueName = partnerQueueName(bank.id);
  const api = await s.agent.get(`/admin/queues/api/queues?activeQueue=${queueName}&status=waiting&page=1`).set('Accept', 'application/json');
  expect(api.status).toBe(200);
  const shown = (api.body.queues as { name: string; counts: Record<string, number>; jobs: { id: string }[] }[]).find((q) => q.name.endsWith(queueName));
  expect(shown?.counts.waiting).toBe(1);
  expect(shown?.jobs.map((j) => j.id)).toEqual([task.id]);

  const stats = await s.agent.get('/admin/queues/api/redis/stats').set('Accept', 'application/json');
  expect(stats.status).toBe(200);
  expect(stats.body).toMatchObject({ backend: TEST_QUEUE_BACKEND, version: expect.any(String) });
});
