import type { Knex } from 'knex';

// The room as it is now (open, overdue and unrouted counts per institution) is read on every
// dashboard: a small index of open tasks only answers it without visiting millions of closed ones.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX tasks_open_by_institution ON tasks (institution_id, status, due_at)
      WHERE status IN ('unrouted', 'queued', 'dispatched')
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX tasks_open_by_institution');
}
