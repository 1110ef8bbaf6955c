import type { Knex } from 'knex';

// Shared rate-limit counters when the queues (and so the app's shared state) run on PostgreSQL
// rather than Redis: one row per limited key and window. UNLOGGED: a crash may forget the
// counts, as a Redis without persistence would, and writes skip the WAL.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE rate_limit_counters (
      key text PRIMARY KEY,
      hits integer NOT NULL CHECK (hits >= 0),
      reset_at timestamptz NOT NULL
    )
  `);
  await knex.raw('CREATE INDEX rate_limit_counters_reset_at ON rate_limit_counters (reset_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limit_counters');
}
