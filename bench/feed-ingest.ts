/**
 * Feed ingest benchmark: a generated 1,000,000-line NDJSON feed of fraud indicators, submitted
 * through the real HTTP route to a real server and processed by the real feeds worker until the
 * batch is done; against a baseline that COPYs the same rows into a bare table in the same run.
 *
 *   npm run bench:feeds                 (npm run bench:feeds -- 200000, or FEED_BENCH_LINES=200000, for a shorter run)
 *
 * Both inputs are generated line by line into temporary files before either clock starts, so
 * neither figure pays for making up test data; the feed is sent from its file by a child process
 * (the partner's side) and the baseline is COPYed from its file. Nothing is held in memory whole;
 * peak memory is that of the server process (web + worker) measured here.
 */
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parseConfig } from '../server/config';
import { createApp } from '../server/app';
import { createDeps } from '../server/wiring';
import { createLogger } from '../server/logger';
import { issueToken } from '../server/auth/tokens';
import { createFeedWorker } from '../workers/feed-worker';
import { cloneTemplate, databaseUrl, dropDatabase, ensureTemplate } from '../test/helpers/databases';

// The size comes as the first argument or FEED_BENCH_LINES.
if (process.argv[2] !== undefined && !process.argv[2].startsWith('--')) process.env.FEED_BENCH_LINES = process.argv[2];
const LINES = Number(process.env.FEED_BENCH_LINES ?? 1_000_000);
if (!Number.isInteger(LINES) || LINES <= 0) throw new RangeError(`the feed size must be a positive whole number of lines, not ${process.env.FEED_BENCH_LINES}`);
/** One line in this many is a confirmation, which earns a blocking task (and a queued job). */
const CONFIRMED_EVERY = 1000;

// ---- the inputs ---------------------------------------------------------------------------------

function line(i: number, format: 'ndjson' | 'copy'): string {
  const r = (i * 2654435761) % 100;
  let kind: string;
  let value: string;
  if (r < 60) {
    kind = 'phone';
    value = `+86 171 ${String(i).padStart(8, '0')}`;
  } else if (r < 90) {
    kind = 'bank_account';
    value = `6222 02${String(i).padStart(10, '0')}`;
  } else {
    kind = 'url';
    value = `https://refund-${i.toString(36)}.example/pay?utm_source=sms`;
  }
  const confidence = i % CONFIRMED_EVERY === 0 ? 'confirmed' : 'suspected';
  const observedAt = new Date(Date.UTC(2026, 10, 28, 0, 0, i % 86400)).toISOString();
  const externalId = `cdr-${i}`;
  if (format === 'copy') return `${externalId}\t${kind}\t${value}\t${confidence}\t${observedAt}\n`;
  return `${JSON.stringify({ type: 'fraud_indicator', externalId, indicator: { kind, value }, confidence, observedAt })}\n`;
}

async function generate(format: 'ndjson' | 'copy', lines: number, file: string): Promise<void> {
  const PER_WRITE = 1000;
  async function* chunks() {
    for (let i = 0; i < lines; i += PER_WRITE) {
      let chunk = '';
      for (let j = i; j < Math.min(lines, i + PER_WRITE); j++) chunk += line(j, format);
      yield chunk;
    }
  }
  await pipeline(chunks(), createWriteStream(file));
}

// ---- the partner's side: a child process that sends the feed file ------------------------------

async function child(): Promise<void> {
  const [file, url, token] = process.argv.slice(3);
  // Start the clock only once this process is up: its start-up is not part of either figure.
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!('ready');
  });
  const started = performance.now();
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url!, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-ndjson', 'Content-Length': String(statSync(file!).size), Authorization: `Bearer ${token}`,
      },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    createReadStream(file!).on('error', reject).pipe(req);
  });
  process.send!({ ...answer, ms: performance.now() - started });
}

// ---- the center's side ------------------------------------------------------------------------

async function spawnPartner(args: string[]) {
  const gen = fork(__filename, ['--child', ...args], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => gen.once('message', resolve));
  return gen;
}

