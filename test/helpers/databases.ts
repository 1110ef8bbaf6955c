import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LATEST_SCHEMA_VERSION } from 'bullmq';
import { createDb, MIGRATIONS_DIR } from '../../server/db';
import { migrate } from '../../server/cli/migrate';

/** The local PostgreSQL of a development or CI machine. */
export const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Where test databases are made: TEST_ADMIN_DATABASE_URL, which the run's global setup points at
 * an embedded PostgreSQL when no other answers, else the local one. Read on each call, as the
 * global setup may set it after this module is loaded.
 */
export const adminDatabaseUrl = (): string => process.env.TEST_ADMIN_DATABASE_URL ?? DEFAULT_ADMIN_DATABASE_URL;

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The template is named after the migrations' content (ours, and the version of BullMQ's queue
 * tables it also carries), so a changed migration gets a fresh template.
 */
export function templateName(): string {
  const hash = createHash('sha256');
  hash.update(`bullmq-schema-${LATEST_SCHEMA_VERSION}`);
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file);
    hash.update(readFileSync(path.join(MIGRATIONS_DIR, file)));
  }
  return `afrc_template_${hash.digest('hex').slice(0, 12)}`;
}

const TEMPLATE_LOCK = 7_204_113;

/** Creates and migrates the template once; concurrent jest runs wait on an advisory lock. */
export async function ensureTemplate(): Promise<string> {
  const name = templateName();
  const admin = createDb(adminDatabaseUrl(), 2);
  try {
    await admin.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [TEMPLATE_LOCK]);
      const exists = await trx('pg_database').where({ datname: name }).first();
      if (exists) return;
      await admin.raw(`CREATE DATABASE "${name}_building"`).catch(async () => {
        await admin.raw(`DROP DATABASE IF EXISTS "${name}_building"`);
        await admin.raw(`CREATE DATABASE "${name}_building"`);
      });
      await migrate(databaseUrl(`${name}_building`));
      await admin.raw(`ALTER DATABASE "${name}_building" RENAME TO "${name}"`);
      await admin.raw(`ALTER DATABASE "${name}" WITH is_template = true`);
    });
  } finally {
    await admin.destroy();
  }
  return name;
}

export async function cloneTemplate(target: string): Promise<void> {
  const admin = createDb(adminDatabaseUrl(), 1);
  try {
    await admin.raw(`CREATE DATABASE "${target}" TEMPLATE "${templateName()}"`);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = createDb(adminDatabaseUrl(), 1);
  try {
    await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
}
