import type { Knex } from 'knex';

// Migrations are self-contained: vocabularies are spelled out here, not imported, so a later
// change to the application's enums never rewrites history.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('institutions', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('kind').notNullable();
    t.text('integration').notNullable();
    t.text('webhook_url');
    t.text('webhook_secret');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    ALTER TABLE institutions
      ADD CONSTRAINT institutions_id_slug CHECK (id ~ '^[a-z0-9-]{2,40}$'),
      ADD CONSTRAINT institutions_kind_check CHECK (kind IN ('bank','carrier','platform','police')),
      ADD CONSTRAINT institutions_integration_check CHECK (integration IN ('manual','webhook','simulated')),
      ADD CONSTRAINT institutions_webhook_url_required CHECK (integration <> 'webhook' OR webhook_url IS NOT NULL)
  `);

  await knex.schema.createTable('institution_routes', (t) => {
    t.bigIncrements('id');
    t.text('institution_id').notNullable().references('institutions.id').onDelete('CASCADE');
    t.text('indicator_kind').notNullable();
    t.text('prefix').notNullable().defaultTo('');
    t.unique(['indicator_kind', 'prefix'], { indexName: 'institution_routes_kind_prefix_unique' });
  });
  await knex.raw(`
    ALTER TABLE institution_routes ADD CONSTRAINT institution_routes_kind_check
      CHECK (indicator_kind IN ('phone','sms_sender','url','domain','bank_account','payment_account','im_account'))
  `);

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('username').notNullable();
    t.text('password_hash').notNullable();
    t.text('display_name').notNullable();
    t.text('role').notNullable();
    t.text('institution_id').references('institutions.id');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    CREATE UNIQUE INDEX users_username_unique ON users (lower(username));
    ALTER TABLE users
      ADD CONSTRAINT users_role_check CHECK (role IN ('admin','supervisor','desk_officer','liaison','partner_system')),
      ADD CONSTRAINT users_liaison_institution CHECK (role <> 'liaison' OR institution_id IS NOT NULL);
  `);

  await knex.schema.createTable('api_clients', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('client_id').notNullable().unique();
    t.text('secret_hash').notNullable();
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_clients');
  await knex.schema.dropTable('users');
  await knex.schema.dropTable('institution_routes');
  await knex.schema.dropTable('institutions');
}
