import type { Knex } from 'knex';

// Partner feeds: a batch per submission, one row per distinct item (the unique key makes a repeat
// a no-op), the items rejected on the way, and every sighting of an indicator by an institution.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feed_batches', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('institution_id').notNullable().references('institutions.id');
    // Processing acts as the submitter (a task result by feed is that partner's answer).
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.text('actor_name').notNullable();
    t.text('actor_role').notNullable();
    t.text('content_type').notNullable();
    t.text('status').notNullable().defaultTo('processing');
    t.integer('received').notNullable().defaultTo(0);
    t.integer('stored').notNullable().defaultTo(0);
    t.integer('processed').notNullable().defaultTo(0);
    t.integer('accepted').notNullable().defaultTo(0);
    t.integer('duplicates').notNullable().defaultTo(0);
    t.integer('rejected').notNullable().defaultTo(0);
    // Items are worked through in index order; everything at or below this index is done.
    t.integer('cursor').notNullable().defaultTo(-1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.index(['institution_id', 'created_at']);
  });
  await knex.raw(`
    ALTER TABLE feed_batches
      ADD CONSTRAINT feed_batches_status_check CHECK (status IN ('processing','done')),
      ADD CONSTRAINT feed_batches_actor_type_check CHECK (actor_type IN ('user','api_client'));
    CREATE INDEX feed_batches_processing ON feed_batches (updated_at) WHERE status = 'processing';
  `);

  await knex.schema.createTable('feed_items', (t) => {
    t.text('institution_id').notNullable();
    t.text('external_id').notNullable();
    t.uuid('batch_id').notNullable();
    t.integer('idx').notNullable();
    t.text('type').notNullable();
    t.text('indicator_kind');
    t.text('indicator_value');
    t.text('confidence');
    t.timestamp('observed_at', { useTz: true });
    t.text('note');
    t.uuid('task_id');
    t.jsonb('body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The idempotency key of the contract: one item per (institution, externalId), forever.
    t.primary(['institution_id', 'external_id']);
  });
  await knex.raw(`
    ALTER TABLE feed_items ADD CONSTRAINT feed_items_type_check CHECK (type IN ('fraud_indicator','task_result'));
    CREATE INDEX feed_items_batch_idx ON feed_items (batch_id, idx);
  `);

  await knex.schema.createTable('feed_errors', (t) => {
    t.uuid('batch_id').notNullable();
    t.integer('idx').notNullable();
    t.text('external_id');
    t.text('code').notNullable();
    t.text('message').notNullable();
    t.primary(['batch_id', 'idx']);
  });

  await knex.schema.createTable('indicator_sightings', (t) => {
    t.bigIncrements('id');
    t.uuid('indicator_id').notNullable();
    t.text('institution_id').notNullable();
    t.uuid('batch_id');
    t.text('external_id');
    t.text('confidence').notNullable();
    t.timestamp('observed_at', { useTz: true }).notNullable();
    t.text('note');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Foreign keys are checked per row; at feed volumes that doubles the cost of a sighting, and
  // sightings are only ever written by the feed processor from rows it has just upserted.
  await knex.raw(`
    ALTER TABLE indicator_sightings
      ADD CONSTRAINT indicator_sightings_confidence_check CHECK (confidence IN ('suspected','confirmed'));
    CREATE INDEX indicator_sightings_indicator ON indicator_sightings (indicator_id, institution_id);
  `);

  // Indicator search by any part of the value, and the tasks that target a value.
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  await knex.raw('CREATE INDEX indicators_value_trgm ON indicators USING gin (value gin_trgm_ops)');
  await knex.raw('CREATE INDEX indicators_last_seen ON indicators (last_seen_at DESC, id DESC)');
  await knex.raw('CREATE INDEX tasks_target ON tasks (target_kind, target_value)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS tasks_target');
  await knex.raw('DROP INDEX IF EXISTS indicators_last_seen');
  await knex.raw('DROP INDEX IF EXISTS indicators_value_trgm');
  await knex.schema.dropTable('indicator_sightings');
  await knex.schema.dropTable('feed_errors');
  await knex.schema.dropTable('feed_items');
  await knex.schema.dropTable('feed_batches');
}
