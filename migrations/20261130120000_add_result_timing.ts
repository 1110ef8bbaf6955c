import type { Knex } from 'knex';

// "Minutes to result" per institution is a median over a period's results. Kept on the result
// itself (who answered, and when the task was made) and covered by the index on created_at, it
// reads only the period's index entries instead of joining every task ever made.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE task_results ADD COLUMN institution_id text REFERENCES institutions(id), ADD COLUMN task_created_at timestamptz;
    UPDATE task_results r SET institution_id = t.institution_id, task_created_at = t.created_at FROM tasks t WHERE t.id = r.task_id;
    CREATE INDEX task_results_timing ON task_results (created_at) INCLUDE (institution_id, task_created_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX task_results_timing;
    ALTER TABLE task_results DROP COLUMN task_created_at, DROP COLUMN institution_id;
  `);
}
