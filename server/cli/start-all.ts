import { loadConfig } from '../config';
import { onShutdown } from '../lifecycle';
import { createLogger } from '../logger';
import { startWeb } from '../main';
import { startWorkers } from '../../workers/main';

/** `npm start`: the web server and every worker in one process, for a single machine or a demo. */
export async function startAll() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const web = await startWeb(config, logger.child({ process: 'web' }));
  const workers = startWorkers(config, logger.child({ process: 'workers' }));
  return { config, logger, web, workers };
}

if (require.main === module) {
  startAll().then(
    ({ config, logger, web, workers }) =>
      // Closers run last-first: the web stops taking requests, then the workers drain.
      onShutdown(logger, config.workers.shutdownTimeoutMs + 5000, [() => workers.close(), web.close]),
    (err) => {
      process.stderr.write(`failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
