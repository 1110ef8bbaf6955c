import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDb } from '../../server/db';
import { cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';
import { testEnv } from '../helpers/test-app';
import { READY_BODY } from '../helpers/queue-backend';
import { parseConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createQueueConnection } from '../../server/queues/connection';
import { waitFor } from '../helpers/lifecycle';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const suffix = randomBytes(5).toString('hex');
// Compiled as `npm run build` does (tsconfig.build.json), into a folder of this run's own beside
// dist/, so a build or a server someone else runs from dist/ is left alone.
const OUT_DIR = path.join(ROOT, `.build-test-${suffix}`);
const database = `afrc_test_${suffix}`;
const queuePrefix = `afrc-test-${suffix}`;

/** Production settings, as an operator would start the compiled build. */
const productionEnv = (port: number): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  ...testEnv(database, queuePrefix, { NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'info' }),
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Started = { child: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> };

/** Runs a compiled entry with plain node, never through tsx. */
function start(entry: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [path.join(OUT_DIR, entry)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/** Waits for `what` to show in the process's output, failing at once if the process ends first. */
async function waitForOutput(p: Started, what: string): Promise<void> {
  await waitFor(async () => {
    if (p.child.exitCode !== null) throw new Error(`the process exited with ${p.child.exitCode}:\n${p.output()}`);
    return p.output().includes(what);
  }, `"${what}" in the output`, 30_000);
}

async function stop(p: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  p.child.kill('SIGTERM');
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit after SIGTERM:\n${p.output()}`)), 20_000).unref());
  return Promise.race([p.exited, timeout]);
}

beforeAll(async () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const build = run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', OUT_DIR], { cwd: ROOT }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`the build failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    },
  );
  await Promise.all([build, cloneTemplate(database)]);
}, 240_000);

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
  const queues = createQueueConnection(parseConfig(testEnv(database, queuePrefix)), createLogger('silent'));
  try {
    await queues.readyWithin(2000);
    await queues.forgetAllJobs();
  } finally {
    await queues.close();
  }
  await dropDatabase(database);
});

it('when the compiled migrations run on a database the sources migrated, then nothing is pending', async () => {
  const { stdout } = await run(process.execPath, [path.join(OUT_DIR, 'server/cli/migrate.js')], { cwd: ROOT, env: productionEnv(3000) });
  expect(stdout).toContain('already up to date');
  const db = createDb(databaseUrl(database), 1);
  try {
    const names = (await db('knex_migrations').pluck('name')) as string[];
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((name) => name.endsWith('.ts'))).toBe(true);
  } finally {
    await db.destroy();
  }
}, 60_000);

it('when the compiled web entry runs in production, then it answers its probes and renders pages with their assets, and stops on SIGTERM', async () => {
  const port = await freePort();
  const web = start('server/main.js', productionEnv(port));
  try {
    await waitForOutput(web, 'web listening');
    const base = `http://127.0.0.1:${port}`;

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual(READY_BODY);

    const login = await fetch(`${base}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await login.text();
    expect(html).toMatch(/<form[^>]+method="post"/i);
    const stylesheet = /<link rel="stylesheet" href="(\/static\/[^"]+\.css)"/.exec(html)?.[1];
    expect(stylesheet).toBeDefined();
    const css = await fetch(`${base}${stylesheet}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);

    expect(await stop(web)).toEqual({ code: 0, signal: null });
  } finally {
    web.child.kill('SIGKILL');
  }
}, 60_000);

it('when the compiled workers entry runs, then it starts and stops on SIGTERM', async () => {
  const workers = start('workers/main.js', productionEnv(await freePort()));
  try {
    await waitForOutput(workers, 'workers started');
    expect(await stop(workers)).toEqual({ code: 0, signal: null });
    expect(workers.output()).not.toMatch(/"level":(50|60)/);
  } finally {
    workers.child.kill('SIGKILL');
  }
}, 60_000);
