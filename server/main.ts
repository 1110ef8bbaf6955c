import type { Server } from 'node:http';
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { createDeps, type Deps } from './wiring';
import { createApp } from './app';
import { onShutdown } from './lifecycle';

/** Web entry: config → wiring → app → listen → shutdown hooks. */
export async function startWeb(
  config: Config = loadConfig(),
  logger: Logger = createLogger(config.logLevel, { process: 'web' }),
): Promise<{ server: Server; deps: Deps; close(): Promise<void> }> {
  if (config.usingDevJwtSecret) logger.warn('JWT_SECRET is not set: using the development secret');
  const deps = createDeps(config, logger);
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.port, () => resolve(s));
  });
  logger.info({ port: config.port }, 'web listening');
  return {
    server,
    deps,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
    },
  };
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { process: 'web' });
  startWeb(config, logger).then(
    (web) => onShutdown(logger, config.workers.shutdownTimeoutMs, [web.close]),
    (err) => {
      process.stderr.write(`web failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
