import type { Knex } from 'knex';

// The message format of an institution's webhook deliveries: AFRC's JSON task, or ISO 20022
// (camt.056 for interceptions, answered by camt.029) for banks whose payment systems speak it.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE institutions
      ADD COLUMN message_format text NOT NULL DEFAULT 'json',
      ADD CONSTRAINT institutions_message_format_check CHECK (message_format IN ('json','iso20022'))
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE institutions DROP COLUMN message_format');
}
