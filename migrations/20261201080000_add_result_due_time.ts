import type { Knex } from 'knex';

// The league table's on-time share compares each result with its task's due time. Kept on the
// result itself (like task_created_at) and covered by the timing index, a period's figures read
// only that period's index entries instead of joining every task ever made.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE task_results ADD COLUMN task_due_at timestamptz;
    UPDATE task_results r SET task_due_at = t.due_at FROM tasks t WHERE t.id = r.task_id;
    DROP INDEX task_results_timing;
    CREATE INDEX task_results_timing ON task_results (created_at) INCLUDE (institution_id, task_created_at, task_due_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX task_results_timing;
    CREATE INDEX task_results_timing ON task_results (created_at) INCLUDE (institution_id, task_created_at);
    ALTER TABLE task_results DROP COLUMN task_due_at;
  `);
}