let peakRss = 0;
const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

async function main(): Promise<void> {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
  const suffix = randomBytes(4).toString('hex');
  const database = `afrc_bench_${suffix}`;
  const inputs = mkdtempSync(path.join(tmpdir(), 'afrc-bench-'));
  const feedFile = path.join(inputs, 'feed.ndjson');
  const baselineFile = path.join(inputs, 'baseline.tsv');
  // Made up in a child process, so that its memory is not counted as the server's.
  await new Promise<void>((resolve, reject) => {
    fork(__filename, ['--generate', feedFile, baselineFile], { execArgv: process.execArgv, stdio: 'inherit' })
      .once('error', reject)
      .once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the input generator exited with ${code}`))));
  });
  await ensureTemplate();
  await cloneTemplate(database);

  const config = parseConfig({
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl(database),
    QUEUE_PREFIX: `afrc-bench-${suffix}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    // A million lines of this shape are about 150 MB; the limit is the operator's to set.
    FEED_BODY_LIMIT: process.env.FEED_BODY_LIMIT ?? '512mb',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = createLogger(config.logLevel, { process: 'bench' });
  const deps = createDeps(config, logger);
  const app = createApp(deps);
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const feeds = createFeedWorker(deps);
  const sampler = setInterval(sampleRss, 50);

  try {
    await deps.db('institutions').insert([
      { id: 'bench-carrier', name: 'Bench carrier', kind: 'carrier', integration: 'manual' },
      { id: 'bench-bank', name: 'Bench bank', kind: 'bank', integration: 'manual' },
      { id: 'bench-platform', name: 'Bench platform', kind: 'platform', integration: 'manual' },
    ]);
    await deps.db('institution_routes').insert([
      { institution_id: 'bench-carrier', indicator_kind: 'phone', prefix: '+86' },
      { institution_id: 'bench-bank', indicator_kind: 'bank_account', prefix: '' },
      { institution_id: 'bench-platform', indicator_kind: 'url', prefix: '' },
    ]);
    const [client] = await deps.db('api_clients')
      .insert({ client_id: `bench-${suffix}`, secret_hash: 'x', institution_id: 'bench-carrier', name: 'bench' })
      .returning(['id']);
    // Each measurement starts with the dirty pages of what came before (an earlier run, the
    // other measurement) written out, so that neither pays for them. CHECKPOINT needs a superuser
    // or pg_checkpoint; without one, the figures are noisier but still taken.
    let settleRefused = false;
    const settle = async () => {
      if (settleRefused) return;
      await deps.db.raw('CHECKPOINT').catch(() => { settleRefused = true; });
    };
    const token = issueToken(config, { id: client.id, type: 'api_client', name: 'bench', role: 'partner_system', institutionId: 'bench-carrier' }).token;

    // Baseline: the same rows, COPYed into a bare table (no keys, no indexes, no checks).
    await deps.db.raw('CREATE TABLE bench_baseline (external_id text, kind text, value text, confidence text, observed_at timestamptz)');
    const conn = (await deps.db.client.acquireConnection()) as PoolClient;
    await settle();
    const baseStart = performance.now();
    try {
      await pipeline(createReadStream(baselineFile), conn.query(copyFrom('COPY bench_baseline FROM STDIN')));
    } finally {
      deps.db.client.releaseConnection(conn);
    }
    const baseMs = performance.now() - baseStart;
    const baseRows = Number((await deps.db('bench_baseline').count<{ count: string }[]>('* as count'))[0]!.count);

    // The feed, end to end: HTTP → stored (202) → feeds queue → processed.
    await settle();
    const gen = await spawnPartner([feedFile, `http://127.0.0.1:${port}/api/v1/feeds`, token]);
    const feedStart = performance.now();
    gen.send('go');
    const answer = await new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
      gen.once('message', (m) => resolve(m as { status: number; body: string; ms: number }));
      gen.once('error', reject);
      gen.once('exit', (code) => code !== 0 && reject(new Error(`the partner process exited with ${code}`)));
    });
    const storedMs = performance.now() - feedStart;
    if (answer.status !== 202) throw new Error(`feed answered ${answer.status}: ${answer.body.slice(0, 500)}`);
    const { batchId, received } = JSON.parse(answer.body) as { batchId: string; received: number };

    let batch: { status: string; processed: number; accepted: number; rejected: number; duplicates: number } | undefined;
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/feeds/${batchId}`, { headers: { Authorization: `Bearer ${token}` } });
      batch = (await res.json()) as typeof batch;
      if (batch!.status === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const totalMs = performance.now() - feedStart;
    sampleRss();
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const [{ indicators }] = await deps.db('indicators').count<{ indicators: string }[]>('* as indicators');
    const [{ sightings }] = await deps.db('indicator_sightings').count<{ sightings: string }[]>('* as sightings');
    const [{ tasks }] = await deps.db('tasks').count<{ tasks: string }[]>('* as tasks');

    const lines = [
      `feed ingest benchmark: ${LINES.toLocaleString('en')} NDJSON lines (fraud_indicator: 60% phone, 30% bank account, 10% URL; 1 in ${CONFIRMED_EVERY} confirmed)`,
      `baseline  COPY into a bare table     ${baseRows.toLocaleString('en')} rows in ${(baseMs / 1000).toFixed(2)} s = ${rate(baseRows, baseMs).toLocaleString('en')} rows/s`,
      `feed      stored (HTTP 202)          ${received.toLocaleString('en')} items in ${(storedMs / 1000).toFixed(2)} s = ${rate(received, storedMs).toLocaleString('en')} rows/s  (ratio ${(rate(received, storedMs) / rate(baseRows, baseMs)).toFixed(2)})`,
      `feed      end to end (batch done)    ${batch!.processed.toLocaleString('en')} items in ${(totalMs / 1000).toFixed(2)} s = ${rate(batch!.processed, totalMs).toLocaleString('en')} rows/s  (ratio ${(rate(batch!.processed, totalMs) / rate(baseRows, baseMs)).toFixed(2)})`,
      `          processing after the 202   ${((totalMs - storedMs) / 1000).toFixed(2)} s = ${rate(batch!.processed, totalMs - storedMs).toLocaleString('en')} rows/s`,
      `result    accepted ${batch!.accepted}, rejected ${batch!.rejected}, duplicates ${batch!.duplicates}; indicators ${indicators}, sightings ${sightings}, blocking tasks ${tasks}`,
      `memory    server process (web + worker) peak RSS ${mb(Math.max(peakRss, maxRss))} (sampled ${mb(peakRss)}, getrusage maxRSS ${mb(maxRss)})`,
      `targets   whole feed < 60 s: ${totalMs < 60_000 ? 'met' : 'MISSED'}; >= half the baseline rate: ${rate(batch!.processed, totalMs) * 2 >= rate(baseRows, baseMs) ? 'met' : 'MISSED'} end to end, `
        + `${rate(received, storedMs) * 2 >= rate(baseRows, baseMs) ? 'met' : 'MISSED'} to the 202; < 400 MB: ${Math.max(peakRss, maxRss) < 400 * 1024 * 1024 ? 'met' : 'MISSED'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clearInterval(sampler);
    await feeds.close();
    await new Promise((resolve) => server.close(resolve));
    await deps.queues.forgetAllJobs().catch(() => undefined);
    await deps.close();
    await dropDatabase(database);
    rmSync(inputs, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--generate') {
  const [feedFile, baselineFile] = process.argv.slice(3);
  Promise.all([generate('ndjson', LINES, feedFile!), generate('copy', LINES, baselineFile!)]).then(
    () => process.exit(0),
    (err) => { process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); },
  );
} else if (process.argv[2] === '--child') {
  child().then(
    () => process.exit(0),
    (err) => { process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); },
  );
} else {
  main().then(
    () => process.exit(0),
    (err) => { process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); },
  );
}

