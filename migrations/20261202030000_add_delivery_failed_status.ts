import type { Knex } from 'knex';

// A task whose deliveries ran out is `delivery_failed`: still open (it keeps its blocking key and
// counts in the open-task indexes), no longer `queued` (no worker or reconciler sends it on its
// own; staff retry or reassign it, or the retry of its institution's failed deliveries does).

const OPEN_BEFORE = `'unrouted', 'queued', 'dispatched'`;
const OPEN_AFTER = `'unrouted', 'queued', 'dispatched', 'delivery_failed'`;

function indexes(open: string): string {
  return `
    DROP INDEX tasks_one_open_blocking_task;
    CREATE UNIQUE INDEX tasks_one_open_blocking_task ON tasks (open_blocking_key)
      WHERE open_blocking_key IS NOT NULL AND status IN (${open});
    DROP INDEX tasks_open_by_target;
    CREATE INDEX tasks_open_by_target ON tasks (target_kind, target_value) WHERE status IN (${open});
    DROP INDEX tasks_open_by_institution;
    CREATE INDEX tasks_open_by_institution ON tasks (institution_id, status, due_at) WHERE status IN (${open});
  `;
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
      CHECK (status IN ('unrouted','queued','dispatched','delivery_failed','done','failed','cancelled'));
    ${indexes(OPEN_AFTER)}
    -- Until now a failed delivery stayed queued with delivery_failed_at set.
    UPDATE tasks SET status = 'delivery_failed', version = version + 1, updated_at = now()
     WHERE status = 'queued' AND delivery_failed_at IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE tasks SET status = 'queued', version = version + 1, updated_at = now() WHERE status = 'delivery_failed';
    ${indexes(OPEN_BEFORE)}
    ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('unrouted','queued','dispatched','done','failed','cancelled'));
  `);
}
