/**
 * The benchmark's own PostgreSQL database: created fresh for a run, migrated and seeded with the
 * project's own commands (as an operator would), every partner switched to the `manual`
 * integration so that dispatch lands in liaison inboxes and nothing answers on its own, and
 * dropped at the end.
 */
import pg from 'pg';
import { runToEnd } from './app-process';

/** The server the bench database lives on; its `postgres` database is used to create and drop it. */
export const SERVER_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string): Promise<void> {
  await onServer((c) => c.query(`CREATE DATABASE "${name}"`));
}

/** Drops it even while something is still connected (FORCE, PostgreSQL 13+). */
export async function dropDatabase(name: string): Promise<void> {
  await onServer((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function databaseExists(name: string): Promise<boolean> {
  return onServer(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

export async function serverVersion(): Promise<string> {
  return onServer(async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v);
}

/** `server/cli/migrate.ts` then `server/cli/seed.ts`, with the app's environment; answers their times. */
export async function migrateAndSeed(env: NodeJS.ProcessEnv): Promise<{ migrateMs: number; seedMs: number }> {
  const migrateMs = await runToEnd('npx', ['tsx', 'server/cli/migrate.ts'], env, 'migrate');
  const seedMs = await runToEnd('npx', ['tsx', 'server/cli/seed.ts'], env, 'seed');
  return { migrateMs, seedMs };
}

/** Demo partners are simulated (they answer by themselves); the benchmark wants inboxes that wait. */
export async function makeEveryPartnerManual(db: pg.Pool): Promise<number> {
  const { rowCount } = await db.query(`UPDATE institutions SET integration = 'manual' WHERE kind <> 'police'`);
  return rowCount ?? 0;
}
