import { loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../logger';
import { onShutdown } from '../lifecycle';
import { startWeb } from '../main';
import { startWorkers } from '../../workers/main';

/** Web and workers in one process, for a single machine or a demo; production may run them apart. */
export async function startAll(config: Config = loadConfig(), logger: Logger = createLogger(config.logLevel)) {
  const workers = startWorkers(config, logger.child({ process: 'workers' }));
  const web = await startWeb(config, logger.child({ process: 'web' }));
  onShutdown(logger, config.workers.shutdownTimeoutMs, [workers.close, web.close]);
  return { web, workers };
}

if (require.main === module) {
  startAll().catch((err) => {
    process.stderr.write(`failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
