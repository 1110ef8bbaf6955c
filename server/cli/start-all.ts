import { loadConfig, type Config } from '../config';
import { onShutdown } from '../lifecycle';
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
 * Stops everything on SIGTERM / SIGINT, in this order: `first` (anything started on top), then the
 * web stops taking requests, then the workers drain, then `last` (what they all ran on).
 */
export function closeAllOnShutdown(
  config: Config, logger: Logger, started: Awaited<ReturnType<typeof startAll>>, more: { first?: Closer[]; last?: Closer[] } = {},
): void {
  // onShutdown runs its closers last-first.
  onShutdown(logger, config.workers.shutdownTimeoutMs + 5000, [
    ...(more.last ?? []).toReversed(), () => started.workers.close(), started.web.close, ...(more.first ?? []).toReversed(),
  ]);
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  startAll(config, logger).then(
    (started) => closeAllOnShutdown(config, logger, started),
    (err) => {
      process.stderr.write(`failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
