/**
 * The system under test, run the way `npm start` runs it in production: compiled first when the
 * project has a build, started as a child process in a process group of its own, its output kept
 * in a log file, and stopped with SIGTERM as an operator would.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { awaitGroupGone, groupAlive, signalGroup, track, trackGroup } from './processes';

export const ROOT = path.resolve(__dirname, '..');

function hasScript(name: string): boolean {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return Boolean(pkg.scripts?.[name]);
}

/** Runs a command to its end with its output kept; throws with the output's tail when it fails. */
export async function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<number> {
  const started = performance.now();
  const proc = track(spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${output.slice(-4000)}`);
  return performance.now() - started;
}

/** `npm run build` when package.json has a build script; answers its time, or null when there is none. */
export async function buildIfThereIsABuild(env: NodeJS.ProcessEnv): Promise<number | null> {
  if (!hasScript('build')) return null;
  return runToEnd('npm', ['run', 'build'], env, 'npm run build');
}

export type AppProcess = {
  url: string;
  pid: number;
  logFile: string;
  /** How the app ended, if it has (before stop() was called, that is a failure of the run). */
  exit(): { code: number | null; signal: NodeJS.Signals | null; at: Date } | null;
  /** SIGTERM, then waits for the whole process group to be gone (SIGKILL past the deadline). */
  stop(): Promise<{ ms: number; killed: boolean; exitCode: number | null }>;
};

/** Starts `npm start`; its output goes to `logFile` (appended to, when the app is started again in a run). */
export async function startApp(env: NodeJS.ProcessEnv, port: number, logFile: string, append = false): Promise<AppProcess> {
  const log = createWriteStream(logFile, { flags: append ? 'a' : 'w' });
  const proc = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  track(proc);
  trackGroup(proc);
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  let exitCode: number | null = null;
  let exited = false;
  let ended: { code: number | null; signal: NodeJS.Signals | null; at: Date } | null = null;
  let stopping = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', (code, signal) => {
    exited = true;
    exitCode = code;
    ended = { code, signal, at: new Date() };
    if (!stopping) {
      // The app stops with exit code 0 only on SIGTERM or SIGINT: if nobody here sent one,
      // something else on the machine did.
      process.stdout.write(`\n  !! npm start exited by itself at ${ended.at.toISOString()} (code ${code}, signal ${signal}); see ${logFile}\n`);
    }
    resolve();
  }));
  const url = `http://127.0.0.1:${port}`;
  const pid = proc.pid!;

  const stop = async () => {
    stopping = true;
    const started = performance.now();
    if (groupAlive(pid)) signalGroup(pid, 'SIGTERM');
    const killed = await awaitGroupGone(pid, 30_000);
    await Promise.race([exit, new Promise((r) => setTimeout(r, 1000))]);
    log.end();
    return { ms: performance.now() - started, killed, exitCode };
  };

  // Ready once /readyz answers 200 (PostgreSQL and Redis both answer).
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`npm start exited with ${exitCode} before it was ready; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start was not ready within 90 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid, logFile, stop, exit: () => ended };
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A person's bearer token, through the login route (`POST /api/v1/auth/login`). */
export async function login(appUrl: string, username: string, password: string): Promise<string> {
  return (await postJson(`${appUrl}/api/v1/auth/login`, { username, password })).token as string;
}

/** A partner system's bearer token, through the client-credentials route (`POST /api/v1/auth/token`). */
export async function clientToken(appUrl: string, clientId: string, clientSecret: string): Promise<string> {
  return (await postJson(`${appUrl}/api/v1/auth/token`, { clientId, clientSecret })).accessToken as string;
}

/** A port nobody listens on right now (taken by the app a moment later). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
