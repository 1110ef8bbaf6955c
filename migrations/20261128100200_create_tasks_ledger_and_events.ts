import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tasks', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('report_id').references('reports.id');
    t.text('kind').notNullable();
    t.text('institution_id').references('institutions.id');
    t.text('status').notNullable();
    t.text('target_kind').notNullable();
    t.text('target_value').notNullable();
    t.text('target_name');
    t.uuid('indicator_id').references('indicators.id');
    t.uuid('transfer_id').references('transfers.id');
    t.bigInteger('amount_minor');
    t.string('currency', 3);
    t.timestamp('transferred_at', { useTz: true });
    t.uuid('parent_task_id').references('tasks.id');
    t.integer('depth').notNullable().defaultTo(1);
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('dispatched_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('escalated_at', { useTz: true });
    t.timestamp('delivery_failed_at', { useTz: true });
    t.text('delivery_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['report_id']);
    t.index(['parent_task_id']);
    t.index(['institution_id', 'status', 'due_at']);
    t.index(['status', 'due_at']);
    t.index(['indicator_id']);
  });
  await knex.raw(`
    ALTER TABLE tasks
      ADD CONSTRAINT tasks_kind_check CHECK (kind IN ('intercept_funds','freeze_account','block_number','block_sms_sender','takedown_url','freeze_payment_account','block_im_account')),
      ADD CONSTRAINT tasks_status_check CHECK (status IN ('unrouted','queued','dispatched','done','failed','cancelled')),
      ADD CONSTRAINT tasks_routed_check CHECK ((status = 'unrouted') = (institution_id IS NULL) OR status IN ('done','failed','cancelled')),
      ADD CONSTRAINT tasks_amount_minor_check CHECK (amount_minor IS NULL OR amount_minor > 0),
      ADD CONSTRAINT tasks_amount_currency_check CHECK ((amount_minor IS NULL) = (currency IS NULL)),
      ADD CONSTRAINT tasks_intercept_amount_check CHECK (kind <> 'intercept_funds' OR amount_minor IS NOT NULL),
      ADD CONSTRAINT tasks_depth_check CHECK (depth >= 1),
      ADD CONSTRAINT tasks_version_check CHECK (version >= 1)
  `);

  await knex.schema.createTable('task_results', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('task_id').notNullable().unique().references('tasks.id');
    t.text('outcome').notNullable();
    t.bigInteger('frozen_minor').notNullable().defaultTo(0);
    t.text('note');
    t.text('actor_id');
    t.text('actor_type').notNullable();
    t.text('source').notNullable().defaultTo('api');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`
    ALTER TABLE task_results
      ADD CONSTRAINT task_results_outcome_check CHECK (outcome IN ('frozen','partially_frozen','funds_moved','blocked','not_found','rejected')),
      ADD CONSTRAINT task_results_frozen_minor_check CHECK (frozen_minor >= 0)
  `);

  // Append-only: totals are sums of rows; a correction is a new row, never an update.
  await knex.schema.createTable('loss_prevention_ledger', (t) => {
    t.bigIncrements('id');
    t.text('entry_type').notNullable();
    t.uuid('task_id').notNullable().references('tasks.id');
    t.uuid('task_result_id').references('task_results.id');
    t.uuid('report_id').references('reports.id');
    t.text('institution_id').references('institutions.id');
    t.text('fraud_type');
    t.bigInteger('amount_minor').notNullable();
    t.string('currency', 3).notNullable();
    t.timestamp('booked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('note');
    t.index(['booked_at']);
  });
  await knex.raw(`
    ALTER TABLE loss_prevention_ledger
      ADD CONSTRAINT ledger_entry_type_check CHECK (entry_type IN ('freeze','correction')),
      ADD CONSTRAINT ledger_freeze_positive CHECK (entry_type <> 'freeze' OR amount_minor > 0);
    CREATE UNIQUE INDEX ledger_one_freeze_per_task ON loss_prevention_ledger (task_id) WHERE entry_type = 'freeze';
    CREATE RULE loss_prevention_ledger_no_update AS ON UPDATE TO loss_prevention_ledger DO INSTEAD NOTHING;
    CREATE RULE loss_prevention_ledger_no_delete AS ON DELETE TO loss_prevention_ledger DO INSTEAD NOTHING;
  `);

  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('type').notNullable();
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.text('actor_name');
    t.uuid('report_id').references('reports.id');
    t.uuid('task_id').references('tasks.id');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.index(['report_id', 'occurred_at']);
    t.index(['task_id', 'occurred_at']);
  });
  await knex.raw(`ALTER TABLE events ADD CONSTRAINT events_actor_type_check CHECK (actor_type IN ('user','api_client','system'))`);

  // Rollups for the supervisor's figures, kept in the same transaction as the rows they count.
  await knex.schema.createTable('stats_daily', (t) => {
    t.date('day').notNullable();
    t.string('currency', 3).notNullable();
    t.text('fraud_type').notNullable();
    t.integer('reports').notNullable().defaultTo(0);
    t.bigInteger('reported_loss_minor').notNullable().defaultTo(0);
    t.bigInteger('loss_prevented_minor').notNullable().defaultTo(0);
    t.primary(['day', 'currency', 'fraud_type']);
  });
  await knex.schema.createTable('stats_institution_daily', (t) => {
    t.date('day').notNullable();
    t.text('institution_id').notNullable().references('institutions.id');
    t.string('currency', 3).notNullable();
    t.bigInteger('loss_prevented_minor').notNullable().defaultTo(0);
    t.integer('tasks_done').notNullable().defaultTo(0);
    t.integer('tasks_failed').notNullable().defaultTo(0);
    t.primary(['day', 'institution_id', 'currency']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stats_institution_daily');
  await knex.schema.dropTable('stats_daily');
  await knex.schema.dropTable('events');
  await knex.raw('DROP RULE IF EXISTS loss_prevention_ledger_no_update ON loss_prevention_ledger; DROP RULE IF EXISTS loss_prevention_ledger_no_delete ON loss_prevention_ledger');
  await knex.schema.dropTable('loss_prevention_ledger');
  await knex.schema.dropTable('task_results');
  await knex.schema.dropTable('tasks');
}
