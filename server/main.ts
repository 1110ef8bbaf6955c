import type { Server } from 'node:http';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { createDeps } from './wiring';
import { createApp } from './app';
import { onShutdown } from './lifecycle';

/** Web entry: config → wiring → app → listen → shutdown hooks. */
export async function startWeb(): Promise<{ server: Server; close(): Promise<void> }> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { process: 'web' });
  if (config.usingDevJwtSecret) logger.warn('JWT_SECRET is not set: using the development secret');
  const deps = createDeps(config, logger);
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.port, () => resolve(s));
  });
  logger.info({ port: config.port }, 'web listening');
  return {
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
    },
  };
}

if (require.main === module) {
  startWeb().then(
    (web) => onShutdown(createLogger('info'), 10000, [web.close]),
    (err) => {
      process.stderr.write(`web failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
