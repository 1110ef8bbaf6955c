import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feed_batches', (t) => {
    // The item whose task result is being recorded right now. A retried job that finds it already
    // set knows the earlier attempt may have committed, and does not count its own echo as a rejection.
    t.integer('attempting_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feed_batches', (t) => {
    t.dropColumn('attempting_idx');
  });
}
