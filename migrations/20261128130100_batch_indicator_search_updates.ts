import type { Knex } from 'knex';

// A feed adds indicators by the hundred thousand, and the trigram search index took more time to
// keep up than the rows themselves. A larger pending list lets GIN file new entries in big sorted
// batches (about half the cost at a million rows); a search reads the pending list in full,
// which at this size costs it a few milliseconds, and the lookup used for payment screening does
// not use this index at all.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER INDEX indicators_value_trgm SET (gin_pending_list_limit = 65536)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER INDEX indicators_value_trgm RESET (gin_pending_list_limit)');
}
