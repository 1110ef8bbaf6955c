/**
 * Rows written straight into the application's tables with SQL, for the measures that need more
 * data (or a different shape of data) than HTTP could make in the time:
 *
 *   generateHistory    a year of a busy center: reports, transfers, indicators, tasks, their
 *                      results, the loss-prevented ledger and the rollups the dashboard reads
 *   insertQueuedTasks  tasks waiting for their partners' workers, for the dispatch measure
 *
 * This is the one module that knows the tables' columns. When a migration adds a required column,
 * `assertColumnsCovered` names it before any row is written; add it to the INSERT here. Everything
 * runs on one connection: the helper functions are temporary (pg_temp) and vanish with it.
 */
import type pg from 'pg';

/** The center's day, as the app books rollups (TIME_ZONE is left at the app's default). */
export const CENTER_TIME_ZONE = 'Asia/Shanghai';

/** The columns each INSERT below fills: a NOT NULL column without a default that is missing here stops the run. */
const FILLED: Record<string, string[]> = {
  reports: ['id', 'case_number', 'status', 'channel', 'fraud_type', 'occurred_at', 'victim_name', 'victim_phone', 'narrative', 'currency',
    'reported_loss_minor', 'created_at', 'updated_at', 'first_frozen_at'],
  transfers: ['id', 'report_id', 'position', 'to_account', 'to_account_name', 'amount_minor', 'currency', 'transferred_at'],
  indicators: ['id', 'kind', 'value', 'status', 'report_count', 'first_seen_at', 'last_seen_at'],
  report_indicators: ['report_id', 'indicator_id', 'position', 'raw_value'],
  tasks: ['id', 'report_id', 'kind', 'family', 'institution_id', 'status', 'target_kind', 'target_value', 'indicator_id', 'transfer_id',
    'amount_minor', 'currency', 'transferred_at', 'depth', 'due_at', 'version', 'dispatched_at', 'closed_at', 'created_at', 'updated_at'],
  task_results: ['id', 'task_id', 'outcome', 'frozen_minor', 'actor_id', 'actor_type', 'source', 'created_at', 'institution_id', 'task_created_at'],
  loss_prevention_ledger: ['entry_type', 'task_id', 'task_result_id', 'report_id', 'institution_id', 'fraud_type', 'amount_minor', 'currency', 'booked_at'],
  stats_daily: ['day', 'currency', 'fraud_type', 'reports', 'reported_loss_minor', 'loss_prevented_minor'],
  stats_institution_daily: ['day', 'institution_id', 'currency', 'loss_prevented_minor', 'tasks_done', 'tasks_failed'],
};

export async function assertColumnsCovered(client: pg.ClientBase, tables: string[]): Promise<void> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY($1)
        AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'`,
    [tables],
  );
  const missing = rows.filter((r) => !FILLED[r.table_name]!.includes(r.column_name)).map((r) => `${r.table_name}.${r.column_name}`);
  if (missing.length) {
    throw new Error(`bench/generate-history.ts does not fill the required column(s) ${missing.join(', ')}: read the latest migrations and add them to its INSERTs`);
  }
}

/**
 * Deterministic helpers: a spread hash of a row number, and ids made from a table tag and a row
 * number (version-4 shaped, ordered, so the generator appends to each primary key instead of
 * scattering inserts over it; the app's own ids are random and cannot collide with these).
 */
async function defineHelpers(client: pg.ClientBase): Promise<void> {
  await client.query(`
    CREATE OR REPLACE FUNCTION pg_temp.h(n bigint, salt int) RETURNS int LANGUAGE sql IMMUTABLE AS
      $$ SELECT ((n * 2654435761 + salt * 40503) % 1000003)::int $$;
    CREATE OR REPLACE FUNCTION pg_temp.u(n bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
      $$ SELECT ((n * 2654435761 + salt * 40503) % 1000003) / 1000003.0 $$;
    CREATE OR REPLACE FUNCTION pg_temp.id(tag int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
      $$ SELECT (lpad(to_hex(tag), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;
    -- The receiving account of transfer n, and indicator n's kind and value, as the app stores them
    -- (normalized): computed wherever they are needed instead of joined back.
    CREATE OR REPLACE FUNCTION pg_temp.account(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
      $$ SELECT (ARRAY['622202','621700','622848','621661','622260','622588','621058'])[1 + n % 7] || lpad((n % 10000000000)::text, 10, '0') $$;
    CREATE OR REPLACE FUNCTION pg_temp.indicator_kind(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
      $$ SELECT CASE WHEN n % 10 < 7 THEN 'phone' ELSE 'url' END $$;
    CREATE OR REPLACE FUNCTION pg_temp.indicator_value(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
      $$ SELECT CASE WHEN n % 10 < 7 THEN '+86' || (ARRAY['138','186','189'])[1 + n % 3] || (70000000 + n % 30000000)::text
                     ELSE 'https://h' || to_hex(n) || '.fraud.example/' END $$;
  `);
}

