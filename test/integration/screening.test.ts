import { randomBytes } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let payerBank: TestInstitution;
let otherBank: TestInstitution;
let screener: TestUser;
let screenerSystem: TestUser;
let payerLiaison: TestUser;
let otherLiaison: TestUser;
let supervisor: TestUser;
let officer: TestUser;

// Each test draws its own digits, so tests never see each other's payees or payments.
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
const account = (prefix: string) => `${prefix}${digits(10)}`;
const ref = () => `pay-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  t = await testApp();
  // The payer's bank: payer accounts 6217 00… route here. The screening bank has its own prefix.
  payerBank = await t.factories.institution({ kind: 'bank', name: 'Payer Bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  otherBank = await t.factories.institution({ kind: 'bank', name: 'Screening Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622848' }] });
  screener = await t.factories.user({ role: 'liaison', institutionId: otherBank.id });
  screenerSystem = await t.factories.user({ role: 'partner_system', institutionId: otherBank.id });
  payerLiaison = await t.factories.user({ role: 'liaison', institutionId: payerBank.id });
  otherLiaison = await t.factories.user({ role: 'liaison', institutionId: otherBank.id });
  supervisor = await t.factories.user({ role: 'supervisor' });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

async function indicator(kind: string, value: string, status: 'suspected' | 'confirmed' | 'blocked'): Promise<void> {
  await t.db('indicators').insert({ kind, value, status });
}

type Item = { ref: string; payer: { account: string; name?: string }; payee: { kind: string; value: string }; amountMinor: number; currency?: string };

const item = (payee: { kind: string; value: string }, over: Partial<Item> = {}): Item => ({
  ref: ref(), payer: { account: account('621700'), name: 'Zhao Lei' }, payee, amountMinor: 2_000_000, currency: 'CNY', ...over,
});

const screen = (items: Item[], as: TestUser = screener) => t.api.as(as).post('/api/v1/screening').send({ items });

async function warningTasks(refs: string[]) {
  return t.db('tasks').where({ kind: 'warn_payer' }).whereRaw(`payment->>'ref' = ANY(?)`, [refs]);
}

describe('POST /api/v1/screening', () => {
  it('answers allow, warn or hold by the payee in request order, and opens one warning per warn or hold at the payer\'s bank', async () => {
    const suspected = account('622848');
    const confirmed = account('622848');
    const blockedPhone = `+86171${digits(8)}`;
    const reported = account('622202');
    await indicator('bank_account', suspected, 'suspected');
    await indicator('bank_account', confirmed, 'confirmed');
    await indicator('phone', blockedPhone, 'blocked');
    // A victim's receiving account only: no indicator row, but a report cites it.
    const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: reported, amountMinor: 100_000 }], indicators: [],
    }));
    expect(filed.status).toBe(201);

    const items = [
      item({ kind: 'bank_account', value: account('622848') }),                    // unknown: allow
      item({ kind: 'bank_account', value: `${suspected.slice(0, 4)} ${suspected.slice(4)}` }), // suspected, typed with a space
      item({ kind: 'bank_account', value: confirmed }, { amountMinor: 7_500_000 }),
      item({ kind: 'phone', value: blockedPhone }, { payer: { account: account('999999') } }), // payer's bank unknown: unrouted
      item({ kind: 'bank_account', value: reported }),
      item({ kind: 'url', value: 'not a url at all' }),                             // cannot be normalized: never flagged
    ];
    const res = await screen(items);
    expect(res.status).toBe(200);
    const results = res.body.results as { ref: string; decision: string; indicator: unknown; taskId: string | null }[];
    expect(results.map((r) => r.ref)).toEqual(items.map((i) => i.ref));
    expect(results.map((r) => r.decision)).toEqual(['allow', 'warn', 'hold', 'hold', 'warn', 'allow']);
    expect(results[0]!.indicator).toBeNull();
    expect(results[1]!.indicator).toEqual({ kind: 'bank_account', value: suspected, status: 'suspected', reportCount: 0 });
    expect(results[2]!.indicator).toEqual({ kind: 'bank_account', value: confirmed, status: 'confirmed', reportCount: 0 });
    expect(results[3]!.indicator).toEqual({ kind: 'phone', value: blockedPhone, status: 'blocked', reportCount: 0 });
    expect(results[4]!.indicator).toEqual({ kind: 'bank_account', value: reported, status: 'suspected', reportCount: 1 });
    expect(results[5]!.indicator).toBeNull();
    expect(results[0]!.taskId).toBeNull();
    expect(results[5]!.taskId).toBeNull();

    const tasks = await warningTasks(items.map((i) => i.ref));
    expect(tasks).toHaveLength(4);
    const byRef = new Map(tasks.map((x) => [x.payment.ref, x]));
    const held = byRef.get(items[2]!.ref)!;
    expect(held).toMatchObject({
      family: 'warning', institution_id: payerBank.id, status: 'queued', target_kind: 'bank_account',
      target_value: items[2]!.payer.account, target_name: 'Zhao Lei', amount_minor: 7_500_000, currency: 'CNY', report_id: null,
    });
    expect(held.payment).toEqual({
      ref: items[2]!.ref, screenedBy: otherBank.id, decision: 'hold',
      payee: { kind: 'bank_account', value: confirmed, status: 'confirmed', reportCount: 0 },
    });
    expect(results[2]!.taskId).toBe(held.id);
    expect(byRef.get(items[3]!.ref)).toMatchObject({ status: 'unrouted', institution_id: null });
    const jobs = await t.queueJobIds(`partner-${payerBank.id}`);
    for (const r of [1, 2, 4]) expect(jobs).toContain(byRef.get(items[r]!.ref)!.id);
    const events = await t.db('events').whereIn('task_id', tasks.map((x) => x.id));
    expect(events.map((e) => e.type).sort()).toEqual(['task.queued', 'task.queued', 'task.queued', 'task.unrouted']);
  });

  it('writes nothing for a batch that is all allow', async () => {
    const count = async () => (await t.db.raw(`SELECT (SELECT count(*) FROM tasks)::int AS tasks, (SELECT count(*) FROM stats_deltas)::int AS deltas,
      (SELECT count(*) FROM events)::int AS events`)).rows[0];
    const before = await count();
    const res = await screen(Array.from({ length: 1000 }, () => item({ kind: 'bank_account', value: account('622848') })));
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1000);
    expect(new Set(res.body.results.map((r: { decision: string }) => r.decision))).toEqual(new Set(['allow']));
    expect(await count()).toEqual(before);
  });

  it('a retried payment answers its first decision and task, even after the payee was confirmed, and opens nothing more', async () => {
    const payee = account('622848');
    await indicator('bank_account', payee, 'suspected');
    const items = [item({ kind: 'bank_account', value: payee }), item({ kind: 'bank_account', value: payee })];
    const first = await screen(items);
    expect(first.body.results.map((r: { decision: string }) => r.decision)).toEqual(['warn', 'warn']);

    await t.db('indicators').where({ kind: 'bank_account', value: payee }).update({ status: 'confirmed' });
    const again = await screen([...items].reverse());
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual([...first.body.results].reverse());
    expect(await warningTasks(items.map((i) => i.ref))).toHaveLength(2);

    // A new payment to the same payee is screened afresh.
    const fresh = await screen([item({ kind: 'bank_account', value: payee })]);
    expect(fresh.body.results[0].decision).toBe('hold');
  });

  it('racing retries of the same payments, in any order, open one warning each and all answer the same', async () => {
    const payee = account('622848');
    await indicator('bank_account', payee, 'suspected');
    const items = Array.from({ length: 40 }, () => item({ kind: 'bank_account', value: payee }));
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => screen(i % 2 ? [...items].reverse() : items, i % 3 ? screener : screenerSystem)));
    for (const a of answers) expect(a.status).toBe(200);
    const tasks = await warningTasks(items.map((i) => i.ref));
    expect(tasks).toHaveLength(40);
    const taskOf = new Map(tasks.map((x) => [x.payment.ref, x.id]));
    for (const a of answers) {
      for (const r of a.body.results as { ref: string; decision: string; taskId: string }[]) {
        expect(r.decision).toBe('warn');
        expect(r.taskId).toBe(taskOf.get(r.ref));
      }
    }
    const issued = await t.db('stats_deltas').sum({ n: 'warnings_issued' }).whereRaw('warnings_issued > 0');
    const warned = await t.db('tasks').where({ kind: 'warn_payer' }).count({ n: '*' });
    expect(Number(issued[0]!.n)).toBe(Number(warned[0]!.n));
  });

  it('a ref is the screening institution\'s own: another institution\'s payment with the same ref is another warning', async () => {
    const payee = account('622848');
    await indicator('bank_account', payee, 'blocked');
    const one = item({ kind: 'bank_account', value: payee });
    const mine = await screen([one]);
    const theirs = await screen([one], payerLiaison);
    expect(mine.body.results[0].taskId).not.toBe(theirs.body.results[0].taskId);
    const tasks = await warningTasks([one.ref]);
    expect(tasks.map((x) => x.payment.screenedBy).sort()).toEqual([otherBank.id, payerBank.id].sort());
  });

  it('refuses anyone but a partner institution, and bad input with the path of each problem', async () => {
    const ok = [item({ kind: 'bank_account', value: account('622848') })];
    expect((await t.api.raw().post('/api/v1/screening').send({ items: ok })).status).toBe(401);
    for (const role of ['desk_officer', 'supervisor', 'admin'] as const) {
      const staff = await t.factories.user({ role });
      const res = await screen(ok, staff);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }

    const tooMany = await screen(Array.from({ length: 1001 }, () => ok[0]!));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0].path).toBe('items');

    const twice = await screen([ok[0]!, { ...ok[0]!, payee: { kind: 'phone', value: '+8617100001234' } }]);
    expect(twice.status).toBe(400);
    expect(twice.body.error.details).toEqual([expect.objectContaining({ path: 'items.1.ref' })]);

    const badPayer = await screen([item({ kind: 'bank_account', value: account('622848') }, { payer: { account: 'ACME-1' } })]);
    expect(badPayer.status).toBe(400);
    expect(badPayer.body.error.details[0].path).toBe('items.0.payer.account');

    const fractional = await t.api.as(screener).post('/api/v1/screening').send({ items: [{ ...ok[0], amountMinor: 12.5 }] });
    expect(fractional.status).toBe(400);
    expect(fractional.body.error.details[0].path).toBe('items.0.amountMinor');

    const noKind = await t.api.as(screener).post('/api/v1/screening').send({ items: [{ ...ok[0], payee: { value: '1' } }] });
    expect(noKind.body.error.details[0].path).toBe('items.0.payee.kind');

    const form = await t.api.as(screener).post('/api/v1/screening').type('form').send('items=1');
    expect(form.status).toBe(415);
    const broken = await t.api.as(screener).post('/api/v1/screening').set('content-type', 'application/json').send('{"items": [');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('malformed_json');
    expect(await warningTasks([ok[0]!.ref])).toHaveLength(0);
  });
});

describe('warn_payer tasks and the warnings figures', () => {
  type Warnings = { issued: number; dissuaded: number; dissuadedMinor: number };
  const warnings = async (): Promise<Warnings> => {
    const res = await t.api.as(supervisor).get('/api/v1/stats/summary');
    expect(res.status).toBe(200);
    return res.body.warnings;
  };
  /** The same figures counted from the tasks and their results (today's, in the center's zone). */
  const recount = async (): Promise<Warnings> => {
    const { rows } = await t.db.raw(
      `SELECT count(*)::int AS issued,
              count(r.id) FILTER (WHERE r.outcome = 'dissuaded')::int AS dissuaded,
              coalesce(sum(t.amount_minor) FILTER (WHERE r.outcome = 'dissuaded' AND t.currency = 'CNY'), 0)::bigint AS dissuaded_minor
         FROM tasks t LEFT JOIN task_results r ON r.task_id = t.id
        WHERE t.kind = 'warn_payer' AND date_trunc('month', t.created_at AT TIME ZONE ?) = date_trunc('month', now() AT TIME ZONE ?)`,
      [t.config.timeZone, t.config.timeZone],
    );
    return { issued: rows[0].issued, dissuaded: rows[0].dissuaded, dissuadedMinor: Number(rows[0].dissuaded_minor) };
  };

  it('the payer\'s bank answers dissuaded, proceeded or not reached, only for its own warnings, and the figures follow', async () => {
    const payee = account('622848');
    await indicator('bank_account', payee, 'suspected');
    const items = [1_000_00, 2_000_00, 3_000_00].map((amountMinor) => item({ kind: 'bank_account', value: payee }, { amountMinor }));
    const res = await screen(items);
    const [a, b, c] = res.body.results.map((r: { taskId: string }) => r.taskId) as string[];
    const before = await warnings();

    const task = await t.api.as(payerLiaison).get(`/api/v1/tasks/${a}`);
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({ kind: 'warn_payer', family: 'warning', amountMinor: 1_000_00, payment: { ref: items[0]!.ref, decision: 'warn' } });
    expect((await t.api.as(otherLiaison).get(`/api/v1/tasks/${a}`)).status).toBe(404);
    expect((await t.api.as(otherLiaison).post(`/api/v1/tasks/${a}/result`).send({ outcome: 'dissuaded' })).status).toBe(404);

    const frozen = await t.api.as(payerLiaison).post(`/api/v1/tasks/${a}/result`).send({ outcome: 'frozen', frozenMinor: 100 });
    expect(frozen.status).toBe(400);
    expect(frozen.body.error.details.map((d: { path: string }) => d.path)).toContain('outcome');

    const answered = await Promise.all([
      t.api.as(payerLiaison).post(`/api/v1/tasks/${a}/result`).send({ outcome: 'dissuaded' }),
      t.api.as(payerLiaison).post(`/api/v1/tasks/${b}/result`).send({ outcome: 'proceeded', note: 'customer insisted' }),
      t.api.as(payerLiaison).post(`/api/v1/tasks/${c}/result`).send({ outcome: 'not_reached' }),
    ]);
    expect(answered.map((r) => [r.status, r.body.status])).toEqual([[200, 'done'], [200, 'done'], [200, 'failed']]);
    expect((await t.api.as(payerLiaison).post(`/api/v1/tasks/${a}/result`).send({ outcome: 'proceeded' })).body.error.code).toBe('task_closed');

    const after = await warnings();
    expect(after).toEqual({ issued: before.issued, dissuaded: before.dissuaded + 1, dissuadedMinor: before.dissuadedMinor + 1_000_00 });
    // Never loss prevented: nothing was frozen.
    const summary = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
    expect(await t.db('loss_prevention_ledger').whereIn('task_id', [a, b, c])).toHaveLength(0);
    expect(summary.lossPreventedMinor).toBe(0);
    expect(after).toEqual(await recount());
  });

  it('stays exact under racing screenings and answers, before and after the rollups are folded', async () => {
    const payee = account('622848');
    await indicator('bank_account', payee, 'confirmed');
    const batches = Array.from({ length: 6 }, (_, i) => Array.from({ length: 15 }, (_, j) => item({ kind: 'bank_account', value: payee }, { amountMinor: 1 + i * 100 + j })));
    const screened = await Promise.all(batches.map((b) => screen(b)));
    const ids = screened.flatMap((s) => s.body.results.map((r: { taskId: string }) => r.taskId)) as string[];
    expect(new Set(ids).size).toBe(90);
    const outcomes = ['dissuaded', 'proceeded', 'not_reached'] as const;
    const answers = await Promise.all(ids.map((id, i) => t.api.as(payerLiaison).post(`/api/v1/tasks/${id}/result`).send({ outcome: outcomes[i % 3] })));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const counted = await recount();
    expect(await warnings()).toEqual(counted);
    await t.deps.services.stats.fold();
    expect(await t.db('stats_deltas').whereRaw('warnings_issued <> 0 OR warnings_dissuaded <> 0')).toHaveLength(0);
    expect(await warnings()).toEqual(counted);
  });
});

describe('OpenAPI', () => {
  it('describes the screening route from its schemas', async () => {
    const doc = (await t.api.raw().get('/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/screening'].post;
    expect(op.requestBody.content['application/json'].schema).toBeDefined();
    expect(JSON.stringify(op.responses['200'])).toContain('decision');
  });
});
