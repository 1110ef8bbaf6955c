import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feed_batches', (t) => {
    // A long feed is committed in segments while its body is still arriving, so processing can
    // start early; until the last segment is in, the batch cannot be done however far it got.
    t.boolean('storing').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('feed_batches', (t) => {
    t.dropColumn('storing');
  });
}
