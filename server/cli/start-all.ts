import { loadConfig, type Config } from '../config';
import { runProcess } from '../lifecycle';
import { createLogger, type Logger } from '../logger';
import { startWeb } from '../main';
import { startWorkers } from '../../workers/main';

/** `npm start`: the web server and every worker in one process, for a single machine or a demo. */
export async function startAll(config: Config = loadConfig(), logger: Logger = createLogger(config.logLevel)) {
  const web = await startWeb(config, logger.child({ process: 'web' }));
  const workers = startWorkers(config, logger.child({ process: 'workers' }));
  return { web, workers };
}

type Closer = () => Promise<void>;

/**
 * What stops everything on a signal, in this order: `first` (anything started on top), then the
 * web stops taking requests, then the workers drain, then `last` (what they all ran on).
 */
export function closersOf(started: Awaited<ReturnType<typeof startAll>>, more: { first?: Closer[]; last?: Closer[] } = {}): Closer[] {
  // onShutdown runs its closers last-first.
  return [...(more.last ?? []).toReversed(), () => started.workers.close(), started.web.close, ...(more.first ?? []).toReversed()];
}

/** The web server and the workers drain one after the other. */
export const ALL_SHUTDOWN_EXTRA_MS = 5000;

if (require.main === module) {
  runProcess('all', async (config, logger) => closersOf(await startAll(config, logger)), { extraShutdownMs: ALL_SHUTDOWN_EXTRA_MS, base: {} });
}
