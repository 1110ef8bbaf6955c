/**
 * `npm run bench`: the system's performance figures, each against a baseline measured in the same
 * run on the same machine, as a Markdown table (and bench/results/last.json).
 *
 *   npm run bench                         everything, about 8–10 minutes on 2 cores
 *   npm run bench -- --quick              shorter phases and 100,000 reports of history (2–3 minutes)
 *   npm run bench -- --skip-history       no dashboard measure (no year of history to load)
 *   npm run bench -- --history-reports=N  the dashboard measure over N reports (3 N tasks)
 *
 * What it does: creates a fresh PostgreSQL database and Redis key prefix, migrates and seeds them
 * with the project's own commands, switches every partner to the `manual` integration (dispatch
 * goes into liaison inboxes; nobody answers), builds the project when it has a build, and starts
 * it as `npm start` does in production. A bare Express + pg server (the HTTP baseline) and bare
 * BullMQ workers (the dispatch baseline) run in their own processes, and every load comes from a
 * load-generator process of its own; inputs are made up before any clock starts. The history for
 * the dashboard is loaded last, so it weighs on no other figure. At the end (or on any failure,
 * or Ctrl-C) every process is stopped and the database and Redis keys are deleted.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { parseConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { createQueueConnection } from '../server/queues/connection';
import { TaskDispatcher } from '../server/queues/dispatcher';
import { partnerQueueName } from '../server/queues/names';
import { DEMO_CLIENT, DEMO_PASSWORD } from '../server/cli/seed';
import { buildIfThereIsABuild, clientToken, freePort, login, ROOT, startApp, type AppProcess } from './app-process';
import { prepareBareWorkers } from './bare-workers';
import { startBaselineServer, type BaselineServer } from './baseline-server';
import { createDatabase, databaseExists, databaseUrl, dropDatabase, makeEveryPartnerManual, migrateAndSeed, serverVersion } from './database';
import { CENTER_TIME_ZONE, generateHistory, insertQueuedTasks } from './generate-history';
import { accountFor, phoneFor, type LookupItem } from './inputs';
import { prepareLoad, runLoad, type LoadResult, type LoadSpec } from './load-generator';
import { killAllNow } from './processes';
import { markdownTable, met, writeJson, type Row } from './results-table';

// ---- options ------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const SKIP_HISTORY = argv.includes('--skip-history');
const historyArg = argv.find((a) => a.startsWith('--history-reports='));
const unknown = argv.filter((a) => !['--quick', '--skip-history'].includes(a) && !a.startsWith('--history-reports='));
if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(' ')}: use --quick, --skip-history, --history-reports=N`);

const SIZES = {
  warmupSeconds: QUICK ? 2 : 3,
  intakeSeconds: QUICK ? 6 : 20,
  intakeConnections: 50,
  lookupSeconds: QUICK ? 4 : 10,
  lookupItems: 1000,
  /** Payments per screening batch whose payee is flagged: about 1 %, each opening a warning. */
  screeningFlagged: 10,
  dispatchRate: 200,
  dispatchSeconds: QUICK ? 15 : 60,
  /** Enough that the rate is offered even while answers take up to half a second. */
  dispatchConnections: 100,
  workerQueues: 10,
  workerJobs: QUICK ? 6000 : 30_000,
  historyReports: historyArg ? Number(historyArg.split('=')[1]) : QUICK ? 100_000 : 1_000_000,
  historyDays: 365,
  dashboardSeconds: QUICK ? 4 : 10,
  /** Bodies a closed-loop intake load makes up per second of its run (more than any server here answers). */
  bodiesPerSecond: 4000,
};
if (!Number.isInteger(SIZES.historyReports) || SIZES.historyReports <= 0) throw new Error('--history-reports must be a positive whole number');

const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

// ---- the run ------------------------------------------------------------------------------------------

type Context = {
  db: pg.Pool;
  app: AppProcess;
  baseline: BaselineServer;
  officer: string;
  supervisor: string;
  partner: string;
  appEnv: NodeJS.ProcessEnv;
  queuePrefix: string;
  barePrefix: string;
};

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const problems: string[] = [];
let nextReportIndex = 0;

/** Each load files reports of its own: indexes are handed out once per run. */
function reportRange(count: number) {
  const firstIndex = nextReportIndex;
  nextReportIndex += count;
  return { firstIndex, count };
}

function intakeSpec(ctx: Context, title: string, target: 'app' | 'baseline', seconds: number, extra: Partial<LoadSpec> = {}): LoadSpec {
  return {
    title,
    url: target === 'app' ? `${ctx.app.url}/api/v1/reports` : `${ctx.baseline.url}/intake`,
    method: 'POST',
    headers: target === 'app' ? { authorization: `Bearer ${ctx.officer}` } : {},
    connections: SIZES.intakeConnections,
    durationSeconds: seconds,
    bodies: { kind: 'reports', ...reportRange(Math.ceil(seconds * SIZES.bodiesPerSecond)) },
    ...extra,
  };
}

