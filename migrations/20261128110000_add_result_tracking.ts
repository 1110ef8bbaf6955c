import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reports', (t) => {
    // Set once, by the first result that freezes money on any of the report's tasks:
    // the supervisor's "report to first freeze" figure reads it without scanning results.
    t.timestamp('first_frozen_at', { useTz: true });
    t.index(['first_frozen_at']);
  });
  await knex.schema.alterTable('task_results', (t) => {
    // What the partner said moved on; the child tasks are built from it, and beyond the trail
    // depth cap this is the only record of where the money went.
    t.jsonb('onward_transfers').notNullable().defaultTo('[]');
    t.index(['created_at']);
  });
  await knex.raw(`
    CREATE INDEX tasks_queued_updated_at ON tasks (updated_at) WHERE status = 'queued';
    CREATE INDEX tasks_dispatched_at ON tasks (dispatched_at) WHERE status = 'dispatched';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS tasks_dispatched_at; DROP INDEX IF EXISTS tasks_queued_updated_at');
  await knex.schema.alterTable('task_results', (t) => {
    t.dropIndex(['created_at']);
    t.dropColumn('onward_transfers');
  });
  await knex.schema.alterTable('reports', (t) => {
    t.dropIndex(['first_frozen_at']);
    t.dropColumn('first_frozen_at');
  });
}
