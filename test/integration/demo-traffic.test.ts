import { createLogger } from '../../server/logger';
import { seedDemo } from '../../server/cli/seed';
import { startDemoTraffic } from '../../server/cli/demo-traffic';
import { testApp, type TestApp } from '../helpers/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await testApp();
  await seedDemo(t.db, t.config, createLogger('silent'));
});
afterAll(() => t.close());

it('the demo files a report, then ICBC screens payments, one to the account just reported: a warning for ICBC\'s simulated partner', async () => {
  const { services } = t.deps;
  const stop = await startDemoTraffic(t.db, services.reports, createLogger('silent'), 3_600_000, services.screening);
  try {
    let warnings: { institution_id: string; status: string; payment: { screenedBy: string; decision: string; payee: { value: string } } }[] = [];
    for (let i = 0; i < 100 && warnings.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      warnings = await t.db('tasks').where({ kind: 'warn_payer' });
    }
    expect(warnings).toHaveLength(1);
    const [report] = await t.db('reports').select('id');
    const transfers = await t.db('transfers').where({ report_id: report.id }).orderBy('position');
    expect(warnings[0]).toMatchObject({
      institution_id: 'icbc', status: 'queued',
      payment: { screenedBy: 'icbc', decision: 'warn', payee: { value: transfers[0].to_account } },
    });
    const icbc = await t.db('institutions').where({ id: 'icbc' }).first();
    expect(icbc.integration).toBe('simulated');
  } finally {
    stop();
  }
});
