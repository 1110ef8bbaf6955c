import type { Knex } from 'knex';

// A feed is stored before the 202 as it arrived: its lines, byte for byte, in blocks of whole
// lines. Checking each item (JSON, schema, normalized value) and de-duplicating it into
// feed_items or feed_errors is the feeds worker's first step, so the answer to the partner waits
// only on the write. `check_cursor` is how far that step got; a batch no longer arrives in
// committed segments, so `storing` goes, and `stored` (the batch's rows in feed_items, read by
// nothing) goes with it.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feed_blocks', (t) => {
    t.uuid('batch_id').notNullable().references('feed_batches.id').onDelete('CASCADE');
    // Index of the block's first item; items are numbered across the feed, blank lines skipped.
    t.integer('first_idx').notNullable();
    t.integer('item_count').notNullable();
    t.binary('body').notNullable();
    t.primary(['batch_id', 'first_idx']);
  });
  // Feed text compresses well, and lz4 costs less than writing what it saves. A server built
  // without lz4 (the embedded PostgreSQL of the zero-install demo and tests) keeps the default, pglz.
  await knex.raw(`
    DO $$ BEGIN
      ALTER TABLE feed_blocks ALTER COLUMN body SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN NULL;
    END $$`);
  await knex.raw(`
    ALTER TABLE feed_batches ADD COLUMN check_cursor integer NOT NULL DEFAULT -1;
    UPDATE feed_batches SET check_cursor = received - 1;
    UPDATE feed_batches SET status = 'done', completed_at = coalesce(completed_at, now())
     WHERE status = 'processing' AND storing AND processed >= received;
    ALTER TABLE feed_batches DROP COLUMN storing, DROP COLUMN stored;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE feed_batches ADD COLUMN storing boolean NOT NULL DEFAULT false,
                             ADD COLUMN stored integer NOT NULL DEFAULT 0;
    UPDATE feed_batches b SET stored = (SELECT count(*) FROM feed_items i WHERE i.batch_id = b.id);
    ALTER TABLE feed_batches DROP COLUMN check_cursor;
  `);
  await knex.schema.dropTable('feed_blocks');
}
