import type { Knex } from 'knex';

// An event's time was the start of its transaction (now()), so the events of one statement or
// one transaction shared a time, and a long transaction's events looked older than those written
// meanwhile. The wall clock at the moment of the insert says when each thing happened; timelines
// are ordered by the events' sequence (id), and these times now agree with that order.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE events ALTER COLUMN occurred_at SET DEFAULT clock_timestamp()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE events ALTER COLUMN occurred_at SET DEFAULT now()');
}
