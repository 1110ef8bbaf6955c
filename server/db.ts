import knex, { type Knex } from 'knex';
import pg from 'pg';
import { MIGRATIONS_DIR, migrationsConfig } from './paths';

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

export function knexConfig(databaseUrl: string, poolMax = 10): Knex.Config {
  return {
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'afrc' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10000,
    migrations: { ...migrationsConfig(), tableName: 'knex_migrations' },
  };
}

export function createDb(databaseUrl: string, poolMax?: number): Db {
  return knex(knexConfig(databaseUrl, poolMax));
}

/** A LIKE / ILIKE pattern matching `text` anywhere, its own %, _ and \ taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
