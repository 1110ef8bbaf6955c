import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A run of indicator items is worked by parallel lanes, each owning the indicators whose
  // (kind, value) hashes to it; a lane's cursor commits with its effects, and the batch cursor
  // moves past the run once every lane is through it.
  await knex.raw(`ALTER TABLE feed_batches ADD COLUMN lane_cursors integer[] NOT NULL DEFAULT '{-1,-1}'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feed_batches', (t) => {
    t.dropColumn('lane_cursors');
  });
}