const TAG = { report: 0xb1, transfer: 0xb2, task: 0xb3, result: 0xb4, indicator: 0xb5, dispatchReport: 0xc1 } as const;

type Partners = { banks: string[]; carriers: string[]; platforms: string[] };

async function partners(client: pg.ClientBase): Promise<Partners> {
  const { rows } = await client.query<{ id: string; kind: string }>(`SELECT id, kind FROM institutions WHERE kind <> 'police' AND active ORDER BY id`);
  const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.id);
  const p = { banks: of('bank'), carriers: of('carrier'), platforms: of('platform') };
  if (!p.banks.length || !p.carriers.length || !p.platforms.length) throw new Error('the history needs at least one bank, carrier and platform (run the seed)');
  return p;
}

export type HistoryOptions = { reports: number; days: number };
export type HistoryCounts = Record<string, number> & { ms: number; vacuumMs: number };

/**
 * A year of a busy center, ending now. Per report: 2 transfers (2 intercept_funds tasks at banks)
 * and 1 indicator (a block_number or takedown_url task), so 3 tasks per report. Tasks are closed
 * with a result (mostly done, some failed) except those of the last 12 hours, most of which are
 * still open (dispatched, a few unrouted): a few thousand open tasks, many of them overdue.
 * Frozen and partially frozen results book a freeze in the ledger; the rollups are the sums of it
 * all, added to whatever the run already booked.
 */
