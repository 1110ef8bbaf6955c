import { createLogger } from '../../server/logger';
import { seedDemo } from '../../server/cli/seed';
import { DEMO_CLOCKS, DEMO_REPORT_EVERY_MS, startDemoAftercare, startDemoTraffic } from '../../server/cli/demo-traffic';
import { testApp, type TestApp } from '../helpers/test-app';
import { FAST_WORKERS, waitFor } from '../helpers/lifecycle';
import { expectConsistent } from '../helpers/holds';
import { startWorkers } from '../../workers/main';

let t: TestApp;

beforeAll(async () => {
  // The demo's clocks (npm run demo sets the same, and simulated partners answer after the default 4 s); fast workers only to start quickly.
  t = await testApp({ ...FAST_WORKERS, SIMULATED_DELAY_MS: '4000', ...DEMO_CLOCKS });
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
  const started = Date.now();
  // As `npm run demo` runs it: a report every 10 s, the officer after the held money every 3 s.
  const stopTraffic = await startDemoTraffic(t.db, services.reports, log, DEMO_REPORT_EVERY_MS);
  const stopAftercare = await startDemoAftercare(t.db, services.holds, log);
  const supervisor = await t.factories.user({ role: 'supervisor' });
  let stopBurst = () => undefined as void;
  try {
    // A newcomer sees returned money on the dashboard's figures within two minutes.
    const summary = await waitFor(async () => {
      const s = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
      return BigInt(s.returnedMinor) > 0n ? s : undefined;
    }, 'returned money in the statistics', 120_000);
    const secondsToReturnedMoney = Math.round((Date.now() - started) / 1000);
    expect(secondsToReturnedMoney).toBeLessThan(120);
    expect(summary.returnRateBasisPoints).toBeGreaterThan(0);
    expect((await t.db('hold_returns').where({ status: 'paid' })).length).toBeGreaterThan(0);
    const page = await t.api.as(supervisor).get('/dashboard').set('Accept', 'text/html');
    expect(page.text).toMatch(/data-figure="funnel-returned"><span class="label">[^<]*(<span[^>]*>[^<]*<\/span>)?[^<]*<\/span><span class="value">¥[1-9]/);

    // Which answers the simulated banks give is chance: a burst of reports makes sure a stop-payment comes too.
    if ((await t.db('holds').where({ stage: 'stop_payment' })).length === 0 && (await t.db('events').where({ type: 'hold.renewed' })).length === 0) {
      stopBurst = await startDemoTraffic(t.db, services.reports, log, 300);
      await waitFor(async () => ((await t.db('holds').where({ stage: 'stop_payment' })).length > 0 ? true : undefined), 'a stop-payment', 30_000);
    }
    stopBurst();
    stopTraffic();
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
    stopBurst();
    stopTraffic();
    stopAftercare();
    await workers.close();
  }
}, 240_000);
