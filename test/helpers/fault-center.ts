import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { databaseQueuePrefix, parseConfig } from '../../server/config';
import { createDb, type Db } from '../../server/db';
import { issueToken } from '../../server/auth/tokens';
import { cloneTemplate, dropDatabase } from './databases';
import { createFactories, type TestInstitution, type TestUser } from './factories';
import { reportBody } from './bodies';
import { testEnv } from './test-app';
import { waitFor } from './lifecycle';
import type { Started } from './processes';
import { forgetRedisQueues } from './queue-backend';

/** Ports the fault suite listens on: its servers, proxies and private Redis stay inside this range. */
const PORT_RANGE = { first: 43100, last: 43999 };
const handedOut = new Set<number>();

/** A free port of the suite's range. */
export async function ownPort(): Promise<number> {
  const span = PORT_RANGE.last - PORT_RANGE.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_RANGE.first + ((offset + i) % span);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port in the fault suite\'s range');
}

/** Settings that make the processes under test react within a second or two. */
export const QUICK = {
  INSTITUTION_POLL_MS: '500',
  RECONCILE_INTERVAL_MS: '500',
  RECONCILE_MIN_AGE_MS: '1000',
  SIMULATED_DELAY_MS: '200',
  JOB_BACKOFF_MS: '100',
  SHUTDOWN_TIMEOUT_MS: '8000',
  LOG_LEVEL: 'info',
  // The load files hundreds of reports a minute as one desk officer.
  QUOTA_REPORTS_USER: '100000',
};

const BANK_SIM_PREFIX = '622848';
const BANK_MANUAL_PREFIX = '622202';
const CARRIER_PREFIX = '+86139';

export type FaultCenter = {
  database: string;
  queuePrefix: string;
  db: Db;
  redisUrl: string;
  /** The environment of a web or worker process of this center. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  simBank: TestInstitution;
  manualBank: TestInstitution;
  carrier: TestInstitution;
  officer: TestUser;
  liaison: TestUser;
  supervisor: TestUser;
  tokenOf(user: TestUser): string;
  close(): Promise<void>;
};

/**
 * A center of its own for one fault test: a database cloned from the migrated template, a queue
 * prefix, a simulated bank and carrier (the worker process answers their tasks), a manual bank
 * whose liaison answers through the API, and the people who file and answer.
 */
export async function faultCenter(opts: {
  redisUrl?: string;
  /** null: no QUEUE_PREFIX, the default that follows the database. */
  queuePrefix?: string | null;
  bankWebhookUrl?: string;
  /** Fixed institution ids (two centers with the same ids have queues of the same names). */
  ids?: { simBank: string; manualBank: string; carrier: string };
} = {}): Promise<FaultCenter> {
  const suffix = randomBytes(5).toString('hex');
  const database = `afrc_test_${suffix}`;
  await cloneTemplate(database);
  const queuePrefix = opts.queuePrefix === null ? databaseQueuePrefix(testEnv(database, '').DATABASE_URL!) : opts.queuePrefix ?? `afrc-test-${suffix}`;
  const base = testEnv(database, queuePrefix, opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {});
  const config = parseConfig(base);
  const db = createDb(base.DATABASE_URL!, 4);
  const f = createFactories(db);
  const simBank = await f.institution({ id: opts.ids?.simBank, kind: 'bank', integration: 'simulated', routes: [{ indicatorKind: 'bank_account', prefix: BANK_SIM_PREFIX }] });
  // Its liaison answers what is delivered to it, whether it is delivered to the inbox or to a webhook.
  const manualBank = await f.institution({
    id: opts.ids?.manualBank, kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: BANK_MANUAL_PREFIX }],
    ...(opts.bankWebhookUrl ? { integration: 'webhook', webhookUrl: opts.bankWebhookUrl, webhookSecret: 'partner-shared-secret-0123456789' } : { integration: 'manual' }),
  });
  const carrier = await f.institution({ id: opts.ids?.carrier, kind: 'carrier', integration: 'simulated', routes: [{ indicatorKind: 'phone', prefix: CARRIER_PREFIX }] });
  const officer = await f.user({ role: 'desk_officer' });
  const supervisor = await f.user({ role: 'supervisor' });
  const liaison = await f.user({ role: 'liaison', institutionId: manualBank.id });
  const tokenOf = (u: TestUser) =>
    issueToken(config, { id: u.id, type: 'user', name: u.username, role: u.role, institutionId: u.institutionId }).token;
  return {
    database, queuePrefix, db, redisUrl: base.REDIS_URL!, simBank, manualBank, carrier, officer, liaison, supervisor, tokenOf,
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = { ...base, ...QUICK, ...extra };
      // No QUEUE_PREFIX: the default, which follows the database.
      if (opts.queuePrefix === null) delete env.QUEUE_PREFIX;
      return env;
    },
    async close() {
      await db.destroy();
      if (queuePrefix) await forgetRedisQueues(base.REDIS_URL, queuePrefix);
      await dropDatabase(database);
    },
  };
}

