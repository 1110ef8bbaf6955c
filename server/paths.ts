import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';

/**
 * Where things are, whether the TypeScript sources run (tsx, jest: this file is server/paths.ts)
 * or the compiled JavaScript does (`npm run build`: this file is dist/server/paths.js).
 */
export const COMPILED = path.extname(__filename) === '.js';

/** The directory holding server/, workers/ and migrations/ as they run: the repository root, or dist/. */
export const CODE_ROOT = path.resolve(__dirname, '..');

/** The repository root: views/ and public/ are here, never copied into dist/. */
export const PROJECT_ROOT = COMPILED ? path.resolve(CODE_ROOT, '..') : CODE_ROOT;

/** A path under the repository root. */
export const fromProjectRoot = (...segments: string[]): string => path.join(PROJECT_ROOT, ...segments);

export const MIGRATIONS_DIR = path.join(CODE_ROOT, 'migrations');

/**
 * The migrations as knex sees them. The sources are read as they are; the compiled ones keep the
 * name of the file they were compiled from (`….ts`), so a database records the same names however
 * it was migrated, and the compiled build takes over a database the sources migrated, and back.
 */
export function migrationsConfig(): Knex.MigratorConfig {
  if (!COMPILED) return { directory: MIGRATIONS_DIR, loadExtensions: ['.ts'] };
  const source: Knex.MigrationSource<string> = {
    getMigrations: async () => (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.js')).sort(),
    getMigrationName: (file) => file.replace(/\.js$/, '.ts'),
    getMigration: async (file) => require(path.join(MIGRATIONS_DIR, file)) as Knex.Migration,
  };
  return { migrationSource: source };
}
