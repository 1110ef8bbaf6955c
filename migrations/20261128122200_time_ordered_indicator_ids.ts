import type { Knex } from 'knex';

// New indicators get time-ordered (version 7) UUIDs: a feed inserts them by the hundred thousand,
// and random keys scatter those inserts across the whole primary key and the sightings index
// (about a quarter slower at a million rows). PostgreSQL 15 has no uuidv7() of its own.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION afrc_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
      SELECT encode(
        set_bit(set_bit(
          overlay(uuid_send(gen_random_uuid())
                  PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                  FROM 1 FOR 6),
          52, 1), 53, 1),
        'hex')::uuid
    $$;
    ALTER TABLE indicators ALTER COLUMN id SET DEFAULT afrc_uuid_v7();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE indicators ALTER COLUMN id SET DEFAULT gen_random_uuid();
    DROP FUNCTION IF EXISTS afrc_uuid_v7();
  `);
}