let accountSeq = 0;
const digits = (n: number, width: number) => String(n).padStart(width, '0');

/** One report's body: a transfer to each bank and a number at the carrier, all its own. */
export function loadReport(): ReturnType<typeof reportBody> {
  const n = ++accountSeq;
  const salt = `${process.pid % 1000}`.padStart(3, '0');
  return reportBody({
    transfers: [
      { toAccount: `${BANK_SIM_PREFIX}${salt}${digits(n, 7)}`, amountMinor: 100_000 + n, transferredAt: '2026-11-28T09:30:00+08:00' },
      { toAccount: `${BANK_MANUAL_PREFIX}${salt}${digits(n, 7)}`, amountMinor: 200_000 + n, transferredAt: '2026-11-28T09:31:00+08:00' },
    ],
    indicators: [{ kind: 'phone', value: `+86 139 ${salt.slice(0, 1)}${digits(n, 7)}` }],
  });
}

export type Attempt = { status: number | 'error'; code?: string; error?: string; at: number };

/** JSON over HTTP with a fresh connection per request, so a request and its connection are one. */
export async function call(base: string, method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, any> };
}

/**
 * Traffic while a fault happens: desk officers file reports (each with its own Idempotency-Key)
 * and the manual bank's liaison answers its delivered tasks. What each request got is kept, so
 * that afterwards the unanswered reports can be filed again with their keys.
 */
const loads = new Set<Load>();

/** For afterAll: stops every load a test left running (a failed expectation skips its own stop). */
export async function stopLoads(): Promise<void> {
  await Promise.all([...loads].map((l) => l.stop()));
}

export class Load {
  readonly reports = new Map<string, { body: ReturnType<typeof loadReport>; attempts: Attempt[] }>();
  readonly results: Attempt[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly center: FaultCenter, private readonly base: () => string) {}

  start(filers = 2): void {
    loads.add(this);
    this.running = true;
    for (let i = 0; i < filers; i++) this.loops.push(this.fileLoop());
    this.loops.push(this.answerLoop());
  }

