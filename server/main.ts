import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { createDeps, type Deps } from './wiring';
import { createApp } from './app';
import { runProcess, StartupError } from './lifecycle';

/** Web entry: config → wiring → app → listen → shutdown hooks. */
export async function startWeb(
  config: Config = loadConfig(),
  logger: Logger = createLogger(config.logLevel, { process: 'web' }),
): Promise<{ server: Server; deps: Deps; close(): Promise<void> }> {
  if (config.usingDevJwtSecret) logger.warn('JWT_SECRET is not set: using the development secret');
  const deps = createDeps(config, logger);
  await deps.health.start();
  const app = createApp(deps);
  let server: Server;
  try {
    server = await listen(app, config.port, config.http);
  } catch (err) {
    await deps.close();
    throw err;
  }
  logger.info({ port: (server.address() as AddressInfo).port }, 'web listening');
  return {
    server,
    deps,
    async close() {
      await stopServing(server);
      await deps.close();
    },
  };
}

/**
 * How long the listener stays open after the signal: connections the kernel took just before it,
 * and that the event loop has not accepted yet, are accepted and served instead of reset when the
 * listener closes.
 */
const ACCEPT_DRAIN_MS = 250;
/** How long a connection accepted before the stop has to send its request before it is closed as idle. */
const IDLE_GRACE_MS = 1000;
const LOOP_STEP_MS = 25;

/**
 * Resolves once the event loop has run on time for `ms` in all. On a busy machine the process may
 * not run for a while; when it does, its timers fire before it reads the sockets, so time the loop
 * spent late does not count towards a grace period that is there for those sockets to be read. A
 * machine that never lets it run on time still gets an end, at four times `ms`.
 */
export function steadyFor(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const giveUpAt = Date.now() + ms * 4;
    let steady = 0;
    let last = Date.now();
    const tick = () => {
      const now = Date.now();
      const took = now - last;
      if (took <= LOOP_STEP_MS * 3) steady += took;
      last = now;
      if (steady >= ms || now >= giveUpAt) resolve();
      else setTimeout(tick, LOOP_STEP_MS);
    };
    setTimeout(tick, LOOP_STEP_MS);
  });
}

/**
 * Stops listening and waits for every request under way. Node's server.close() also drops at once
 * every connection with no request under way, which would reset a connection accepted just before
 * the signal whose request has not been read yet. So idle connections are closed only after a grace
 * period of the loop running on time (and again after each such period), and each answer given
 * while stopping closes its connection instead of keeping it alive.
 */
export async function stopServing(server: Server): Promise<void> {
  server.on('request', (_req, res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });
  await steadyFor(ACCEPT_DRAIN_MS);
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => undefined;
  let done = false;
  const closed = new Promise<void>((resolve) => server.close(() => resolve())).finally(() => {
    done = true;
  });
  void (async () => {
    while (!done) {
      await steadyFor(IDLE_GRACE_MS);
      if (!done) closeIdle();
    }
  })();
  return closed;
}

/** Binds the port, or refuses: a port another process holds is a StartupError, never a silent no-op. */
export function listen(app: Express, port: number, timeouts: Config['http']): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = http.createServer({
      // Node's own cut-off for a whole request (a bare 408): a little after the app's body timeout,
      // which answers in the API's error shape first; Node's default is five minutes.
      requestTimeout: timeouts.bodyTimeoutMs + 10_000,
      headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.bodyTimeoutMs + 10_000),
    }, app);
    const refused = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new StartupError(`port ${port} is already in use: another AFRC or another program listens there; stop it or set PORT`, { port }));
      else if (err.code === 'EACCES') reject(new StartupError(`port ${port} may not be bound by this user; set PORT above 1023`, { port }));
      else reject(err);
    };
    server.once('error', refused);
    server.listen(port, () => {
      server.off('error', refused);
      resolve(server);
    });
  });
}

if (require.main === module) {
  runProcess('web', async (config, logger) => [(await startWeb(config, logger)).close]);
}
