import type { Knex } from 'knex';

// Payment screening opens warn_payer tasks (family `warning`, allowed since the task families
// came in); victims follow their case with a one-time access code.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- A warn_payer task's payment: the screening institution's reference, the decision and the
    -- payee as screened. One task per payment, whatever the retries: the unique index is the claim.
    ALTER TABLE tasks ADD COLUMN payment jsonb;
    CREATE UNIQUE INDEX tasks_one_warning_per_payment ON tasks ((payment->>'screenedBy'), (payment->>'ref'))
      WHERE payment IS NOT NULL;

    ALTER TABLE task_results DROP CONSTRAINT IF EXISTS task_results_outcome_check;
    ALTER TABLE task_results ADD CONSTRAINT task_results_outcome_check CHECK (outcome IN (
      'frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected', 'returned',
      'dissuaded', 'proceeded', 'not_reached'));

    -- Warnings issued and dissuaded payments, appended like every other rollup delta. A warning is
    -- counted by day and currency alone (it has no fraud type, and may have no institution yet).
    ALTER TABLE stats_deltas ADD COLUMN warnings_issued integer NOT NULL DEFAULT 0;
    ALTER TABLE stats_deltas ADD COLUMN warnings_dissuaded integer NOT NULL DEFAULT 0;
    ALTER TABLE stats_deltas ADD COLUMN warnings_dissuaded_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_deltas DROP CONSTRAINT stats_deltas_target_check;
    ALTER TABLE stats_deltas ADD CONSTRAINT stats_deltas_target_check
      CHECK (fraud_type IS NOT NULL OR institution_id IS NOT NULL OR warnings_issued <> 0 OR warnings_dissuaded <> 0);
    CREATE TABLE stats_warnings_daily (
      day date NOT NULL,
      currency varchar(3) NOT NULL,
      issued integer NOT NULL DEFAULT 0,
      dissuaded integer NOT NULL DEFAULT 0,
      dissuaded_minor bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (day, currency)
    );

    -- The victim's access code, as a hash only (the code itself is shown once, at intake).
    ALTER TABLE reports ADD COLUMN access_code_hash text;
    -- A case's frozen and returned money, read by report for its status.
    CREATE INDEX loss_prevention_ledger_by_report ON loss_prevention_ledger (report_id, entry_type);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX loss_prevention_ledger_by_report;
    ALTER TABLE reports DROP COLUMN access_code_hash;
    DROP TABLE stats_warnings_daily;
    ALTER TABLE stats_deltas DROP CONSTRAINT stats_deltas_target_check;
    ALTER TABLE stats_deltas ADD CONSTRAINT stats_deltas_target_check CHECK (fraud_type IS NOT NULL OR institution_id IS NOT NULL);
    ALTER TABLE stats_deltas DROP COLUMN warnings_dissuaded_minor;
    ALTER TABLE stats_deltas DROP COLUMN warnings_dissuaded;
    ALTER TABLE stats_deltas DROP COLUMN warnings_issued;
    ALTER TABLE task_results DROP CONSTRAINT task_results_outcome_check;
    ALTER TABLE task_results ADD CONSTRAINT task_results_outcome_check CHECK (outcome IN (
      'frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected'));
    DROP INDEX tasks_one_warning_per_payment;
    ALTER TABLE tasks DROP COLUMN payment;
  `);
}