function lookupSpec(ctx: Context, title: string, target: 'app' | 'baseline', known: LookupItem[]): LoadSpec {
  return {
    title,
    url: target === 'app' ? `${ctx.app.url}/api/v1/indicators/lookup` : `${ctx.baseline.url}/lookup`,
    method: 'POST',
    headers: target === 'app' ? { authorization: `Bearer ${ctx.partner}` } : {},
    // One partner screening its payments batch after batch: the latency of one call, not a queue of them.
    connections: 1,
    durationSeconds: SIZES.lookupSeconds,
    bodies: { kind: 'lookups', count: 100, itemsPerRequest: SIZES.lookupItems, known },
  };
}

/** Payment screening beside lookup: one bank screening batch after batch, as lookup is measured. */
function screeningSpec(ctx: Context, title: string, known: LookupItem[], flaggedPerRequest: number, refPrefix: string): LoadSpec {
  return {
    ...lookupSpec(ctx, title, 'app', known),
    url: `${ctx.app.url}/api/v1/screening`,
    bodies: { kind: 'screenings', count: 100, itemsPerRequest: SIZES.lookupItems, known, flaggedPerRequest, refPrefix },
  };
}

function statusNote(r: LoadResult): string {
  const bad = Object.entries(r.statusCodes).filter(([code]) => !code.startsWith('2'));
  const parts = [`${r.ok.toLocaleString('en')} ok`];
  if (bad.length) parts.push(`non-2xx ${bad.map(([c, n]) => `${c}×${n}`).join(', ')}`);
  if (r.errors) parts.push(`${r.errors} connection errors (${r.timeouts} timeouts)`);
  if (r.bodiesReused) parts.push(`${r.bodiesReused} bodies reused`);
  return parts.join('; ');
}

function logLoad(r: LoadResult) {
  say(`  ${r.title}: ${round(r.rate, 0)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms; ${statusNote(r)}`);
  raw[r.title] = r;
}

/** Dirty pages of what came before are written out, so that no phase pays for the last one. */
async function settle(db: pg.Pool) {
  await db.query('CHECKPOINT').catch(() => undefined);
}

/** Waits until no task is `queued`; answers how long that took, or null past the deadline. */
async function waitForNoQueued(db: pg.Pool, deadlineMs = 60_000): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    if (appGone()) return null;
    const { rows: [r] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE status = 'queued'`);
    if (r!.n === 0) return performance.now() - started;
    if (performance.now() - started > deadlineMs) {
      problems.push(`${r!.n} tasks were still queued ${deadlineMs / 1000} s after a phase`);
      return null;
    }
    await sleep(100);
  }
}

async function dbNow(db: pg.Pool): Promise<Date> {
  return (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;
}

let appUnderTest: AppProcess | undefined;
/** Starts the app again after something outside the run stopped it (set up by main). */
let restartApp: (() => Promise<void>) | undefined;
const MAX_RESTARTS = 2;
let restarts = 0;

/** True once the app under test has exited while the run still needs it. */
const appGone = () => Boolean(appUnderTest?.exit());

/**
 * A measure that fails is reported as such, and the run goes on to the next one. The app stops
 * with exit code 0 only on SIGTERM or SIGINT, which the run sends only at its end: when it exits
 * during a measure, something else on the machine stopped it. Its figures are then thrown away,
 * the app is started again (on the same database and queues) and the measure is taken again.
 */
async function phase(name: string, fn: () => Promise<void>) {
  for (let attempt = 1; ; attempt++) {
    say(`\n## ${name}${attempt > 1 ? ` (again, after a restart of the app)` : ''}`);
    const rowsBefore = rows.length;
    const started = performance.now();
    let failure: unknown;
    try {
      await fn();
    } catch (err) {
      failure = err;
    }
    say(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const gone = appUnderTest?.exit();
    if (!gone) {
      if (failure !== undefined) {
        const message = failure instanceof Error ? failure.message : String(failure);
        problems.push(`${name}: ${message.split('\n')[0]}`);
        say(`  FAILED: ${failure instanceof Error ? failure.stack : message}`);
      }
      return;
    }
    rows.length = rowsBefore;
    problems.push(`npm start was stopped from outside the run (exit code ${gone.code}, signal ${gone.signal}) at ${gone.at.toISOString()}, during "${name}"`);
    if (!restartApp || restarts >= MAX_RESTARTS) {
      throw new Error(`npm start exited at ${gone.at.toISOString()} (code ${gone.code}, signal ${gone.signal}) during "${name}"; the run stops here`);
    }
    restarts++;
    say(`  the app was stopped from outside; its figures are dropped, it is started again and "${name}" is measured again`);
    await restartApp();
  }
}

// ---- measures -----------------------------------------------------------------------------------------

async function warmUp(ctx: Context) {
  // The first seconds of a Node process run unoptimized code; neither side is measured cold.
  const known: LookupItem[] = [{ kind: 'phone', value: '+8613800138000' }];
  for (const target of ['baseline', 'app'] as const) {
    await runLoad(intakeSpec(ctx, `warm-up intake ${target}`, target, SIZES.warmupSeconds));
    await runLoad({ ...lookupSpec(ctx, `warm-up lookup ${target}`, target, known), durationSeconds: SIZES.warmupSeconds });
  }
  await waitForNoQueued(ctx.db);
}

