import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { databaseQueuePrefix, parseConfig } from '../../server/config';
import { createDb } from '../../server/db';
import { adminDatabaseUrl, cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';
import { testEnv } from '../helpers/test-app';
import { waitFor } from '../helpers/lifecycle';
import { forgetRedisQueues, TEST_QUEUE_BACKEND } from '../helpers/queue-backend';
import { freePort, killAll, pidAlive, ROOT, startEntry, startProcess, stopProcess, waitForOutput, waitReady } from '../helpers/processes';

jest.setTimeout(120_000);

const suffix = randomBytes(5).toString('hex');
const migrated = `afrc_test_${suffix}`;
const empty = `afrc_test_${suffix}_empty`;
const queuePrefix = `afrc-test-${suffix}`;

/** Production settings, as an operator starts the center; LOG_LEVEL info so the log can be read. */
const envFor = (database: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  testEnv(database, queuePrefix, { NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'info', ...extra });

beforeAll(async () => {
  await cloneTemplate(migrated);
  const admin = createDb(adminDatabaseUrl(), 1);
  try {
    await admin.raw(`CREATE DATABASE "${empty}"`);
  } finally {
    await admin.destroy();
  }
});

afterAll(async () => {
  killAll();
  await forgetRedisQueues(testEnv(migrated, queuePrefix).REDIS_URL, queuePrefix);
  await Promise.all([dropDatabase(migrated), dropDatabase(empty)]);
});

describe('a busy port', () => {
  it('when a second web process is started on a port that is taken, then it exits non-zero with one line that says so', async () => {
    const port = await freePort();
    const first = startEntry('web', envFor(migrated, port));
    try {
      await waitReady(`http://127.0.0.1:${port}`, first);
      const second = startEntry('web', envFor(migrated, port));
      const { code } = await Promise.race([second.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running:\n${second.output()}`)), 30_000))]);
      expect(code).toBe(1);
      const said = second.logLines().filter((l) => String(l.msg).includes(`port ${port} is already in use`));
      expect(said).toHaveLength(1);
      expect(second.logLines().some((l) => l.msg === 'web listening')).toBe(false);
      expect(second.plainLines()).toEqual([]);
    } finally {
      await stopProcess(first);
    }
  });

  it('when npm start finds its port taken, then it exits non-zero and its workers never start', async () => {
    const port = await freePort();
    const first = startEntry('web', envFor(migrated, port));
    try {
      await waitReady(`http://127.0.0.1:${port}`, first);
      const second = startEntry('all', envFor(migrated, port));
      const { code } = await Promise.race([second.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running:\n${second.output()}`)), 30_000))]);
      expect(code).toBe(1);
      expect(second.logLines().filter((l) => String(l.msg).includes('already in use'))).toHaveLength(1);
      expect(second.output()).not.toMatch(/workers started|partner worker started/);
    } finally {
      await stopProcess(first);
    }
  });
});

describe('stopping npm', () => {
  it('every long-running npm script runs the app as npm\'s own child (exec node), so the app can watch its parent', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'start:web', 'start:workers', 'demo']) {
      expect([name, pkg.scripts[name]]).toEqual([name, expect.stringMatching(/^exec node /)]);
    }
  });

  it('when the npm process of `npm run demo` is killed with SIGKILL, then the app stops too and frees its port', async () => {
    const port = await freePort();
    const npm = startProcess('npm', ['run', 'demo'], envFor(migrated, port, { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'admin-password-long-enough' }));
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, npm, 90_000);
    const app = await appPidOn(npm.pid);
    expect(app).toBeDefined();

    npm.child.kill('SIGKILL');
    await npm.exited;
    await waitFor(async () => !pidAlive(app!), 'the orphaned app to stop', 30_000, 100);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('when the parent of `npm start` dies by SIGKILL while the app is still starting, then the app stops once started', async () => {
    const port = await freePort();
    const parent = startProcess(process.execPath, ['-e', `require('node:child_process').spawn(process.execPath, ['--import', 'tsx', 'server/cli/start-all.ts'], { stdio: 'inherit' }); setInterval(() => {}, 1000);`],
      envFor(migrated, port, { STOP_WITH_PARENT: 'true' }));
    const app = await waitFor(() => appPidOn(parent.pid), 'the app to be spawned', 10_000, 20);
    // Killed at the app's first log line: its web is about to listen, its workers are not started yet.
    await waitForOutput(parent, '"level"', 60_000);
    parent.child.kill('SIGKILL');
    await parent.exited;
    await waitFor(async () => !pidAlive(app), 'the orphaned app to stop', 60_000, 100);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('when the parent of `npm start` (here a plain node parent) dies by SIGKILL, then the app stops; with STOP_WITH_PARENT=false it runs on', async () => {
    for (const stopWithParent of ['true', 'false']) {
      const port = await freePort();
      // The parent starts the app as npm does (exec node …) and is then killed without a chance to pass anything on.
      const parent = startProcess(process.execPath, ['-e', `require('node:child_process').spawn(process.execPath, ['--import', 'tsx', 'server/cli/start-all.ts'], { stdio: 'inherit' }); setInterval(() => {}, 1000);`],
        envFor(migrated, port, { STOP_WITH_PARENT: stopWithParent }));
      const base = `http://127.0.0.1:${port}`;
      await waitReady(base, parent);
      const app = await appPidOn(parent.pid);
      parent.child.kill('SIGKILL');
      await parent.exited;
      if (stopWithParent === 'true') {
        await waitFor(async () => !pidAlive(app!), 'the orphaned app to stop', 30_000, 100);
      } else {
        await new Promise((r) => setTimeout(r, 2000));
        expect(pidAlive(app!)).toBe(true);
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        process.kill(app!, 'SIGTERM');
        await waitFor(async () => !pidAlive(app!), 'the app to stop on SIGTERM', 30_000, 100);
      }
    }
  });
});

describe('an unmigrated database', () => {
  it('when the web process starts on an empty database, then /readyz says why it is not ready, login answers 503, and the log says once to run npm run db:migrate', async () => {
    const port = await freePort();
    const web = startEntry('web', envFor(empty, port));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForOutput(web, 'web listening');
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; postgres: boolean; redis: boolean; migrations: boolean; reasons: string[] };
      expect(body).toMatchObject({ status: 'unavailable', postgres: true, ...(TEST_QUEUE_BACKEND === 'redis' ? { redis: true } : {}), migrations: false });
      expect(body.reasons.join(' ')).toContain('npm run db:migrate');

      for (let i = 0; i < 5; i++) {
        const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'whatever-password' }) });
        expect(login.status).toBe(503);
        expect(((await login.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      }
      const page = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: 'username=a&password=b' });
      expect(page.status).not.toBe(500);

      const errors = web.logLines().filter((l) => Number(l.level) >= 50);
      expect(errors).toHaveLength(1);
      expect(String(errors[0]!.msg)).toContain('npm run db:migrate');
      expect(web.plainLines()).toEqual([]);
    } finally {
      await stopProcess(web);
    }
  });

  it('when the worker process runs on an empty database for a while, then it says once to migrate and does not flood the log', async () => {
    const workers = startEntry('workers', envFor(empty, await freePort(), { INSTITUTION_POLL_MS: '200', RECONCILE_INTERVAL_MS: '200' }));
    try {
      await waitForOutput(workers, 'workers started');
      await new Promise((r) => setTimeout(r, 6000));
      const lines = workers.logLines();
      expect(lines.filter((l) => String(l.msg).includes('npm run db:migrate'))).toHaveLength(1);
      expect(lines.filter((l) => Number(l.level) >= 40)).toHaveLength(1);
      expect(workers.plainLines()).toEqual([]);
      expect(await stopProcess(workers)).toEqual({ code: 0, signal: null });
    } finally {
      if (workers.alive()) await stopProcess(workers, 'SIGKILL');
    }
  });
});

describe('the default queue prefix', () => {
  it('is derived from the database (host, port, name), so two databases never share queues; QUEUE_PREFIX still wins', () => {
    const a = parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/afrc_a' });
    const b = parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/afrc_b' });
    const otherHost = parseConfig({ DATABASE_URL: 'postgres://postgres@10.0.0.5:5432/afrc_a' });
    const otherPassword = parseConfig({ DATABASE_URL: 'postgres://app:secret@127.0.0.1:5432/afrc_a?sslmode=disable' });
    expect(a.queuePrefix).toMatch(/^afrc-[0-9a-f]{12}$/);
    expect(new Set([a.queuePrefix, b.queuePrefix, otherHost.queuePrefix]).size).toBe(3);
    expect(otherPassword.queuePrefix).toBe(a.queuePrefix);
    expect(a.queuePrefix).toBe(databaseQueuePrefix('postgres://postgres@127.0.0.1/afrc_a'));
    expect(parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/afrc_a', QUEUE_PREFIX: 'mine' }).queuePrefix).toBe('mine');
  });
});

/** The app process started by `parentPid` (npm's or our stand-in's child). */
async function appPidOn(parentPid: number): Promise<number | undefined> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('ps', ['-o', 'pid=,ppid=,args=', '-A'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === parentPid && m[3]!.includes('--import tsx')) return Number(m[1]);
  }
  return undefined;
}

