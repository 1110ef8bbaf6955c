import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createDb, MIGRATIONS_DIR } from '../../server/db';

export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The template is named after the migrations' content, so a changed migration gets a fresh template. */
export function templateName(): string {
  const hash = createHash('sha256');
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
  const admin = createDb(ADMIN_DATABASE_URL, 2);
  try {
    await admin.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [TEMPLATE_LOCK]);
      const exists = await trx('pg_database').where({ datname: name }).first();
      if (exists) return;
      await admin.raw(`CREATE DATABASE "${name}_building"`).catch(async () => {
        await admin.raw(`DROP DATABASE IF EXISTS "${name}_building"`);
        await admin.raw(`CREATE DATABASE "${name}_building"`);
      });
      const building = createDb(databaseUrl(`${name}_building`), 2);
      try {
        await building.migrate.latest();
      } finally {
        await building.destroy();
      }
      await admin.raw(`ALTER DATABASE "${name}_building" RENAME TO "${name}"`);
      await admin.raw(`ALTER DATABASE "${name}" WITH is_template = true`);
    });
  } finally {
    await admin.destroy();
  }
  return name;
}

export async function cloneTemplate(target: string): Promise<void> {
  const admin = createDb(ADMIN_DATABASE_URL, 1);
  try {
    await admin.raw(`CREATE DATABASE "${target}" TEMPLATE "${templateName()}"`);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = createDb(ADMIN_DATABASE_URL, 1);
  try {
    await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
}