async function intakeDistinct(ctx: Context) {
  await settle(ctx.db);
  const base = await runLoad(intakeSpec(ctx, 'intake baseline (Express + one INSERT)', 'baseline', SIZES.intakeSeconds));
  logLoad(base);
  raw.intakeBaseline = base;
  await settle(ctx.db);
  const app = await runLoad(intakeSpec(ctx, 'intake, distinct reports', 'app', SIZES.intakeSeconds));
  logLoad(app);
  const drain = await waitForNoQueued(ctx.db);
  const drainNote = `queued tasks drained ${drain === null ? 'not within 60 s' : `${round(drain / 1000)} s`} after the load`;
  say(`  ${drainNote}`);
  rows.push({
    measure: `intake, distinct reports, ${SIZES.intakeConnections} connections: throughput`,
    value: app.rate, baseline: base.rate, unit: 'req/s', better: 'higher', target: { ratioAtLeast: 0.4 },
    notes: `${statusNote(app)}; ${drainNote}`,
  }, {
    measure: 'intake, distinct reports: p99 latency',
    value: app.latencyMs.p99, baseline: base.latencyMs.p99, unit: 'ms', better: 'lower', target: { atMost: 100 },
    notes: `p50 ${app.latencyMs.p50} ms, max ${app.latencyMs.max} ms`,
  });
}

async function intakeHotSpot(ctx: Context) {
  const base = raw.intakeBaseline as LoadResult | undefined;
  // Values no other report uses (and new ones if the measure is taken again).
  const hot = { account: accountFor(9_000_000_000 + nextReportIndex), phone: phoneFor(80_000_000 + nextReportIndex) };
  await settle(ctx.db);
  const app = await runLoad(intakeSpec(ctx, 'intake, wave on one mule account and one phone', 'app', SIZES.intakeSeconds, {
    bodies: { kind: 'reports', ...reportRange(Math.ceil(SIZES.intakeSeconds * SIZES.bodiesPerSecond)), hot },
  }));
  logLoad(app);
  const drain = await waitForNoQueued(ctx.db);
  const drainNote = `queued tasks drained ${drain === null ? 'not within 60 s' : `${round(drain / 1000)} s`} after the load`;
  say(`  ${drainNote}`);
  const phone = hot.phone.replace(/\s/g, '');
  const { rows: [t] } = await ctx.db.query<{ blocking: number; open_blocking: number; intercepts: number }>(
    `SELECT count(*) FILTER (WHERE target_kind = 'phone')::int AS blocking,
            count(*) FILTER (WHERE target_kind = 'phone' AND status IN ('unrouted', 'queued', 'dispatched'))::int AS open_blocking,
            count(*) FILTER (WHERE target_kind = 'bank_account')::int AS intercepts
       FROM tasks WHERE target_value IN ($1, $2)`,
    [phone, hot.account.replace(/\s/g, '')],
  );
  const taskNote = `tasks on the hot phone ${t!.blocking} (${t!.open_blocking} open), on the hot account ${t!.intercepts}`;
  say(`  ${taskNote}`);
  raw.hotSpotTasks = t;
  rows.push({
    measure: 'intake, wave on one mule account + one phone: throughput',
    value: app.rate, baseline: base?.rate ?? null, unit: 'req/s', better: 'higher', target: { ratioAtLeast: 0.25 },
    notes: `${statusNote(app)}; ${app.status5xx} 5xx; ${drainNote}`,
  }, {
    measure: 'intake, wave: p99 latency',
    value: app.latencyMs.p99, baseline: base?.latencyMs.p99 ?? null, unit: 'ms', better: 'lower', target: { atMost: 200 },
    notes: `p50 ${app.latencyMs.p50} ms, max ${app.latencyMs.max} ms; ${taskNote}`,
  });
  if (app.status5xx > 0) problems.push(`the hot-spot wave got ${app.status5xx} answers 5xx`);
}

/**
 * Values the run filed (phones, URLs, receiving accounts), as the system stores them, each once:
 * the wave's mule account is one value among the others, not half of the accounts sampled.
 */
async function knownValues(db: pg.Pool): Promise<LookupItem[]> {
  const { rows: r } = await db.query<LookupItem>(`
    (SELECT kind, value FROM indicators WHERE kind = 'phone' ORDER BY random() LIMIT 700)
    UNION ALL (SELECT kind, value FROM indicators WHERE kind = 'url' ORDER BY random() LIMIT 700)
    UNION ALL (SELECT 'bank_account', a FROM (SELECT DISTINCT to_account AS a FROM transfers) x ORDER BY random() LIMIT 700)`);
  return r;
}

