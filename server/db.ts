import knex, { type Knex } from 'knex';
import pg from 'pg';
import { MIGRATIONS_DIR, migrationsConfig } from './paths';
import type { Logger } from './logger';

export type Db = Knex;
export type Trx = Knex.Transaction;
/** A use case takes either the pool or an open transaction. */
export type DbOrTrx = Knex | Knex.Transaction;

const INT8_OID = 20;
// bigint columns hold money in minor units; parse them to numbers only when they are exact.
pg.types.setTypeParser(INT8_OID, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} is beyond the safe integer range`);
  return n;
});

export { MIGRATIONS_DIR };

export function knexConfig(databaseUrl: string, poolMax = 10, logger?: Logger): Knex.Config {
  // knex prints its own warnings (each failed connection attempt, with a stack) to the console;
  // here they go to the JSON log at debug level: the failures themselves reach the callers, and
  // the DependencyWatch says once that PostgreSQL is gone.
  const toLog = (level: 'debug' | 'warn') => (message: unknown) => logger?.[level]({ knex: String(message) }, 'knex');
  return {
    client: 'pg',
    log: { warn: toLog('debug'), error: toLog('debug'), debug: toLog('debug'), deprecate: toLog('warn') },
    connection: { connectionString: databaseUrl, application_name: 'afrc' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10000,
    migrations: { ...migrationsConfig(), tableName: 'knex_migrations' },
  };
}

export function createDb(databaseUrl: string, poolMax?: number, logger?: Logger): Db {
  return knex(knexConfig(databaseUrl, poolMax, logger));
}

/**
 * Query options that make a statement a named prepared statement on each connection: PostgreSQL
 * plans it once per connection instead of on every call. For the few large statements on the hot
 * paths (intake, dispatch), whose planning costs about as much as running them. The text under
 * one name must never change while the process runs.
 */
export const prepared = (name: string) => ({ name: `afrc-${name}` });

/** A LIKE / ILIKE pattern matching `text` anywhere, its own %, _ and \ taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
