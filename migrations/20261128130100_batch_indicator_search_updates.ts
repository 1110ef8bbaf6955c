import type { Knex } from 'knex';

// A feed adds indicators by the hundred thousand, and the trigram search index took more time to
// keep up than the rows themselves. A larger pending list lets GIN file new entries in big sorted
// batches (about half the index's cost at a million rows). A search also reads the pending list,
// which costs it up to tens of milliseconds while the list is full; the lookup used for payment
// screening does not use this index at all.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER INDEX indicators_value_trgm SET (gin_pending_list_limit = 65536)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER INDEX indicators_value_trgm RESET (gin_pending_list_limit)');
}
