import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SEQUENCE report_case_seq');

  await knex.schema.createTable('reports', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('case_number').notNullable().unique();
    t.text('status').notNullable().defaultTo('open');
    t.text('channel').notNullable();
    t.text('fraud_type').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('victim_name').notNullable();
    t.text('victim_phone');
    t.text('victim_id_number');
    t.text('narrative').notNullable().defaultTo('');
    t.string('currency', 3).notNullable();
    t.bigInteger('reported_loss_minor').notNullable();
    t.uuid('created_by').references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['created_at']);
    t.index(['status', 'created_at']);
    t.index(['fraud_type', 'created_at']);
  });
  await knex.raw(`
    ALTER TABLE reports
      ADD CONSTRAINT reports_status_check CHECK (status IN ('open','closed')),
      ADD CONSTRAINT reports_channel_check CHECK (channel IN ('hotline','walk_in','online','referral')),
      ADD CONSTRAINT reports_fraud_type_check CHECK (fraud_type IN ('impersonation','investment','romance','customer_service','part_time_job','loan','shopping','other')),
      ADD CONSTRAINT reports_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
      ADD CONSTRAINT reports_reported_loss_minor_check CHECK (reported_loss_minor >= 0)
  `);

  await knex.schema.createTable('transfers', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('report_id').notNullable().references('reports.id').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.text('to_account').notNullable();
    t.text('to_account_name');
    t.text('to_institution_id').references('institutions.id');
    t.bigInteger('amount_minor').notNullable();
    t.string('currency', 3).notNullable();
    t.timestamp('transferred_at', { useTz: true });
    t.unique(['report_id', 'position']);
    t.index(['to_account']);
  });
  await knex.raw('ALTER TABLE transfers ADD CONSTRAINT transfers_amount_minor_check CHECK (amount_minor > 0)');

  await knex.schema.createTable('indicators', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('kind').notNullable();
    t.text('value').notNullable();
    t.text('status');
    t.integer('report_count').notNullable().defaultTo(0);
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['kind', 'value'], { indexName: 'indicators_kind_value_unique' });
  });
  await knex.raw(`
    ALTER TABLE indicators
      ADD CONSTRAINT indicators_kind_check CHECK (kind IN ('phone','sms_sender','url','domain','bank_account','payment_account','im_account')),
      ADD CONSTRAINT indicators_status_check CHECK (status IS NULL OR status IN ('suspected','confirmed','blocked')),
      ADD CONSTRAINT indicators_report_count_check CHECK (report_count >= 0)
  `);

  await knex.schema.createTable('report_indicators', (t) => {
    t.uuid('report_id').notNullable().references('reports.id').onDelete('CASCADE');
    t.uuid('indicator_id').notNullable().references('indicators.id');
    t.integer('position').notNullable();
    t.text('raw_value').notNullable();
    t.primary(['report_id', 'indicator_id']);
    t.index(['indicator_id']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('actor_id').notNullable();
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['actor_id', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('report_indicators');
  await knex.schema.dropTable('indicators');
  await knex.schema.dropTable('transfers');
  await knex.schema.dropTable('reports');
  await knex.raw('DROP SEQUENCE report_case_seq');
}
