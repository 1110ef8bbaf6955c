import { createLogger } from '../../server/logger';
import { seedDemo } from '../../server/cli/seed';
import { DEMO_CLOCKS, startDemoAftercare, startDemoTraffic } from '../../server/cli/demo-traffic';
import { testApp, type TestApp } from '../helpers/test-app';
import { FAST_WORKERS, waitFor } from '../helpers/lifecycle';
import { expectConsistent } from '../helpers/holds';
import { startWorkers } from '../../workers/main';

let t: TestApp;

beforeAll(async () => {
  // The demo's legal clocks (npm run demo sets the same); fast workers only to start quickly.
  t = await testApp({ ...FAST_WORKERS, ...DEMO_CLOCKS });
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

it('the demo shows the whole life of a case: simulated banks pay ordered returns, the first stop-payment lapses, one dispute waits', async () => {
  const { services } = t.deps;
  const workers = startWorkers(t.config);
  const log = createLogger('silent');
  // Reports come faster than in the demo, so a few seconds bring stop-payments and freezes whatever the banks answer.
  const stopTraffic = await startDemoTraffic(t.db, services.reports, log, 300);
  const stopAftercare = await startDemoAftercare(t.db, services.holds, log);
  const supervisor = await t.factories.user({ role: 'supervisor' });
  try {
    await new Promise((r) => setTimeout(r, 6_000));
    stopTraffic();
    const summary = await waitFor(async () => {
      const s = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
      return s.returnedMinor > 0 ? s : undefined;
    }, 'returned money in the statistics', 40_000);
    expect(summary.returnedMinor).toBeGreaterThan(0);
    expect(summary.returnRateBasisPoints).toBeGreaterThan(0);
    const paid = await t.db('hold_returns').where({ status: 'paid' });
    expect(paid.length).toBeGreaterThan(0);

    const lapsed = await waitFor(async () => {
      const rows = await t.db('holds').where({ status: 'expired' });
      return rows.length > 0 ? rows : undefined;
    }, 'the first stop-payment to lapse', 60_000);
    expect(lapsed).toHaveLength(1);
    expect(lapsed[0]).toMatchObject({ stage: 'stop_payment', balance_minor: 0, renewals: 0 });
    expect(lapsed[0].released_minor).toBe(lapsed[0].frozen_minor);
    expect(await t.db('events').where({ hold_id: lapsed[0].id, type: 'hold.expired', actor_type: 'system' })).toHaveLength(1);
    // Every other stop-payment was turned into a freeze.
    expect(await t.db('holds').where({ stage: 'stop_payment', status: 'active' })).toHaveLength(0);

    const disputes = await t.db('hold_disputes');
    expect(disputes).toHaveLength(1);
    const disputedHold = await t.db('holds').where({ id: disputes[0].hold_id }).first();
    const liaison = await t.db('users').where({ id: disputes[0].opened_by_id }).first();
    expect(disputes[0]).toMatchObject({ status: 'open', institution_id: disputedHold.institution_id });
    expect(liaison).toMatchObject({ role: 'liaison', institution_id: disputedHold.institution_id });

    for (const h of await t.db('holds').select('id')) await expectConsistent(t, h.id);
  } finally {
    stopTraffic();
    stopAftercare();
    await workers.close();
  }
}, 150_000);