async function lookups(ctx: Context) {
  const known = await knownValues(ctx.db);
  say(`  ${known.length} known values sampled (half of every batch); the other half are values no report has named`);
  await settle(ctx.db);
  const baseIdle = await runLoad(lookupSpec(ctx, 'lookup baseline (Express + one query), idle', 'baseline', known));
  logLoad(baseIdle);
  const appIdle = await runLoad(lookupSpec(ctx, 'lookup, 1,000 items, idle', 'app', known));
  logLoad(appIdle);
  // Screening: a batch of clean payments reads what a lookup reads and writes nothing; one with
  // flagged payees also opens their warnings (one statement) and enqueues them.
  await settle(ctx.db);
  const screenClean = await runLoad(screeningSpec(ctx, 'screening, 1,000 payments, all allow, idle', known, 0, 'clean'));
  logLoad(screenClean);
  await settle(ctx.db);
  const screenFlagged = await runLoad(screeningSpec(ctx, `screening, 1,000 payments, ${SIZES.screeningFlagged} flagged, idle`, known, SIZES.screeningFlagged, 'flagged'));
  logLoad(screenFlagged);
  const { rows: [warned] } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE kind = 'warn_payer'`);
  say(`  ${warned!.n} warn_payer tasks opened (a batch sent again answers its first warnings and opens none)`);
  await waitForNoQueued(ctx.db);

  // Under load: the distinct-intake load runs, and the lookups start once it is going.
  const underLoad = async (target: 'app' | 'baseline') => {
    const intake = await prepareLoad(intakeSpec(ctx, `intake beside the lookups (${target})`, target, SIZES.lookupSeconds + 3));
    const lookup = await prepareLoad(lookupSpec(ctx, target === 'app' ? 'lookup, 1,000 items, under intake load' : 'lookup baseline, under baseline intake load', target, known));
    const intakeDone = intake.go();
    await sleep(1500);
    const l = await lookup.go();
    const i = await intakeDone;
    logLoad(i);
    logLoad(l);
    return { intake: i, lookup: l };
  };
  await settle(ctx.db);
  const baseLoaded = await underLoad('baseline');
  await settle(ctx.db);
  const appLoaded = await underLoad('app');
  await waitForNoQueued(ctx.db);
  rows.push({
    measure: 'lookup, 1,000 items, idle: p99 latency',
    value: appIdle.latencyMs.p99, baseline: baseIdle.latencyMs.p99, unit: 'ms', better: 'lower', target: { atMost: 20 },
    notes: `p50 ${appIdle.latencyMs.p50} ms; ${statusNote(appIdle)}`,
  }, {
    measure: 'screening, 1,000 payments, all allow, idle: p99 latency',
    value: screenClean.latencyMs.p99, baseline: baseIdle.latencyMs.p99, unit: 'ms', better: 'lower', target: { atMost: 20 },
    notes: `p50 ${screenClean.latencyMs.p50} ms; ${statusNote(screenClean)}`,
  }, {
    measure: `screening, 1,000 payments with ${SIZES.screeningFlagged} flagged (warnings opened), idle: p99 latency`,
    value: screenFlagged.latencyMs.p99, baseline: baseIdle.latencyMs.p99, unit: 'ms', better: 'lower', target: { atMost: 20 },
    notes: `p50 ${screenFlagged.latencyMs.p50} ms; ${statusNote(screenFlagged)}; ${warned!.n} warn_payer tasks`,
  }, {
    measure: 'lookup, 1,000 items, under distinct-intake load: p99 latency',
    value: appLoaded.lookup.latencyMs.p99, baseline: baseLoaded.lookup.latencyMs.p99, unit: 'ms', better: 'lower', target: { atMost: 40 },
    notes: `p50 ${appLoaded.lookup.latencyMs.p50} ms; ${statusNote(appLoaded.lookup)}; intake meanwhile ${round(appLoaded.intake.rate, 0)} req/s (baseline ${round(baseLoaded.intake.rate, 0)})`,
  });
}

async function dispatchLatency(ctx: Context) {
  await settle(ctx.db);
  const from = await dbNow(ctx.db);
  const load = await runLoad(intakeSpec(ctx, `intake at a fixed ${SIZES.dispatchRate} reports/s`, 'app', SIZES.dispatchSeconds, {
    connections: SIZES.dispatchConnections,
    overallRate: SIZES.dispatchRate,
    bodies: { kind: 'reports', ...reportRange(SIZES.dispatchRate * SIZES.dispatchSeconds + 1000) },
  }));
  logLoad(load);
  const drainedIn = await waitForNoQueued(ctx.db, 120_000);
  // Per report: from its row (written in the intake transaction) to the last of its routed tasks dispatched.
  const { rows: [l] } = await ctx.db.query<{ reports: number; pending: number; p50: number; p99: number; max: number; first_report: Date; last_report: Date; last_dispatch: Date }>(`
    WITH per_report AS (
      SELECT r.id, r.created_at, max(t.dispatched_at) AS dispatched_at, bool_or(t.dispatched_at IS NULL) AS pending
        FROM reports r JOIN tasks t ON t.report_id = r.id AND t.institution_id IS NOT NULL
       WHERE r.created_at >= $1
       GROUP BY r.id, r.created_at
    )
    SELECT count(*)::int AS reports, count(*) FILTER (WHERE pending)::int AS pending,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - created_at) * 1000) FILTER (WHERE NOT pending) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - created_at) * 1000) FILTER (WHERE NOT pending) AS p99,
           max(extract(epoch FROM dispatched_at - created_at) * 1000) FILTER (WHERE NOT pending) AS max,
           min(created_at) AS first_report, max(created_at) AS last_report, max(dispatched_at) AS last_dispatch
      FROM per_report`, [from]);
  const drainMs = l!.pending === 0 && l!.last_dispatch ? l!.last_dispatch.getTime() - l!.last_report.getTime() : null;
  raw.dispatchLatency = { ...l, drainMs, drainedInPollMs: drainedIn };
  say(`  ${l!.reports} reports; committed → all tasks dispatched: p50 ${round(l!.p50)} ms, p99 ${round(l!.p99)} ms, max ${round(l!.max)} ms; ${l!.pending} with tasks never dispatched`);
  // The rate the reports were filed at, from their rows: the load generator's own count leaves
  // out the answers still in flight when it stops.
  const filedRate = l!.reports / Math.max(0.001, (l!.last_report.getTime() - l!.first_report.getTime()) / 1000);
  const heldRate = filedRate >= SIZES.dispatchRate * 0.97;
  if (!heldRate) problems.push(`the fixed-rate load filed ${round(filedRate, 0)} reports/s, not ${SIZES.dispatchRate}`);
  rows.push({
    measure: `report committed → all its tasks dispatched, ${SIZES.dispatchRate} reports/s for ${SIZES.dispatchSeconds} s: p99`,
    value: l!.p99, baseline: null, unit: 'ms', better: 'lower', target: { atMost: 250 },
    notes: `p50 ${round(l!.p50)} ms, max ${round(l!.max)} ms over ${l!.reports.toLocaleString('en')} reports; filed at ${round(filedRate, 0)} reports/s${heldRate ? '' : ' (**below the target rate**)'}; HTTP p99 ${load.latencyMs.p99} ms; ${statusNote(load)}`,
  }, {
    measure: 'backlog drained after the fixed-rate load stops (last report → last dispatch)',
    value: drainMs, baseline: null, unit: 'ms', better: 'lower', target: { atMost: 5000 },
    notes: drainMs === null ? `${l!.pending} reports still had queued tasks after 120 s` : 'from the database: max(dispatched_at) − max(reports.created_at)',
  });
}

async function workerDispatch(ctx: Context) {
  const config = parseConfig(ctx.appEnv);
  const logger = createLogger('warn', { process: 'bench' });
  const queueStore = createQueueConnection(config, logger);
  const dispatcher = new TaskDispatcher(queueStore, config, logger);
  try {
    await queueStore.readyWithin(5000);
    if (!queueStore.available()) throw new Error(`the queue store (${queueStore.backend}) is not reachable`);
    const { rows: institutions } = await ctx.db.query<{ id: string; kind: string }>(
      `SELECT id, kind FROM institutions WHERE kind <> 'police' AND active ORDER BY kind, id LIMIT $1`, [SIZES.workerQueues]);
    const { jobId: _ignored, ...jobOptions } = dispatcher.jobOptions('bench');
    const settings = { concurrency: config.workers.concurrency, limiter: { max: config.workers.rateMax, duration: config.workers.rateDurationMs } };
    say(`  ${SIZES.workerJobs.toLocaleString('en')} jobs over ${institutions.length} queues (${institutions.map((i) => i.id).join(', ')}); worker concurrency ${settings.concurrency}, limiter ${settings.limiter.max} per ${settings.limiter.duration} ms`);

    const bare = await prepareBareWorkers({
      redisUrl: REDIS_URL, prefix: ctx.barePrefix, queues: institutions.map((i) => partnerQueueName(i.id)), jobs: SIZES.workerJobs, jobOptions, ...settings,
    });
    const base = await bare.go();
    say(`  baseline, bare BullMQ workers with an empty processor: ${base.completed} jobs in ${round(base.ms / 1000, 2)} s = ${round(base.rate, 0)} jobs/s`);
    raw.workerDispatchBaseline = base;

    // The app's own queues are paused while its tasks are written and enqueued by its own
    // dispatcher (same jobs as intake makes); its workers start on them when they are resumed.
    const queues = institutions.map((i) => dispatcher.queueFor(i.id));
    await Promise.all(queues.map((q) => q.pause()));
    const marker = `bench-dispatch-${randomBytes(3).toString('hex')}`;
    const client = new pg.Client({ connectionString: ctx.appEnv.DATABASE_URL, application_name: 'afrc-bench-tasks' });
    await client.connect();
    let tasks;
    try {
      tasks = await insertQueuedTasks(client, SIZES.workerJobs, institutions, marker);
    } finally {
      await client.end();
    }
    let enqueued = 0;
    for (let i = 0; i < tasks.length; i += 1000) enqueued += await dispatcher.enqueue(tasks.slice(i, i + 1000));
    const waiting = (await Promise.all(queues.map((q) => q.getJobCountByTypes('wait')))).reduce((a, b) => a + b, 0);
    if (enqueued !== tasks.length) problems.push(`worker dispatch: the dispatcher enqueued ${enqueued} of ${tasks.length} tasks (the reconciler takes the rest)`);
    await settle(ctx.db);
    const started = Date.now();
    await Promise.all(queues.map((q) => q.resume()));
    const deadline = started + 120_000;
    let done = 0;
    while (Date.now() < deadline && !appGone()) {
      const { rows: [c] } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE target_name = $1 AND status = 'dispatched'`, [marker]);
      done = c!.n;
      if (done === tasks.length) break;
      await sleep(100);
    }
    const { rows: [last] } = await ctx.db.query<{ at: Date | null }>(`SELECT max(dispatched_at) AS at FROM tasks WHERE target_name = $1`, [marker]);
    const ms = (done === tasks.length && last!.at ? last!.at.getTime() : Date.now()) - started;
    const rate = done / (ms / 1000);
    say(`  app partner workers: ${done} of ${tasks.length} tasks dispatched (${waiting} jobs were waiting) in ${round(ms / 1000, 2)} s = ${round(rate, 0)} tasks/s`);
    raw.workerDispatch = { tasks: tasks.length, enqueued, waiting, dispatched: done, ms, rate };
    rows.push({
      measure: `worker dispatch across ${institutions.length} partner queues (${SIZES.workerJobs.toLocaleString('en')} tasks)`,
      value: rate, baseline: base.rate, unit: 'tasks/s', better: 'higher', target: { atLeast: 3000 },
      notes: `${done}/${tasks.length} dispatched in ${round(ms / 1000, 2)} s; baseline: bare BullMQ workers, empty processor, same queues, jobs and settings (${base.completed}/${base.jobs} in ${round(base.ms / 1000, 2)} s)`,
    });
  } finally {
    await dispatcher.close();
    await queueStore.close();
  }
}

