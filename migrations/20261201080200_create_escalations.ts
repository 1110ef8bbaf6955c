import type { Knex } from 'knex';

// An overdue task is escalated once (tasks.escalated_at); each escalation is also a row here, the
// supervisors' notification. Who has seen what is kept per person: a read mark per escalation,
// and a "read everything up to" mark that "mark all as read" moves in one write.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE escalations (
      id bigserial PRIMARY KEY,
      task_id uuid NOT NULL REFERENCES tasks(id),
      report_id uuid REFERENCES reports(id),
      institution_id text REFERENCES institutions(id),
      due_at timestamptz NOT NULL,
      escalated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX escalations_task ON escalations (task_id);
    CREATE TABLE escalation_reads (
      user_id uuid NOT NULL REFERENCES users(id),
      escalation_id bigint NOT NULL REFERENCES escalations(id),
      read_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, escalation_id)
    );
    CREATE TABLE escalation_read_marks (
      user_id uuid PRIMARY KEY REFERENCES users(id),
      read_through bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE escalation_read_marks; DROP TABLE escalation_reads; DROP TABLE escalations;');
}