  async stop(): Promise<void> {
    loads.delete(this);
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Keys whose last attempt was not a 201. */
  unanswered(): string[] {
    return [...this.reports].filter(([, r]) => r.attempts.at(-1)?.status !== 201).map(([k]) => k);
  }

  /** Files one report (again, for a known key). */
  async file(key: string = randomUUID()): Promise<Attempt> {
    let entry = this.reports.get(key);
    if (!entry) {
      entry = { body: loadReport(), attempts: [] };
      this.reports.set(key, entry);
    }
    const attempt = await this.attempt(() => call(this.base(), 'POST', '/api/v1/reports', this.center.tokenOf(this.center.officer), entry!.body, { 'idempotency-key': key }));
    entry.attempts.push(attempt);
    return attempt;
  }

  /** Files every unanswered report again with its key, until each is 201. */
  async replay(timeoutMs = 60_000): Promise<void> {
    try {
      await waitFor(async () => {
        for (const key of this.unanswered()) await this.file(key);
        return this.unanswered().length === 0;
      }, 'every report to be filed', timeoutMs, 500);
    } catch {
      const keys = this.unanswered();
      const some = keys.slice(0, 5).map((k) => ({ key: k, last: this.reports.get(k)!.attempts.slice(-3).map((a) => `${a.status} ${a.code ?? a.error ?? ''}`) }));
      throw new Error(`${keys.length} reports still not filed after ${timeoutMs} ms, for example: ${JSON.stringify(some)}`);
    }
  }

  /** Answers every task delivered to the manual bank: money frozen in full, blocks done. */
  async answerAll(): Promise<number> {
    const token = this.center.tokenOf(this.center.liaison);
    const page = await call(this.base(), 'GET', '/api/v1/tasks?status=dispatched&limit=100', token);
    if (page.status !== 200) return 0;
    let answered = 0;
    for (const task of page.body.items as { id: string; kind: string; amountMinor: number | null; version: number }[]) {
      const body = task.kind === 'intercept_funds'
        ? { outcome: 'frozen', frozenMinor: task.amountMinor, version: task.version }
        : { outcome: 'blocked', version: task.version };
      const attempt = await this.attempt(() => call(this.base(), 'POST', `/api/v1/tasks/${task.id}/result`, token, body));
      this.results.push(attempt);
      if (attempt.status === 200) answered++;
    }
    return answered;
  }

  private async attempt(send: () => Promise<{ status: number; body: Record<string, any> }>): Promise<Attempt> {
    try {
      const res = await send();
      return { status: res.status, code: res.body?.error?.code, at: Date.now() };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return { status: 'error', error: cause?.code ?? (err instanceof Error ? err.message : String(err)), at: Date.now() };
    }
  }

  private async fileLoop(): Promise<void> {
    while (this.running) {
      const a = await this.file();
      if (a.status !== 201) await sleep(100);
    }
  }

  private async answerLoop(): Promise<void> {
    while (this.running) {
      await this.answerAll().catch(() => 0);
      await sleep(200);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const count = async (q: PromiseLike<{ n: string | number }[]>) => Number((await q)[0]?.n ?? 0);

/**
 * Waits until the center is at rest: no task waiting for delivery, every task at a simulated
 * partner answered, the manual bank's delivered tasks answered, and every rollup delta folded.
 */
export async function settle(center: FaultCenter, load: Load, timeoutMs = 120_000): Promise<void> {
  const { db } = center;
  let last: unknown;
  try {
    await waitFor(async () => {
      await load.answerAll().catch(() => 0);
      const waiting: { status: string; institution_id: string; n: string }[] = await db('tasks')
        .whereIn('status', ['queued', 'dispatched', 'delivery_failed']).select('status', 'institution_id').count('* as n').groupBy('status', 'institution_id');
      const deltas = await count(db('stats_deltas').count('* as n'));
      last = { waiting, deltas };
      return waiting.length === 0 && deltas === 0;
    }, 'the center to settle', timeoutMs, 500);
  } catch {
    throw new Error(`the center did not settle (every task answered, every delta folded) within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }
}

/**
 * What no fault may break: every report whole (its transfers, their interceptions, its indicator),
 * every filed report there once, every task delivered once, every frozen amount booked once, and
 * the rollups equal to a recount of the rows they sum.
 */
export async function expectInvariants(center: FaultCenter, load: Load): Promise<void> {
  const { db } = center;
  // No request ever failed with anything but the documented 503.
  const attempts = [...[...load.reports.values()].flatMap((r) => r.attempts), ...load.results];
  expect(attempts.filter((a) => typeof a.status === 'number' && a.status >= 500 && a.status !== 503)).toEqual([]);
  // Every report filed once, whole.
  const reports: { id: string; reported_loss_minor: string }[] = await db('reports').select('id', 'reported_loss_minor');
  expect(reports.length).toBe(load.reports.size);
  const keys: { n: string }[] = await db('idempotency_keys').where('actor_id', center.officer.id).whereNotNull('response_status').count('* as n');
  expect(Number(keys[0]!.n)).toBe(load.reports.size);
  const broken = await db.raw(`
    SELECT r.id,
           (SELECT count(*) FROM transfers x WHERE x.report_id = r.id) AS transfers,
           (SELECT coalesce(sum(x.amount_minor), 0) FROM transfers x WHERE x.report_id = r.id) AS transferred,
           (SELECT count(*) FROM tasks t JOIN transfers x ON x.id = t.transfer_id
             WHERE x.report_id = r.id AND t.report_id = r.id AND t.kind = 'intercept_funds' AND t.depth = 1) AS interceptions,
           (SELECT count(*) FROM report_indicators ri WHERE ri.report_id = r.id) AS indicators,
           (SELECT count(*) FROM events e WHERE e.report_id = r.id AND e.type = 'report.created') AS created
      FROM reports r`);
  for (const row of broken.rows as Record<string, string>[]) {
    expect({ id: row.id, transfers: Number(row.transfers), interceptions: Number(row.interceptions), indicators: Number(row.indicators), created: Number(row.created) })
      .toEqual({ id: row.id, transfers: 2, interceptions: 2, indicators: 1, created: 1 });
  }

  // Every routed task delivered exactly once, and none left waiting.
  const dispatches = await db.raw(`
    SELECT t.id, t.status, count(e.id) AS n FROM tasks t
      LEFT JOIN events e ON e.task_id = t.id AND e.type = 'task.dispatched'
     WHERE t.institution_id IS NOT NULL GROUP BY t.id, t.status`);
  const wrong = (dispatches.rows as { id: string; status: string; n: string }[]).filter((r) => Number(r.n) !== 1);
  expect(wrong).toEqual([]);
  expect((dispatches.rows as unknown[]).length).toBeGreaterThan(0);

  // Every frozen amount booked once, and the rollups equal to a recount of the ledger and the rows.
  const twice = await db('loss_prevention_ledger').select('task_id').where('entry_type', 'freeze').groupBy('task_id').havingRaw('count(*) > 1');
  expect(twice).toEqual([]);
  const unbooked = await db.raw(`
    SELECT r.task_id FROM task_results r JOIN tasks t ON t.id = r.task_id
     WHERE t.family = 'money' AND r.frozen_minor > 0
       AND NOT EXISTS (SELECT 1 FROM loss_prevention_ledger l WHERE l.task_id = r.task_id AND l.entry_type = 'freeze' AND l.amount_minor = r.frozen_minor)`);
  expect(unbooked.rows).toEqual([]);
  const one = async (sql: string) => Number(Object.values((await db.raw(sql)).rows[0] as Record<string, string | null>)[0] ?? 0);
  const ledger = await one(`SELECT coalesce(sum(amount_minor), 0) FROM loss_prevention_ledger WHERE entry_type IN ('freeze', 'correction')`);
  expect(ledger).toBeGreaterThan(0);
  expect(await one('SELECT count(*) FROM stats_deltas')).toBe(0);
  expect(await one('SELECT coalesce(sum(loss_prevented_minor), 0) FROM stats_daily')).toBe(ledger);
  expect(await one('SELECT coalesce(sum(loss_prevented_minor), 0) FROM stats_institution_daily')).toBe(ledger);
  expect(await one('SELECT coalesce(sum(reports), 0) FROM stats_daily')).toBe(reports.length);
  expect(await one('SELECT coalesce(sum(reported_loss_minor), 0) FROM stats_daily')).toBe(reports.reduce((s, r) => s + Number(r.reported_loss_minor), 0));
  expect(await one(`SELECT coalesce(sum(tasks_done), 0) FROM stats_institution_daily`)).toBe(await one(`SELECT count(*) FROM tasks WHERE status = 'done'`));
  expect(await one(`SELECT coalesce(sum(tasks_failed), 0) FROM stats_institution_daily`)).toBe(await one(`SELECT count(*) FROM tasks WHERE status = 'failed'`));
}

/** The summary the API answers for the period of the test (today), as a supervisor reads it. */
export async function statsSummary(center: FaultCenter, base: string) {
  const res = await call(base, 'GET', '/api/v1/stats/summary', center.tokenOf(center.supervisor));
  expect(res.status).toBe(200);
  return res.body;
}

/**
 * The log lines a process wrote between two moments, apart from request lines (traffic is not a
 * flood): what an operator would read about a fault.
 */
export function logLinesBetween(p: Started, from: number, to: number): Record<string, unknown>[] {
  return p.logLines().filter((l) => typeof l.time === 'number' && l.time >= from && l.time <= to && !('req' in l) && !('res' in l));
}