async function dashboard(ctx: Context) {
  // A connection of its own: the generator changes session settings and defines temporary functions.
  const client = new pg.Client({ connectionString: ctx.appEnv.DATABASE_URL, application_name: 'afrc-bench-history' });
  await client.connect();
  let counts;
  try {
    say(`  loading a history of ${SIZES.historyReports.toLocaleString('en')} reports over ${SIZES.historyDays} days (bench/generate-history.ts)`);
    counts = await generateHistory(client, { reports: SIZES.historyReports, days: SIZES.historyDays }, say);
  } finally {
    await client.end();
  }
  say(`  history loaded in ${round(counts.ms / 1000)} s, vacuumed and analyzed in ${round(counts.vacuumMs / 1000)} s; ${counts.open_tasks} open tasks`);
  raw.history = counts;
  const { rows: [totals] } = await ctx.db.query<{ reports: number; tasks: number }>(
    `SELECT (SELECT count(*) FROM reports)::int AS reports, (SELECT count(*) FROM tasks)::int AS tasks`);
  const { rows: [period] } = await ctx.db.query<{ today: string; month: string; year_ago: string }>(
    `SELECT to_char(d, 'YYYY-MM-DD') AS today, to_char(date_trunc('month', d), 'YYYY-MM-DD') AS month, to_char(d - 364, 'YYYY-MM-DD') AS year_ago
       FROM (SELECT (now() AT TIME ZONE $1)::date AS d) x`, [CENTER_TIME_ZONE]);
  const get = (title: string, url: string, headers: Record<string, string>): LoadSpec => ({
    title, url, method: 'GET', headers, connections: 1, durationSeconds: SIZES.dashboardSeconds,
  });
  await settle(ctx.db);
  const base = await runLoad(get('rollup baseline (Express + one read of the month\'s daily rollup)', `${ctx.baseline.url}/rollup?from=${period!.month}&to=${period!.today}`, {}));
  logLoad(base);
  const page = await runLoad(get('GET /dashboard as supervisor (cookie)', `${ctx.app.url}/dashboard`, { cookie: `afrc_token=${ctx.supervisor}` }));
  logLoad(page);
  const summary = await runLoad(get('GET /api/v1/stats/summary (this month)', `${ctx.app.url}/api/v1/stats/summary`, { authorization: `Bearer ${ctx.supervisor}` }));
  logLoad(summary);
  const year = await runLoad(get('GET /api/v1/stats/summary (last 365 days)', `${ctx.app.url}/api/v1/stats/summary?from=${period!.year_ago}&to=${period!.today}`, { authorization: `Bearer ${ctx.supervisor}` }));
  logLoad(year);
  const data = `${totals!.reports.toLocaleString('en')} reports, ${totals!.tasks.toLocaleString('en')} tasks`;
  const note = (r: LoadResult) => `p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, p99 ${r.latencyMs.p99} ms; ${statusNote(r)}; ${data}`;
  rows.push(
    { measure: 'GET /dashboard (page, supervisor): p95', value: page.latencyMs.p95, baseline: base.latencyMs.p95, unit: 'ms', better: 'lower', target: { atMost: 50 }, notes: note(page) },
    { measure: 'GET /api/v1/stats/summary (this month): p95', value: summary.latencyMs.p95, baseline: base.latencyMs.p95, unit: 'ms', better: 'lower', target: { atMost: 50 }, notes: note(summary) },
    { measure: 'GET /api/v1/stats/summary (last 365 days): p95', value: year.latencyMs.p95, baseline: base.latencyMs.p95, unit: 'ms', better: 'lower', target: { atMost: 50 }, notes: note(year) },
  );
}

