import type { Knex } from 'knex';

// After the freeze: a frozen result opens a hold on the receiving account; held money is released
// (by decision, dispute or expiry) or returned to victims through a return_funds task at the
// holding bank. For every hold, frozen = released + returned + balance, nothing negative, and
// pending returns never reserve more than the balance: the CHECKs below say so, whatever the code
// above them does.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- return_funds tasks pay held money back to a victim: a family of their own, which books a
    -- return instead of a freeze and chases nothing.
    ALTER TABLE tasks DROP CONSTRAINT tasks_family_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_family_check CHECK (family IN ('money', 'blocking', 'warning', 'return'));
    ALTER TABLE tasks ADD CONSTRAINT tasks_return_amount_check CHECK (family <> 'return' OR amount_minor IS NOT NULL);

    -- The whole vocabulary of outcomes (payment screening's warnings too), whichever of the two
    -- migrations that name them runs last.
    ALTER TABLE task_results DROP CONSTRAINT IF EXISTS task_results_outcome_check;
    ALTER TABLE task_results ADD CONSTRAINT task_results_outcome_check CHECK (outcome IN (
      'frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected', 'returned',
      'dissuaded', 'proceeded', 'not_reached'));
    ALTER TABLE task_results ADD COLUMN returned_minor bigint;
    ALTER TABLE task_results ADD CONSTRAINT task_results_returned_minor_check
      CHECK ((outcome = 'returned') = (returned_minor IS NOT NULL) AND (returned_minor IS NULL OR returned_minor > 0));

    CREATE TABLE holds (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      task_id uuid NOT NULL UNIQUE REFERENCES tasks(id),
      task_result_id uuid NOT NULL REFERENCES task_results(id),
      report_id uuid REFERENCES reports(id),
      institution_id text NOT NULL REFERENCES institutions(id),
      account text NOT NULL,
      account_name text,
      currency varchar(3) NOT NULL,
      frozen_minor bigint NOT NULL,
      released_minor bigint NOT NULL DEFAULT 0,
      returned_minor bigint NOT NULL DEFAULT 0,
      -- The amounts of pending returns: set aside from the balance until the bank answers.
      reserved_minor bigint NOT NULL DEFAULT 0,
      balance_minor bigint GENERATED ALWAYS AS (frozen_minor - released_minor - returned_minor) STORED,
      stage text NOT NULL,
      status text NOT NULL DEFAULT 'active',
      expires_at timestamptz NOT NULL,
      renewals integer NOT NULL DEFAULT 0,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      CONSTRAINT holds_frozen_positive CHECK (frozen_minor > 0),
      CONSTRAINT holds_amounts_not_negative CHECK (released_minor >= 0 AND returned_minor >= 0 AND reserved_minor >= 0),
      CONSTRAINT holds_balance_not_negative CHECK (released_minor + returned_minor <= frozen_minor),
      CONSTRAINT holds_reserved_within_balance CHECK (reserved_minor <= frozen_minor - released_minor - returned_minor),
      CONSTRAINT holds_stage_check CHECK (stage IN ('stop_payment', 'freeze')),
      CONSTRAINT holds_status_check CHECK (status IN ('active', 'expired', 'closed')),
      -- Closed: nothing left. Expired: all but what pending returns reserve was released by law.
      CONSTRAINT holds_closed_empty CHECK (status <> 'closed' OR released_minor + returned_minor = frozen_minor),
      CONSTRAINT holds_expired_released CHECK (status <> 'expired' OR reserved_minor = frozen_minor - released_minor - returned_minor),
      CONSTRAINT holds_renewals_check CHECK (renewals >= 0),
      CONSTRAINT holds_version_check CHECK (version >= 1)
    );
    -- The scan and the "expiring soon" lists read active holds by expiry.
    CREATE INDEX holds_active_by_expiry ON holds (expires_at, id) WHERE status = 'active';
    CREATE INDEX holds_by_institution ON holds (institution_id, expires_at, id);
    CREATE INDEX holds_by_report ON holds (report_id);
    CREATE INDEX holds_by_account ON holds (account);

    CREATE TABLE hold_returns (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      hold_id uuid NOT NULL REFERENCES holds(id),
      task_id uuid NOT NULL UNIQUE REFERENCES tasks(id),
      amount_minor bigint NOT NULL,
      returned_minor bigint,
      victim_account text NOT NULL,
      victim_account_name text,
      note text,
      status text NOT NULL DEFAULT 'pending',
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz,
      CONSTRAINT hold_returns_amount_positive CHECK (amount_minor > 0),
      CONSTRAINT hold_returns_status_check CHECK (status IN ('pending', 'paid', 'failed')),
      CONSTRAINT hold_returns_paid_amount CHECK ((status = 'paid') = (returned_minor IS NOT NULL)
                                                 AND (returned_minor IS NULL OR (returned_minor > 0 AND returned_minor <= amount_minor))),
      CONSTRAINT hold_returns_settled CHECK ((status = 'pending') = (settled_at IS NULL))
    );
    CREATE INDEX hold_returns_by_hold ON hold_returns (hold_id, created_at);

    CREATE TABLE hold_disputes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      hold_id uuid NOT NULL REFERENCES holds(id),
      institution_id text NOT NULL REFERENCES institutions(id),
      claimant_name text NOT NULL,
      reason text NOT NULL,
      amount_minor bigint NOT NULL,
      status text NOT NULL DEFAULT 'open',
      due_at timestamptz NOT NULL,
      opened_by_type text NOT NULL,
      opened_by_id text,
      released_minor bigint,
      decision_reason text,
      decided_by_id text,
      decided_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT hold_disputes_amount_positive CHECK (amount_minor > 0),
      CONSTRAINT hold_disputes_status_check CHECK (status IN ('open', 'released', 'rejected')),
      CONSTRAINT hold_disputes_released CHECK ((status = 'released') = (released_minor IS NOT NULL) AND (released_minor IS NULL OR released_minor > 0)),
      CONSTRAINT hold_disputes_decided CHECK ((status = 'open') = (decided_at IS NULL))
    );
    CREATE INDEX hold_disputes_by_hold ON hold_disputes (hold_id, created_at);
    CREATE INDEX hold_disputes_by_due ON hold_disputes (institution_id, due_at, id);
    CREATE INDEX hold_disputes_open_by_due ON hold_disputes (due_at, id) WHERE status = 'open';

    -- Released and returned money are ledger entries beside the freeze, each booked once: a
    -- booking key names the one act that booked it (a release, a dispute's decision, an expiry,
    -- a return task's result), and the unique index refuses a second booking of the same act.
    ALTER TABLE loss_prevention_ledger ADD COLUMN hold_id uuid REFERENCES holds(id);
    ALTER TABLE loss_prevention_ledger ADD COLUMN booking_key text;
    ALTER TABLE loss_prevention_ledger DROP CONSTRAINT ledger_entry_type_check;
    ALTER TABLE loss_prevention_ledger ADD CONSTRAINT ledger_entry_type_check
      CHECK (entry_type IN ('freeze', 'correction', 'released', 'returned'));
    ALTER TABLE loss_prevention_ledger ADD CONSTRAINT ledger_hold_entry_check
      CHECK (entry_type NOT IN ('released', 'returned') OR (amount_minor > 0 AND hold_id IS NOT NULL AND booking_key IS NOT NULL));
    CREATE UNIQUE INDEX ledger_one_booking_per_key ON loss_prevention_ledger (booking_key) WHERE booking_key IS NOT NULL;
    CREATE UNIQUE INDEX ledger_one_return_per_task ON loss_prevention_ledger (task_id) WHERE entry_type = 'returned';
    CREATE INDEX ledger_by_hold ON loss_prevention_ledger (hold_id) WHERE hold_id IS NOT NULL;

    ALTER TABLE events ADD COLUMN hold_id uuid REFERENCES holds(id);
    CREATE INDEX events_by_hold ON events (hold_id, occurred_at) WHERE hold_id IS NOT NULL;

    ALTER TABLE stats_deltas ADD COLUMN released_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_deltas ADD COLUMN returned_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_daily ADD COLUMN released_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_daily ADD COLUMN returned_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_institution_daily ADD COLUMN released_minor bigint NOT NULL DEFAULT 0;
    ALTER TABLE stats_institution_daily ADD COLUMN returned_minor bigint NOT NULL DEFAULT 0;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE stats_institution_daily DROP COLUMN returned_minor, DROP COLUMN released_minor;
    ALTER TABLE stats_daily DROP COLUMN returned_minor, DROP COLUMN released_minor;
    ALTER TABLE stats_deltas DROP COLUMN returned_minor, DROP COLUMN released_minor;
    DROP INDEX events_by_hold;
    ALTER TABLE events DROP COLUMN hold_id;
    DROP INDEX ledger_by_hold;
    DROP INDEX ledger_one_return_per_task;
    DROP INDEX ledger_one_booking_per_key;
    ALTER TABLE loss_prevention_ledger DROP CONSTRAINT ledger_hold_entry_check;
    ALTER TABLE loss_prevention_ledger DROP CONSTRAINT ledger_entry_type_check;
    ALTER TABLE loss_prevention_ledger ADD CONSTRAINT ledger_entry_type_check CHECK (entry_type IN ('freeze', 'correction'));
    ALTER TABLE loss_prevention_ledger DROP COLUMN booking_key;
    ALTER TABLE loss_prevention_ledger DROP COLUMN hold_id;
    DROP TABLE hold_disputes;
    DROP TABLE hold_returns;
    DROP TABLE holds;
    ALTER TABLE task_results DROP CONSTRAINT task_results_returned_minor_check;
    ALTER TABLE task_results DROP COLUMN returned_minor;
    ALTER TABLE task_results DROP CONSTRAINT task_results_outcome_check;
    ALTER TABLE task_results ADD CONSTRAINT task_results_outcome_check
      CHECK (outcome IN ('frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected'));
    ALTER TABLE tasks DROP CONSTRAINT tasks_return_amount_check;
    ALTER TABLE tasks DROP CONSTRAINT tasks_family_check;
    ALTER TABLE tasks ADD CONSTRAINT tasks_family_check CHECK (family IN ('money', 'blocking', 'warning'));
  `);
}