export async function generateHistory(client: pg.ClientBase, opts: HistoryOptions, log: (line: string) => void): Promise<HistoryCounts> {
  const started = performance.now();
  await assertColumnsCovered(client, Object.keys(FILLED));
  await defineHelpers(client);
  const p = await partners(client);
  const N = opts.reports;
  const I = Math.max(1, Math.floor(N * 0.3));
  const step = async (what: string, sql: string, params: unknown[] = []) => {
    const t = performance.now();
    const res = await client.query(sql, params);
    log(`  ${what}: ${(res.rowCount ?? 0).toLocaleString('en')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return res.rowCount ?? 0;
  };
  // Bulk writes: losing them to a crash costs nothing, so do not wait for each commit's flush.
  await client.query('SET synchronous_commit = off');
  await client.query(`SET work_mem = '64MB'`);
  // The rows are consistent by construction, so their foreign keys are not checked one by one
  // (the checks cost more than the rows); CHECK constraints and unique indexes still hold.
  // Needs a superuser, as the bench's PostgreSQL user is; without one, the keys are checked.
  await client.query(`SET session_replication_role = replica`).catch(() => log('  (foreign keys checked row by row: not a superuser)'));

  // The plan, in temporary tables: every value a row needs, computed once, so the application
  // tables are each written by one plain INSERT … SELECT.
  await step('plan: reports', `
    CREATE TEMP TABLE plan_reports AS
    SELECT r,
           now() - interval '10 minutes' - ((1 - r::float8 / $1::int) * $2::float8 * interval '1 day') AS created_at,
           (ARRAY['impersonation','investment','romance','customer_service','part_time_job','loan','shopping','other'])[1 + pg_temp.h(r, 1) % 8] AS fraud_type,
           (ARRAY['hotline','hotline','hotline','walk_in','online','referral'])[1 + pg_temp.h(r, 2) % 6] AS channel,
           100000 + (pg_temp.h(2 * r, 7) % 50000)::bigint * 100 AS amount0,
           100000 + (pg_temp.h(2 * r + 1, 7) % 50000)::bigint * 100 AS amount1
      FROM generate_series(0, $1::int - 1) AS r`, [N, opts.days]);

  await step('plan: tasks', `
    CREATE TEMP TABLE plan_tasks AS
    WITH base AS (
      SELECT pr.r, k, 3 * pr.r + k AS t, pr.created_at, pr.fraud_type,
             CASE k WHEN 0 THEN pr.amount0 WHEN 1 THEN pr.amount1 END AS amount,
             (pr.r % $1::int) AS ind,
             pr.created_at > now() - interval '12 hours' AND pg_temp.u(3 * pr.r + k, 3) < 0.8 AS open
        FROM plan_reports pr CROSS JOIN generate_series(0, 2) AS k
    ), decided AS (
      SELECT base.*,
             CASE WHEN k < 2 THEN 'intercept_funds' WHEN pg_temp.indicator_kind(ind) = 'phone' THEN 'block_number' ELSE 'takedown_url' END AS kind,
             CASE WHEN open THEN NULL
                  WHEN k < 2 THEN CASE WHEN pg_temp.u(t, 4) < 0.15 THEN 'frozen' WHEN pg_temp.u(t, 4) < 0.25 THEN 'partially_frozen'
                                       WHEN pg_temp.u(t, 4) < 0.55 THEN 'funds_moved' WHEN pg_temp.u(t, 4) < 0.85 THEN 'not_found' ELSE 'rejected' END
                  ELSE CASE WHEN pg_temp.u(t, 4) < 0.85 THEN 'blocked' WHEN pg_temp.u(t, 4) < 0.95 THEN 'not_found' ELSE 'rejected' END
             END AS outcome,
             open AND pg_temp.u(t, 5) < 0.03 AS unrouted
        FROM base
    )
    SELECT decided.*,
           CASE WHEN unrouted THEN NULL
                WHEN k < 2 THEN ($2::text[])[1 + pg_temp.h(t, 6) % cardinality($2::text[])]
                WHEN kind = 'block_number' THEN ($3::text[])[1 + pg_temp.h(t, 6) % cardinality($3::text[])]
                ELSE ($4::text[])[1 + pg_temp.h(t, 6) % cardinality($4::text[])] END AS institution_id,
           CASE WHEN unrouted THEN 'unrouted' WHEN open THEN 'dispatched'
                WHEN outcome IN ('not_found', 'rejected') THEN 'failed' ELSE 'done' END AS status,
           CASE WHEN unrouted THEN NULL ELSE created_at + (50 + pg_temp.h(t, 8) % 400) * interval '1 millisecond' END AS dispatched_at,
           CASE WHEN open THEN NULL ELSE least(now(), created_at + (5 + pg_temp.h(t, 9) % 600) * interval '1 minute') END AS result_at,
           CASE outcome WHEN 'frozen' THEN amount WHEN 'partially_frozen' THEN amount / 2 ELSE 0 END AS frozen,
           created_at + CASE kind WHEN 'intercept_funds' THEN 30 WHEN 'block_number' THEN 120 ELSE 240 END * interval '1 minute' AS due_at
      FROM decided`, [I, p.banks, p.carriers, p.platforms]);

  const counts: Record<string, number> = {};
  counts.reports = await step('reports', `
    INSERT INTO reports (id, case_number, status, channel, fraud_type, occurred_at, victim_name, victim_phone, narrative, currency,
                         reported_loss_minor, created_at, updated_at, first_frozen_at)
    SELECT pg_temp.id(${TAG.report}, pr.r),
           'FR-' || to_char(pr.created_at AT TIME ZONE $1, 'YYYYMMDD') || '-H' || lpad(pr.r::text, 7, '0'),
           CASE WHEN pr.created_at < now() - interval '30 days' THEN 'closed' ELSE 'open' END,
           pr.channel, pr.fraud_type, pr.created_at - interval '1 hour', '受害人 H' || pr.r, '+86139' || lpad((pr.r % 100000000)::text, 8, '0'),
           '历史案件', 'CNY', pr.amount0 + pr.amount1, pr.created_at, pr.created_at, f.first_frozen_at
      FROM plan_reports pr
      LEFT JOIN (SELECT r, min(result_at) AS first_frozen_at FROM plan_tasks WHERE frozen > 0 GROUP BY r) f ON f.r = pr.r
     ORDER BY pr.r`, [CENTER_TIME_ZONE]);

  counts.transfers = await step('transfers', `
    INSERT INTO transfers (id, report_id, position, to_account, to_account_name, amount_minor, currency, transferred_at)
    SELECT pg_temp.id(${TAG.transfer}, 3 * r + k), pg_temp.id(${TAG.report}, r), k,
           pg_temp.account(3 * r + k), '收款人 H' || r, amount, 'CNY', created_at - interval '30 minutes'
      FROM plan_tasks WHERE k < 2 ORDER BY r, k`);

  counts.indicators = await step('indicators', `
    INSERT INTO indicators (id, kind, value, status, report_count, first_seen_at, last_seen_at)
    SELECT pg_temp.id(${TAG.indicator}, n), pg_temp.indicator_kind(n), pg_temp.indicator_value(n),
           CASE WHEN pg_temp.u(n, 10) < 0.6 THEN 'blocked' WHEN pg_temp.u(n, 10) < 0.7 THEN 'confirmed' ELSE 'suspected' END,
           greatest(1, ($2::int - n + $1::int - 1) / $1::int),
           now() - $3::int * interval '1 day', now() - (pg_temp.h(n, 11) % $3::int) * interval '1 day'
      FROM generate_series(0, $1::int - 1) AS n`, [I, N, opts.days]);

  counts.report_indicators = await step('report indicators', `
    INSERT INTO report_indicators (report_id, indicator_id, position, raw_value)
    SELECT pg_temp.id(${TAG.report}, r), pg_temp.id(${TAG.indicator}, ind), 0, pg_temp.indicator_value(ind)
      FROM plan_tasks WHERE k = 2 ORDER BY r`);

  counts.tasks = await step('tasks', `
    INSERT INTO tasks (id, report_id, kind, family, institution_id, status, target_kind, target_value, indicator_id, transfer_id,
                       amount_minor, currency, transferred_at, depth, due_at, version, dispatched_at, closed_at, created_at, updated_at)
    SELECT pg_temp.id(${TAG.task}, pt.t), pg_temp.id(${TAG.report}, pt.r), pt.kind,
           CASE WHEN pt.kind = 'intercept_funds' THEN 'money' ELSE 'blocking' END,
           pt.institution_id, pt.status,
           CASE WHEN pt.k < 2 THEN 'bank_account' ELSE pg_temp.indicator_kind(pt.ind) END,
           CASE WHEN pt.k < 2 THEN pg_temp.account(pt.t) ELSE pg_temp.indicator_value(pt.ind) END,
           CASE WHEN pt.k = 2 THEN pg_temp.id(${TAG.indicator}, pt.ind) END, CASE WHEN pt.k < 2 THEN pg_temp.id(${TAG.transfer}, pt.t) END,
           CASE WHEN pt.k < 2 THEN pt.amount END, CASE WHEN pt.k < 2 THEN 'CNY' END, CASE WHEN pt.k < 2 THEN pt.created_at - interval '30 minutes' END,
           1, pt.due_at, CASE pt.status WHEN 'unrouted' THEN 1 WHEN 'dispatched' THEN 2 ELSE 3 END,
           pt.dispatched_at, pt.result_at, pt.created_at, coalesce(pt.result_at, pt.dispatched_at, pt.created_at)
      FROM plan_tasks pt
     ORDER BY pt.t`);

  counts.task_results = await step('task results', `
    INSERT INTO task_results (id, task_id, outcome, frozen_minor, actor_id, actor_type, source, created_at, institution_id, task_created_at)
    SELECT pg_temp.id(${TAG.result}, t), pg_temp.id(${TAG.task}, t), outcome, frozen, 'liaison-' || institution_id, 'user',
           CASE WHEN pg_temp.u(t, 12) < 0.6 THEN 'api' ELSE 'feed' END, result_at, institution_id, created_at
      FROM plan_tasks WHERE outcome IS NOT NULL ORDER BY t`);

  counts.loss_prevention_ledger = await step('ledger', `
    INSERT INTO loss_prevention_ledger (entry_type, task_id, task_result_id, report_id, institution_id, fraud_type, amount_minor, currency, booked_at)
    SELECT 'freeze', pg_temp.id(${TAG.task}, t), pg_temp.id(${TAG.result}, t), pg_temp.id(${TAG.report}, r), institution_id, fraud_type,
           frozen, 'CNY', result_at
      FROM plan_tasks WHERE frozen > 0 ORDER BY result_at`);

  counts.stats_daily = await step('rollup: stats_daily', `
    INSERT INTO stats_daily AS s (day, currency, fraud_type, reports, reported_loss_minor, loss_prevented_minor)
    SELECT day, 'CNY', fraud_type, sum(reports), sum(reported), sum(prevented)
      FROM (SELECT (created_at AT TIME ZONE $1)::date AS day, fraud_type, 1 AS reports, amount0 + amount1 AS reported, 0 AS prevented FROM plan_reports
            UNION ALL
            SELECT (result_at AT TIME ZONE $1)::date, fraud_type, 0, 0, frozen FROM plan_tasks WHERE frozen > 0) x
     GROUP BY day, fraud_type
    ON CONFLICT (day, currency, fraud_type) DO UPDATE SET
      reports = s.reports + EXCLUDED.reports,
      reported_loss_minor = s.reported_loss_minor + EXCLUDED.reported_loss_minor,
      loss_prevented_minor = s.loss_prevented_minor + EXCLUDED.loss_prevented_minor`, [CENTER_TIME_ZONE]);

  counts.stats_institution_daily = await step('rollup: stats_institution_daily', `
    INSERT INTO stats_institution_daily AS s (day, institution_id, currency, loss_prevented_minor, tasks_done, tasks_failed)
    SELECT (result_at AT TIME ZONE $1)::date, institution_id, 'CNY', sum(frozen),
           count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed')
      FROM plan_tasks WHERE result_at IS NOT NULL AND institution_id IS NOT NULL
     GROUP BY 1, 2
    ON CONFLICT (day, institution_id, currency) DO UPDATE SET
      loss_prevented_minor = s.loss_prevented_minor + EXCLUDED.loss_prevented_minor,
      tasks_done = s.tasks_done + EXCLUDED.tasks_done,
      tasks_failed = s.tasks_failed + EXCLUDED.tasks_failed`, [CENTER_TIME_ZONE]);

  const { rows: [open] } = await client.query<{ open: number }>(`SELECT count(*)::int AS open FROM plan_tasks WHERE status IN ('dispatched', 'unrouted')`);
  counts.open_tasks = open!.open;
  await client.query('DROP TABLE plan_tasks; DROP TABLE plan_reports');
  await client.query('RESET session_replication_role').catch(() => undefined);
  await client.query('RESET synchronous_commit; RESET work_mem');
  const ms = performance.now() - started;

  // A long-lived database has been vacuumed and analyzed by autovacuum; a freshly loaded one has
  // neither statistics nor visibility maps, and would be measured at its worst.
  const v = performance.now();
  await client.query('VACUUM (ANALYZE) reports, transfers, indicators, report_indicators, tasks, task_results, loss_prevention_ledger, stats_daily, stats_institution_daily');
  return { ...counts, ms, vacuumMs: performance.now() - v };
}

export type QueuedTask = { id: string; institutionId: string; status: 'queued' };

/**
 * `count` tasks waiting in state `queued`, spread evenly over the given partner institutions, four
 * per report (a bank gets intercept_funds, a carrier block_number, a platform takedown_url),
 * marked with `marker` in target_name so the measure can find them.
 */
export async function insertQueuedTasks(client: pg.ClientBase, count: number, institutions: { id: string; kind: string }[], marker: string): Promise<QueuedTask[]> {
  await assertColumnsCovered(client, ['reports', 'tasks']);
  await defineHelpers(client);
  const reports = Math.ceil(count / 4);
  await client.query(`
    INSERT INTO reports (id, case_number, status, channel, fraud_type, occurred_at, victim_name, narrative, currency, reported_loss_minor, created_at, updated_at)
    SELECT pg_temp.id(${TAG.dispatchReport}, n), 'FR-BENCH-D-' || lpad(n::text, 7, '0'), 'open', 'hotline', 'impersonation',
           now() - interval '1 hour', '受害人 D' || n, '', 'CNY', 1000000, now(), now()
      FROM generate_series(0, $1 - 1) AS n`, [reports]);
  const { rows } = await client.query<{ id: string; institution_id: string }>(`
    INSERT INTO tasks (id, report_id, kind, family, institution_id, status, target_kind, target_value, target_name,
                       amount_minor, currency, depth, due_at, version, created_at, updated_at)
    SELECT gen_random_uuid(), pg_temp.id(${TAG.dispatchReport}, j / 4),
           CASE kind WHEN 'bank' THEN 'intercept_funds' WHEN 'carrier' THEN 'block_number' ELSE 'takedown_url' END,
           CASE kind WHEN 'bank' THEN 'money' ELSE 'blocking' END,
           inst, 'queued',
           CASE kind WHEN 'bank' THEN 'bank_account' WHEN 'carrier' THEN 'phone' ELSE 'url' END,
           CASE kind WHEN 'bank' THEN '622202' || lpad(j::text, 10, '0')
                     WHEN 'carrier' THEN '+86186' || lpad(j::text, 8, '0')
                     ELSE 'https://d' || j || '.example/' END,
           $4,
           CASE kind WHEN 'bank' THEN 500000 END, CASE kind WHEN 'bank' THEN 'CNY' END,
           1, now() + interval '30 minutes', 1, now(), now()
      FROM (SELECT j, ($2::text[])[1 + j % cardinality($2::text[])] AS inst, ($3::text[])[1 + j % cardinality($3::text[])] AS kind
              FROM generate_series(0, $1 - 1) AS j) x
    RETURNING id, institution_id`,
  [count, institutions.map((i) => i.id), institutions.map((i) => i.kind), marker]);
  return rows.map((r) => ({ id: r.id, institutionId: r.institution_id, status: 'queued' as const }));
}
