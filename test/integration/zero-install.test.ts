import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { reportBody } from '../helpers/bodies';
import { waitFor } from '../helpers/lifecycle';
import { SERVER_PROGRAMS, strippedPath } from '../helpers/stripped-path';

/**
 * The README's quick start on a machine with only Node.js: a fresh clone, `npm ci && npm run demo`
 * with no PostgreSQL or Redis program on PATH and no DATABASE_URL or REDIS_URL. The demo must
 * serve its pages and dispatch a report's tasks (embedded PostgreSQL, queues on PostgreSQL), and
 * Ctrl-C must stop every process it started.
 */

jest.setTimeout(420_000);

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

let work: string;
let clone: string;
let env: NodeJS.ProcessEnv;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Processes whose command line names the clone: everything the demo started runs from there. */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(dir) && Number(pid) !== process.pid) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'afrc-zero-install-'));
  // As a clone in any shared folder is: the embedded server (run as the postgres user under root) must reach it.
  chmodSync(work, 0o755);
  clone = path.join(work, 'afrc');
  const PATH = strippedPath(path.join(work, 'bin'));
  // What a newcomer's shell has: a PATH and a home, none of this project's settings.
  env = { PATH, HOME: process.env.HOME, LANG: process.env.LANG ?? 'C.UTF-8', TMPDIR: process.env.TMPDIR };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  await run('git', ['clone', '--quiet', ROOT, clone], { env });
  const started = Date.now();
  await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: clone, env, maxBuffer: 64 * 1024 * 1024 });
  process.stdout.write(`npm ci in a fresh clone: ${Math.round((Date.now() - started) / 1000)} s\n`);
}, 600_000);

afterAll(() => {
  for (const line of processesOf(clone)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

it('with no PostgreSQL or Redis on PATH and no DATABASE_URL or REDIS_URL, the demo serves its pages, dispatches a report\'s tasks, and Ctrl-C stops every process it started', async () => {
  for (const name of SERVER_PROGRAMS) {
    await expect(run('sh', ['-c', `command -v ${name}`], { env })).rejects.toBeDefined();
  }
  const port = await freePort();
  // A process group of its own, as a terminal's foreground job, so Ctrl-C can be sent to all of it.
  const demo: ChildProcess = spawn('npm', ['run', 'demo'], {
    cwd: clone, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout!.on('data', (c) => (output += c));
  demo.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${output}`);
      return output.includes('AFRC demo running on');
    }, 'the demo to start', 180_000);
    expect(output).toContain(`data in ${clone}/.data/postgres`);
    expect(output).toContain(`delete ${clone}/.data`);
    expect(output).toContain('Queues: BullMQ on PostgreSQL');

    const login = await fetch(`${base}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/<form[^>]+method="post"/i);
    const ready = await (await fetch(`${base}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', postgres: true, queueBackend: 'postgres' });

    // End to end: the demo officer files a report; its tasks reach their (simulated) partners.
    const auth = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'officer', password: 'demo-password-123' }),
    });
    expect(auth.status).toBe(200);
    const { token } = (await auth.json()) as { token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const filed = await fetch(`${base}/api/v1/reports`, { method: 'POST', headers, body: JSON.stringify(reportBody()) });
    expect(filed.status).toBe(201);
    const report = (await filed.json()) as { tasks: { id: string; status: string; institutionId: string | null }[] };
    const routed = report.tasks.filter((task) => task.institutionId);
    expect(routed.length).toBeGreaterThanOrEqual(2);
    for (const task of routed) {
      await waitFor(async () => {
        const shown = (await (await fetch(`${base}/api/v1/tasks/${task.id}`, { headers })).json()) as { status: string };
        return shown.status !== 'queued';
      }, `task ${task.id} to be dispatched`, 60_000);
    }
    expect(existsSync(path.join(clone, '.data', 'postgres', 'PG_VERSION'))).toBe(true);
    expect(processesOf(clone).some((p) => p.includes('native/bin/postgres'))).toBe(true);
  } finally {
    // Ctrl-C: SIGINT to the whole foreground group.
    if (demo.exitCode === null) process.kill(-demo.pid!, 'SIGINT');
  }
  const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref())]);
  expect(code).not.toBe('hung');
  await waitFor(async () => processesOf(clone).length === 0, 'every process of the demo to stop', 20_000).catch(() => undefined);
  expect(processesOf(clone)).toEqual([]);
  // The data stays for the next start, in a folder git does not see.
  expect(existsSync(path.join(clone, '.data', 'postgres', 'PG_VERSION'))).toBe(true);
  expect((await run('git', ['status', '--porcelain'], { cwd: clone, env })).stdout).toBe('');
});
