import type { Knex } from 'knex';

// Each token carries its user's token generation; logout, a password change or reset, a change of
// role or institution and deactivation move the generation on, which ends every token issued before.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('token_generation').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('token_generation');
  });
}
