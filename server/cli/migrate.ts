import { loadConfig } from '../config';
import { createDb } from '../db';
import { createLogger } from '../logger';
import { migrateQueueSchema } from '../queues/connection';

/** Applies pending migrations to DATABASE_URL: ours, then BullMQ's own tables for the PostgreSQL queue backend. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const db = createDb(databaseUrl, 2);
  let applied: string[];
  try {
    [, applied] = (await db.migrate.latest()) as [number, string[]];
  } finally {
    await db.destroy();
  }
  await migrateQueueSchema(databaseUrl);
  return applied;
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
