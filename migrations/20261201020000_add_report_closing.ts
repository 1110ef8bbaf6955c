import type { Knex } from 'knex';

// A report is closed (and may be reopened) by an officer with a reason; the page shows when and why
// without reading the whole audit timeline. The events keep every close and reopen.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE reports ADD COLUMN closed_at timestamptz;
    ALTER TABLE reports ADD COLUMN closed_reason text;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE reports DROP COLUMN closed_reason;
    ALTER TABLE reports DROP COLUMN closed_at;
  `);
}
