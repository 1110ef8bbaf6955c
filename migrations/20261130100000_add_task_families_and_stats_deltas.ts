import type { Knex } from 'knex';

// The task engine (server/tasks/task-engine.ts) names each task's family once, keeps one open
// blocking task per target and institution, and books rollups as appended deltas instead of
// updating one shared row per day from every writer.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tasks ADD COLUMN family text;
    UPDATE tasks SET family = CASE WHEN kind = 'intercept_funds' THEN 'money' ELSE 'blocking' END;
    ALTER TABLE tasks ALTER COLUMN family SET NOT NULL;
    ALTER TABLE tasks ADD CONSTRAINT tasks_family_check CHECK (family IN ('money', 'blocking', 'warning'));

    -- Kinds are owned by the task-kind table in code (server/domain/task-kinds.ts): adding one
    -- is an entry there, not a migration. Families, which the queries rely on, stay checked.
    ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
    ALTER TABLE tasks DROP CONSTRAINT tasks_intercept_amount_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_money_amount_check CHECK (family <> 'money' OR amount_minor IS NOT NULL);

    -- Set while a blocking task is open and is the one task for its target at its institution;
    -- the unique index is what keeps a wave of reports on one number from opening a task each.
    -- Tasks from before this migration have none, so their duplicates stay as they were.
    ALTER TABLE tasks ADD COLUMN open_blocking_key text;
    CREATE UNIQUE INDEX tasks_one_open_blocking_task ON tasks (open_blocking_key)
      WHERE open_blocking_key IS NOT NULL AND status IN ('unrouted', 'queued', 'dispatched');
    CREATE INDEX tasks_open_by_target ON tasks (target_kind, target_value)
      WHERE status IN ('unrouted', 'queued', 'dispatched');

    -- How a report's indicator is covered: a blocking task it opened, an open one it joined, none
    -- because the indicator was already blocked, or the interception of the same account.
    ALTER TABLE report_indicators ADD COLUMN blocking_task_id uuid REFERENCES tasks(id);
    ALTER TABLE report_indicators ADD COLUMN blocking text;
    ALTER TABLE report_indicators ADD CONSTRAINT report_indicators_blocking_check
      CHECK (blocking IS NULL OR blocking IN ('opened', 'joined', 'already_blocked', 'intercepted'));

    -- Appended by every writer in its own transaction, folded into stats_daily and
    -- stats_institution_daily in the background; readers add what is not folded yet.
    CREATE TABLE stats_deltas (
      id bigserial PRIMARY KEY,
      day date NOT NULL,
      currency varchar(3) NOT NULL,
      fraud_type text,
      institution_id text REFERENCES institutions(id),
      reports integer NOT NULL DEFAULT 0,
      reported_loss_minor bigint NOT NULL DEFAULT 0,
      loss_prevented_minor bigint NOT NULL DEFAULT 0,
      tasks_done integer NOT NULL DEFAULT 0,
      tasks_failed integer NOT NULL DEFAULT 0,
      CONSTRAINT stats_deltas_target_check CHECK (fraud_type IS NOT NULL OR institution_id IS NOT NULL)
    );

    -- Bumped by any change to institutions or their routes: a process keeps its routing table
    -- while the version it read stays the same, and reads the version in the intake statement.
    CREATE TABLE routing_version (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      version bigint NOT NULL
    );
    INSERT INTO routing_version (version) VALUES (1);
    CREATE FUNCTION afrc_bump_routing_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE routing_version SET version = version + 1;
        RETURN NULL;
      END
    $$;
    CREATE TRIGGER institutions_bump_routing_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON institutions
      FOR EACH STATEMENT EXECUTE FUNCTION afrc_bump_routing_version();
    CREATE TRIGGER institution_routes_bump_routing_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON institution_routes
      FOR EACH STATEMENT EXECUTE FUNCTION afrc_bump_routing_version();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER institution_routes_bump_routing_version ON institution_routes;
    DROP TRIGGER institutions_bump_routing_version ON institutions;
    DROP FUNCTION afrc_bump_routing_version();
    DROP TABLE routing_version;
    DROP TABLE stats_deltas;
    ALTER TABLE report_indicators DROP CONSTRAINT report_indicators_blocking_check;
    ALTER TABLE report_indicators DROP COLUMN blocking;
    ALTER TABLE report_indicators DROP COLUMN blocking_task_id;
    DROP INDEX tasks_open_by_target;
    DROP INDEX tasks_one_open_blocking_task;
    ALTER TABLE tasks DROP COLUMN open_blocking_key;
    ALTER TABLE tasks DROP CONSTRAINT tasks_money_amount_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_intercept_amount_check CHECK (kind <> 'intercept_funds' OR amount_minor IS NOT NULL);
    ALTER TABLE tasks ADD CONSTRAINT tasks_kind_check CHECK (kind IN ('intercept_funds','freeze_account','block_number','block_sms_sender','takedown_url','freeze_payment_account','block_im_account'));
    ALTER TABLE tasks DROP CONSTRAINT tasks_family_check;
    ALTER TABLE tasks DROP COLUMN family;
  `);
}