// ---- setup, teardown and the report ---------------------------------------------------------------------

async function machine(redis: Redis) {
  const cpus = os.cpus();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 1024 ** 3),
    loadAverage: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
    postgres: await serverVersion(),
    redis: redisVersion,
    os: `${os.type()} ${os.release()}`,
  };
}

/** The app's warnings and errors during the run (LOG_LEVEL=warn), counted by message. */
function summarizeAppLog(file: string): { level: number; msg: string; count: number }[] {
  const counts = new Map<string, { level: number; msg: string; count: number }>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      const key = `${entry.level}\u0000${entry.msg}`;
      const c = counts.get(key) ?? { level: entry.level ?? 0, msg: entry.msg ?? '', count: 0 };
      c.count++;
      counts.set(key, c);
    } catch {
      // not a log line
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

/** Calls `each` with every batch of keys under `prefix`; answers the sum of what it answers. */
async function scanKeys(redis: Redis, prefix: string, each: (keys: string[]) => Promise<number>): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) total += await each(keys);
  } while (cursor !== '0');
  return total;
}

const deleteKeys = (redis: Redis, prefix: string) => scanKeys(redis, prefix, (keys) => redis.del(...keys));
const countKeys = (redis: Redis, prefix: string) => scanKeys(redis, prefix, async (keys) => keys.length);

