import { loadConfig } from '../config';
import { createDb } from '../db';
import { createLogger } from '../logger';

/** Applies pending migrations to DATABASE_URL. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const db = createDb(databaseUrl, 2);
  try {
    const [, applied] = (await db.migrate.latest()) as [number, string[]];
    return applied;
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { process: 'migrate' });
  migrate(config.databaseUrl).then(
    (applied) => logger.info({ applied }, applied.length ? 'migrations applied' : 'already up to date'),
    (err) => {
      logger.error({ err }, 'migration failed');
      process.exitCode = 1;
    },
  );
}