async function main(): Promise<void> {
  const runStarted = performance.now();
  const startedAt = new Date();
  const suffix = randomBytes(4).toString('hex');
  const database = `afrc_bench_${suffix}`;
  const queuePrefix = `afrc-bench-${suffix}`;
  const barePrefix = `afrc-bench-bare-${suffix}`;
  const port = await freePort();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const appLog = path.join(RESULTS_DIR, 'app.log');

  const appEnv: NodeJS.ProcessEnv = {
    // Only what npm and node need from this shell: the app's configuration is the bench's alone.
    PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, LANG: process.env.LANG,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: databaseUrl(database),
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    // The per-institution rate limit is policy, not capacity: it is not what is measured.
    WORKER_RATE_MAX: '100000',
    // So are the per-caller quotas: a handful of bench callers make what a whole center makes.
    QUOTA_REPORTS_USER: '100000000', QUOTA_LOOKUPS_USER: '100000000', QUOTA_LOOKUPS_CLIENT: '100000000',
    QUOTA_SCREENING_USER: '100000000', QUOTA_SCREENING_CLIENT: '100000000', QUOTA_FEEDS_USER: '100000000', QUOTA_FEEDS_CLIENT: '100000000',
    ADMIN_USERNAME: 'bench-admin',
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
  };
  for (const k of Object.keys(appEnv)) if (appEnv[k] === undefined) delete appEnv[k];

  let app: AppProcess | undefined;
  let baseline: BaselineServer | undefined;
  let db: pg.Pool | undefined;
  const teardown: Record<string, unknown> = {};
  let interrupted = false;
  let aborted: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${sig}: stopping and cleaning up`);
    // The run's own flow fails on its own once everything is stopped, and prints what it has;
    // this exits even if it is stuck waiting on something.
    void cleanup().then(() => sleep(3000)).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let cleaned: Promise<void> | undefined;
  function cleanup() {
    cleaned ??= (async () => {
      if (app) teardown.appStop = await app.stop().catch((err) => ({ error: String(err) }));
      if (baseline) await baseline.stop().catch(() => undefined);
      killAllNow();
      if (db) await db.end().catch(() => undefined);
      await dropDatabase(database).catch((err) => problems.push(`could not drop ${database}: ${err}`));
      teardown.databaseLeft = await databaseExists(database).catch(() => null);
      teardown.redisKeysDeleted = (await deleteKeys(redis, queuePrefix).catch(() => 0)) + (await deleteKeys(redis, barePrefix).catch(() => 0));
      teardown.redisKeysLeft = (await countKeys(redis, queuePrefix).catch(() => -1)) + (await countKeys(redis, barePrefix).catch(() => -1));
      redis.disconnect();
    })();
    return cleaned;
  }

  const info = await machine(redis);
  say('# AFRC benchmark');
  say();
  say(`machine   ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB; ${info.os}; load average ${info.loadAverage.join(' ')}`);
  say(`software  node ${info.node}, PostgreSQL ${info.postgres}, Redis ${info.redis}`);
  say(`mode      ${QUICK ? 'quick' : 'full'}${SKIP_HISTORY ? ', no history' : ''}; sizes ${JSON.stringify(SIZES)}`);
  const shown: Record<string, string | undefined> = { ...appEnv, JWT_SECRET: '(64 random hex characters)', ADMIN_PASSWORD: '(random)' };
  delete shown.PATH; delete shown.HOME; delete shown.TMPDIR; delete shown.LANG;
  say(`app env   ${Object.entries(shown).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  say(`app log   ${path.relative(ROOT, appLog)}`);

  try {
    await phase('setup', async () => {
      const buildMs = await buildIfThereIsABuild(appEnv);
      say(buildMs === null ? '  no build script: npm start runs the sources' : `  npm run build: ${round(buildMs / 1000)} s`);
      await createDatabase(database);
      const { migrateMs, seedMs } = await migrateAndSeed(appEnv);
      say(`  database ${database}: migrated in ${round(migrateMs / 1000)} s, seeded in ${round(seedMs / 1000)} s`);
      db = new pg.Pool({ connectionString: appEnv.DATABASE_URL, max: 4, application_name: 'afrc-bench' });
      say(`  ${await makeEveryPartnerManual(db)} partner institutions switched to the manual integration`);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(RESULTS_DIR, { recursive: true });
      app = await startApp(appEnv, port, appLog);
      say(`  npm start: ready on ${app.url} (process group ${app.pid})`);
      baseline = await startBaselineServer(appEnv.DATABASE_URL!);
      say(`  baseline server on ${baseline.url}`);
    });
    if (!app || !baseline || !db) throw new Error('setup failed; nothing was measured');
    appUnderTest = app;
    restartApp = async () => {
      await app?.stop();
      app = await startApp(appEnv, port, appLog, true);
      appUnderTest = app;
      ctx.app = app;
      say(`  npm start: ready again on ${app.url} (process group ${app.pid})`);
      // The reconciler puts back whatever was queued when it stopped; the next measure starts from an empty backlog.
      await waitForNoQueued(ctx.db);
    };
    const ctx: Context = {
      db, app, baseline, appEnv, queuePrefix, barePrefix,
      officer: await login(app.url, 'officer', DEMO_PASSWORD),
      supervisor: await login(app.url, 'supervisor', DEMO_PASSWORD),
      partner: await clientToken(app.url, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret),
    };

    await phase('warm-up', () => warmUp(ctx));
    await phase('intake, distinct reports', () => intakeDistinct(ctx));
    await phase('intake, a wave on one mule account and one phone', () => intakeHotSpot(ctx));
    await phase('lookup', () => lookups(ctx));
    await phase('report committed → tasks dispatched, fixed rate', () => dispatchLatency(ctx));
    await phase('worker dispatch', () => workerDispatch(ctx));
    if (!SKIP_HISTORY) await phase('dashboard and statistics over a year of history', () => dashboard(ctx));
  } catch (err) {
    // What was measured before still gets printed.
    aborted = err instanceof Error ? err.message : String(err);
    problems.push(`run stopped: ${aborted.split('\n')[0]}`);
    say(`\nrun stopped: ${err instanceof Error ? err.stack : aborted}`);
  } finally {
    say('\n## teardown');
    await cleanup();
    say(`  app stopped: ${JSON.stringify(teardown.appStop)}; database left: ${teardown.databaseLeft}; Redis keys deleted ${teardown.redisKeysDeleted}, left ${teardown.redisKeysLeft}`);
    const logged = summarizeAppLog(appLog);
    teardown.appLog = logged;
    say(logged.length ? '  the app logged (warn = 40, error = 50):' : '  the app logged no warning or error');
    for (const l of logged.slice(0, 10)) say(`    ${l.count} × [${l.level}] ${l.msg}`);
  }

  const runSeconds = (performance.now() - runStarted) / 1000;
  // Other work on a shared machine shows here: the figures of a run at a high load average are noisier.
  const loadAtEnd = os.loadavg().map((l) => round(l, 2));
  const table = markdownTable(rows);
  say(`\n## results (${QUICK ? 'quick' : 'full'} run, ${round(runSeconds, 0)} s, ${startedAt.toISOString()}; load average ${info.loadAverage.join(' ')} at the start, ${loadAtEnd.join(' ')} at the end)\n`);
  say(table);
  if (problems.length) {
    say('\nproblems:');
    for (const p of problems) say(`- ${p}`);
  }
  const file = path.join(RESULTS_DIR, 'last.json');
  writeJson(file, {
    startedAt: startedAt.toISOString(), runSeconds: round(runSeconds), mode: QUICK ? 'quick' : 'full', skipHistory: SKIP_HISTORY,
    machine: info, loadAverageAtEnd: loadAtEnd, appEnv: shown, sizes: SIZES,
    rows: rows.map((r) => ({ ...r, ratio: r.value !== null && r.baseline ? r.value / r.baseline : null, met: met(r) })),
    problems, teardown, raw,
  });
  say(`\nwritten to ${path.relative(ROOT, file)}`);
  if (interrupted) process.exitCode = 130;
  else if (aborted) process.exitCode = 1;
}

// Whatever happens, no child is left running.
process.on('exit', killAllNow);

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
