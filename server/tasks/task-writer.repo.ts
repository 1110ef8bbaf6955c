import { randomUUID } from 'node:crypto';
import { prepared, type DbOrTrx } from '../db';
import type { EventActor } from '../audit/events.repo';
import { STATUS_LADDER } from '../domain/indicator-rules';
import { OPEN_TASK_STATUSES, type FraudType, type IndicatorKind, type IndicatorStatus } from '../domain/kinds';
import type { Coverage, TaskDraft } from '../domain/task-planning';
import type { ScreenedPayment } from '../domain/screening';
import { toTask, type Task, type TaskRow } from './tasks.repo';

// The one writer of tasks and of what they do to indicators and the rollups. Each function is one
// set-based statement in the caller's transaction.

const LADDER = `ARRAY[${STATUS_LADDER.map((s) => `'${s}'`).join(',')}]::text[]`;

/**
 * SQL for escalateStatus (domain/indicator-rules.ts): the higher of two statuses on the ladder,
 * generated from the same ladder so the rule is written once.
 */
export function escalateStatusSql(current: string, incoming: string): string {
  return `(${LADDER})[NULLIF(GREATEST(coalesce(array_position(${LADDER}, ${current}), 0), coalesce(array_position(${LADDER}, ${incoming}), 0)), 0)]`;
}

const OPEN = OPEN_TASK_STATUSES.map((s) => `'${s}'`).join(',');

/** The conflict target of tasks_one_open_blocking_task: one open blocking task per key. */
const ONE_OPEN_BLOCKING = `(open_blocking_key) WHERE open_blocking_key IS NOT NULL AND status IN (${OPEN})`;

type DraftRecord = {
  ord: number; id: string; report_id: string | null; kind: string; family: string; institution_id: string | null;
  target_kind: string; target_value: string; target_name: string | null; transfer_id: string | null;
  amount_minor: number | null; currency: string | null; transferred_at: string | null; parent_task_id: string | null;
  depth: number; due_at: string; open_blocking_key: string | null; payment: TaskDraft['payment'];
};

const draftRecords = (drafts: TaskDraft[]): DraftRecord[] =>
  drafts.map((d, ord) => ({
    ord,
    id: randomUUID(),
    report_id: d.reportId,
    kind: d.kind,
    family: d.family,
    institution_id: d.institutionId,
    target_kind: d.targetKind,
    target_value: d.targetValue,
    target_name: d.targetName,
    transfer_id: d.transferId,
    amount_minor: d.amountMinor,
    currency: d.amountMinor == null ? null : d.currency,
    transferred_at: d.transferredAt ? d.transferredAt.toISOString() : null,
    parent_task_id: d.parentTaskId,
    depth: d.depth,
    due_at: d.dueAt.toISOString(),
    open_blocking_key: d.openBlockingKey,
    payment: d.payment,
  }));

const DRAFT_COLUMNS = `ord int, id uuid, report_id uuid, kind text, family text, institution_id text, target_kind text,
  target_value text, target_name text, transfer_id uuid, amount_minor bigint, currency text, transferred_at timestamptz,
  parent_task_id uuid, depth int, due_at timestamptz, open_blocking_key text, payment jsonb`;

/** The drafts of a plan, as rows. */
const DRAFTS = `d AS (SELECT * FROM json_to_recordset(?::json) AS d(${DRAFT_COLUMNS}))`;

/** The indicators a plan's blocking drafts are about, read by index (LATERAL, fenced by LIMIT:
 * the planner cannot know how many drafts there are, and would rather hash-join a scan of the table). */
const INDICATORS_OF_DRAFTS = `ind AS (
    SELECT DISTINCT i.id, i.kind, i.value, i.status
      FROM d CROSS JOIN LATERAL (SELECT id, kind, value, status FROM indicators WHERE kind = d.target_kind AND value = d.target_value LIMIT 1) i
     WHERE d.family = 'blocking'
  )`;

/**
 * The insert, given the drafts (d) and their indicators (ind). A blocking draft whose indicator is
 * already blocked is not written; one whose key an open task holds is not written either (ON
 * CONFLICT), and joins that task. Inserts go in key order so that two writers wanting the same
 * keys take them in the same order.
 */
const INSERT_AND_OUTCOME = `
  ins AS (
    INSERT INTO tasks (id, report_id, kind, family, institution_id, status, target_kind, target_value, target_name,
                       indicator_id, transfer_id, amount_minor, currency, transferred_at, parent_task_id, depth, due_at,
                       open_blocking_key, payment)
    SELECT d.id, d.report_id, d.kind, d.family, d.institution_id,
           CASE WHEN d.institution_id IS NULL THEN 'unrouted' ELSE 'queued' END,
           d.target_kind, d.target_value, d.target_name, ind.id, d.transfer_id, d.amount_minor, d.currency,
           d.transferred_at, d.parent_task_id, d.depth, d.due_at, d.open_blocking_key, d.payment
      FROM d LEFT JOIN ind ON d.family = 'blocking' AND ind.kind = d.target_kind AND ind.value = d.target_value
     WHERE ind.status IS DISTINCT FROM 'blocked'
     ORDER BY d.open_blocking_key NULLS FIRST, d.ord
    ON CONFLICT ${ONE_OPEN_BLOCKING} DO NOTHING
    RETURNING *
  ),
  outcome AS (
    SELECT d.ord, d.family, d.target_kind, d.target_value,
           CASE WHEN ins.id IS NOT NULL THEN 'opened' WHEN ind.status = 'blocked' THEN 'already_blocked' ELSE 'joined' END AS state,
           CASE WHEN ins.id IS NOT NULL THEN ins.id
                WHEN ind.status = 'blocked' THEN NULL
                ELSE (SELECT t.id FROM tasks t WHERE t.open_blocking_key = d.open_blocking_key AND t.status IN (${OPEN}) LIMIT 1) END AS task_id
      FROM d
      LEFT JOIN ins ON ins.id = d.id
      LEFT JOIN ind ON d.family = 'blocking' AND ind.kind = d.target_kind AND ind.value = d.target_value
  )`;

const PLAN_CTES = `${DRAFTS}, ${INDICATORS_OF_DRAFTS}, ${INSERT_AND_OUTCOME}`;

const TASK_EVENTS = `
  SELECT CASE WHEN status = 'unrouted' THEN 'task.unrouted' ELSE 'task.queued' END AS type, report_id, id AS task_id,
         jsonb_build_object('kind', kind, 'institutionId', institution_id, 'depth', depth, 'parentTaskId', parent_task_id) AS data
    FROM ins`;

/** What a plan's statement answers: the ids of the tasks it opened, and its clock. */
type Written = { opened: string[]; at: Date };

/** The tasks the statement opened, as read back: the drafts it wrote, with the statement's clock. */
function openedTasks(records: DraftRecord[], written: Written, indicatorIds: Map<string, string>): Task[] {
  const opened = new Set(written.opened);
  return records.filter((r) => opened.has(r.id)).map((r) => {
    const row: TaskRow = {
      id: r.id, report_id: r.report_id, kind: r.kind as TaskRow['kind'], family: r.family as TaskRow['family'],
      open_blocking_key: r.open_blocking_key, institution_id: r.institution_id,
      status: r.institution_id ? 'queued' : 'unrouted', target_kind: r.target_kind as IndicatorKind, target_value: r.target_value,
      target_name: r.target_name, indicator_id: indicatorIds.get(`${r.target_kind}\u0000${r.target_value}`) ?? null,
      transfer_id: r.transfer_id, amount_minor: r.amount_minor, currency: r.currency,
      transferred_at: r.transferred_at ? new Date(r.transferred_at) : null, parent_task_id: r.parent_task_id, depth: r.depth,
      due_at: new Date(r.due_at), version: 1, dispatched_at: null, closed_at: null, escalated_at: null,
      delivery_failed_at: null, delivery_error: null, created_at: written.at, updated_at: written.at, payment: r.payment,
    };
    return toTask(row, undefined, written.at);
  });
}

const actorBindings = (actor: EventActor) => [actor.type, actor.id, actor.name];

/**
 * Writes drafts (a result's onward interceptions, a feed's blocking tasks, staff requests) and
 * their events; answers the tasks it opened (a joined draft opens none).
 */
export async function writeTasks(trx: DbOrTrx, actor: EventActor, drafts: TaskDraft[]): Promise<Task[]> {
  if (drafts.length === 0) return [];
  const records = draftRecords(drafts);
  const { rows } = await trx.raw(
    `WITH ${PLAN_CTES},
     ev AS (
       INSERT INTO events (type, actor_type, actor_id, actor_name, report_id, task_id, data)
       SELECT e.type, ?, ?, ?, e.report_id, e.task_id, e.data FROM (${TASK_EVENTS}) e
     )
     SELECT (SELECT coalesce(json_agg(id), '[]') FROM ins) AS opened,
            (SELECT coalesce(json_agg(json_build_array(kind, value, id)), '[]') FROM ind) AS indicators,
            now() AS at`,
    [JSON.stringify(records), ...actorBindings(actor)],
  ).options(prepared('write-tasks'));
  const written = rows[0] as Written & { indicators: [string, string, string][] };
  const indicatorIds = new Map(written.indicators.map(([k, v, id]) => [`${k}\u0000${v}`, id]));
  return openedTasks(records, written, indicatorIds);
}

/** A payment already screened and flagged: the warning its first screening opened. */
export type RecordedWarning = { taskId: string; payment: ScreenedPayment };

/**
 * Warning drafts (planWarnings) in one statement: each payment claims its (screenedBy, ref) by the
 * tasks_one_warning_per_payment index, and only a claim that is new becomes a task, with its event
 * and the day's count of warnings issued. A payment that is already claimed, by an earlier request
 * or one racing this one, opens nothing; `recorded` answers its first warning, read once the claim
 * has settled (the statement waited for a racing claim to commit, so the next statement sees it).
 * Claims go in payment order, so two batches naming the same payments never wait on each other in a circle.
 */
export async function writeWarnings(
  db: DbOrTrx, actor: EventActor, drafts: TaskDraft[], timeZone: string,
): Promise<{ opened: Task[]; recorded: Map<string, RecordedWarning> }> {
  if (drafts.length === 0) return { opened: [], recorded: new Map() };
  const records = draftRecords(drafts);
  const { rows } = await db.raw(
    `WITH ${DRAFTS},
     ins AS (
       INSERT INTO tasks (id, kind, family, institution_id, status, target_kind, target_value, target_name, amount_minor,
                          currency, depth, due_at, payment)
       SELECT d.id, d.kind, d.family, d.institution_id, CASE WHEN d.institution_id IS NULL THEN 'unrouted' ELSE 'queued' END,
              d.target_kind, d.target_value, d.target_name, d.amount_minor, d.currency, d.depth, d.due_at, d.payment
         FROM d
        ORDER BY d.payment->>'screenedBy', d.payment->>'ref'
       ON CONFLICT ((payment->>'screenedBy'), (payment->>'ref')) WHERE payment IS NOT NULL DO NOTHING
       RETURNING *
     ), ev AS (
       INSERT INTO events (type, actor_type, actor_id, actor_name, report_id, task_id, data)
       SELECT e.type, ?, ?, ?, e.report_id, e.task_id, e.data FROM (${TASK_EVENTS}) e
     ), delta AS (
       INSERT INTO stats_deltas (day, currency, warnings_issued)
       SELECT (now() AT TIME ZONE ?)::date, currency, count(*) FROM ins GROUP BY currency
     )
     SELECT (SELECT coalesce(json_agg(id), '[]') FROM ins) AS opened, now() AS at`,
    [JSON.stringify(records), ...actorBindings(actor), timeZone],
  ).options(prepared('write-warnings'));
  const written = rows[0] as Written;
  const opened = openedTasks(records, written, new Map());
  const claimed = new Set(written.opened);
  const others = records.filter((r) => !claimed.has(r.id)).map((r) => r.payment!);
  const recorded = new Map<string, RecordedWarning>();
  if (others.length > 0) {
    const { rows: found } = await db.raw(
      `SELECT t.id, t.payment FROM unnest(?::text[], ?::text[]) AS k(screened_by, ref)
         CROSS JOIN LATERAL (SELECT id, payment FROM tasks
                              WHERE payment->>'screenedBy' = k.screened_by AND payment->>'ref' = k.ref AND payment IS NOT NULL LIMIT 1) t`,
      [others.map((p) => p.screenedBy), others.map((p) => p.ref)],
    );
    for (const r of found as { id: string; payment: ScreenedPayment }[]) {
      recorded.set(warningKey(r.payment), { taskId: r.id, payment: r.payment });
    }
  }
  return { opened, recorded };
}

/** A screened payment's identity: the screening institution and its reference. */
export const warningKey = (p: Pick<ScreenedPayment, 'screenedBy' | 'ref'>): string => `${p.screenedBy}\u0000${p.ref}`;

export type NewReportRow = {
  id: string; caseNumber: string; accessCodeHash: string; channel: string; fraudType: FraudType; occurredAt: string;
  victim: { name: string; phone: string | null; idNumber: string | null };
  narrative: string; currency: string; reportedLossMinor: number; createdBy: string | null;
};

export type NewTransferRow = {
  id: string; toAccount: string; toAccountName: string | null; toInstitutionId: string | null;
  amountMinor: number; currency: string; transferredAt: string | null;
};

export type FiledIndicator = {
  id: string; kind: IndicatorKind; value: string; rawValue: string; status: IndicatorStatus | null;
  blocking: Coverage; blockingTaskId: string | null;
};

/** SQLSTATE of afrc_retry_if: the statement saw too old a snapshot and changed nothing. */
export const STALE_SNAPSHOT = 'AF001';

/**
 * A whole report in one statement, which commits on its own when `db` is the pool: the report,
 * its transfers, its indicators not known yet (known ones are read, not locked: a wave of reports
 * naming one number takes no lock on it), its tasks, the links of its indicators to the task that
 * covers each, the report's and its tasks' events (the report's first) and its rollup delta.
 *
 * It fails with STALE_SNAPSHOT, keeping nothing, when routing changed since `routingVersion` or
 * when it waited on a row another report committed meanwhile (a new indicator, a blocking key):
 * the caller plans again and runs it again.
 */
export async function fileReport(
  db: DbOrTrx, actor: EventActor,
  r: { report: NewReportRow; transfers: NewTransferRow[]; indicators: { kind: IndicatorKind; value: string; rawValue: string }[];
       drafts: TaskDraft[]; routingVersion: number; timeZone: string },
): Promise<{ createdAt: Date; tasks: Task[]; indicators: FiledIndicator[] }> {
  const records = draftRecords(r.drafts);
  const { report } = r;
  const { rows } = await db.raw(
    `WITH rep AS (
       INSERT INTO reports (id, case_number, channel, fraud_type, occurred_at, victim_name, victim_phone, victim_id_number,
                            narrative, currency, reported_loss_minor, created_by, access_code_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING created_at
     ), tr AS (
       INSERT INTO transfers (id, report_id, position, to_account, to_account_name, to_institution_id, amount_minor, currency, transferred_at)
       SELECT t.id, ?::uuid, t.position, t.to_account, t.to_account_name, t.to_institution_id, t.amount_minor, t.currency, t.transferred_at
         FROM json_to_recordset(?::json) AS t(id uuid, position int, to_account text, to_account_name text, to_institution_id text,
                                             amount_minor bigint, currency text, transferred_at timestamptz)
     ), q AS (
       SELECT * FROM json_to_recordset(?::json) AS q(ord int, kind text, value text, raw_value text)
     ), added AS (
       INSERT INTO indicators (kind, value, status, report_count)
       SELECT kind, value, '${STATUS_LADDER[0]}', 1 FROM q ORDER BY kind, value
       ON CONFLICT (kind, value) DO NOTHING
       RETURNING id, kind, value, status
     ), cited AS (
       SELECT q.ord, q.kind, q.value, q.raw_value, coalesce(a.id, k.id) AS id, coalesce(a.status, k.status) AS status
         FROM q
         LEFT JOIN added a ON a.kind = q.kind AND a.value = q.value
         LEFT JOIN LATERAL (SELECT id, status FROM indicators WHERE kind = q.kind AND value = q.value LIMIT 1) k ON true
     ),
     ${DRAFTS},
     ind AS (SELECT id, kind, value, status FROM cited WHERE id IS NOT NULL),
     ${INSERT_AND_OUTCOME},
     links AS (
       INSERT INTO report_indicators (report_id, indicator_id, position, raw_value, blocking_task_id, blocking)
       SELECT ?::uuid, c.id, c.ord, c.raw_value, cov.task_id, cov.state
         FROM cited c
         LEFT JOIN LATERAL (
           SELECT CASE WHEN o.family = 'money' THEN 'intercepted' ELSE o.state END AS state, o.task_id
             FROM outcome o
            WHERE o.target_kind = c.kind AND o.target_value = c.value
            ORDER BY o.family = 'blocking' DESC, o.ord
            LIMIT 1
         ) cov ON true
        WHERE c.id IS NOT NULL
        ORDER BY c.ord
       RETURNING indicator_id, blocking, blocking_task_id
     ), ev AS (
       INSERT INTO events (type, actor_type, actor_id, actor_name, report_id, task_id, data)
       SELECT e.type, ?, ?, ?, e.report_id, e.task_id, e.data
         FROM (SELECT 0 AS n, 'report.created' AS type, ?::uuid AS report_id, NULL::uuid AS task_id,
                      jsonb_build_object('caseNumber', ?::text, 'transfers', ?::int, 'indicators', ?::int,
                                         'tasks', (SELECT count(*) FROM ins)) AS data
               UNION ALL
               SELECT 1, t.* FROM (${TASK_EVENTS}) t) e
        ORDER BY e.n
     ), delta AS (
       INSERT INTO stats_deltas (day, currency, fraud_type, reports, reported_loss_minor)
       VALUES ((now() AT TIME ZONE ?)::date, ?, ?, 1, ?)
     ), seen AS (
       -- Known indicators are seen again at most once a minute, and never by waiting: a row
       -- another writer holds is skipped (it is being seen now), so a wave queues on nothing.
       UPDATE indicators i SET last_seen_at = now()
         FROM (SELECT id FROM indicators
                WHERE id IN (SELECT id FROM cited WHERE id IS NOT NULL) AND last_seen_at < now() - interval '1 minute'
                ORDER BY id FOR NO KEY UPDATE SKIP LOCKED) l
        WHERE i.id = l.id
     )
     SELECT afrc_retry_if((SELECT version FROM routing_version) IS DISTINCT FROM ?::bigint
                          OR EXISTS (SELECT 1 FROM cited WHERE id IS NULL)
                          OR EXISTS (SELECT 1 FROM outcome WHERE state = 'joined' AND task_id IS NULL)) AS fresh,
            (SELECT created_at FROM rep) AS created_at,
            (SELECT coalesce(json_agg(id), '[]') FROM ins) AS opened,
            (SELECT coalesce(json_agg(json_build_array(c.id, c.status, l.blocking, l.blocking_task_id) ORDER BY c.ord), '[]')
               FROM cited c LEFT JOIN links l ON l.indicator_id = c.id) AS cited`,
    [
      report.id, report.caseNumber, report.channel, report.fraudType, new Date(report.occurredAt), report.victim.name,
      report.victim.phone, report.victim.idNumber, report.narrative, report.currency, report.reportedLossMinor, report.createdBy,
      report.accessCodeHash,
      report.id,
      JSON.stringify(r.transfers.map((t, position) => ({
        id: t.id, position, to_account: t.toAccount, to_account_name: t.toAccountName, to_institution_id: t.toInstitutionId,
        amount_minor: t.amountMinor, currency: t.currency, transferred_at: t.transferredAt,
      }))),
      JSON.stringify(r.indicators.map((i, ord) => ({ ord, kind: i.kind, value: i.value, raw_value: i.rawValue }))),
      JSON.stringify(records),
      report.id,
      ...actorBindings(actor), report.id, report.caseNumber, r.transfers.length, r.indicators.length,
      r.timeZone, report.currency, report.fraudType, report.reportedLossMinor,
      r.routingVersion,
    ],
  ).options(prepared('file-report'));
  const row = rows[0] as { created_at: Date; opened: string[]; cited: [string, IndicatorStatus | null, Coverage, string | null][] };
  const indicators = r.indicators.map((input, i) => {
    const [id, status, blocking, blockingTaskId] = row.cited[i]!;
    return { id, kind: input.kind, value: input.value, rawValue: input.rawValue, status, blocking, blockingTaskId };
  });
  const indicatorIds = new Map(indicators.map((i) => [`${i.kind}\u0000${i.value}`, i.id]));
  const written: Written = { opened: row.opened, at: row.created_at };
  return { createdAt: row.created_at, tasks: openedTasks(records, written, indicatorIds), indicators };
}

/** A blocking task's target was blocked: its indicator climbs to the top of the ladder. */
export async function markIndicatorBlocked(
  trx: DbOrTrx, target: { indicatorId: string | null; kind: IndicatorKind; value: string },
): Promise<void> {
  const where = target.indicatorId ? 'id = ?' : 'kind = ? AND value = ?';
  const binding = target.indicatorId ? [target.indicatorId] : [target.kind, target.value];
  await trx.raw(
    `UPDATE indicators SET status = ${escalateStatusSql('status', `'blocked'`)}
      WHERE ${where} AND status IS DISTINCT FROM 'blocked'`,
    binding,
  );
}

/**
 * An effect on the rollups, appended (never a shared row to update): a result's (loss prevented,
 * tasks done or failed) or a hold's (money released or returned). `fraudType` is given with money
 * only: the daily figures count money, the institution's count tasks too.
 */
export async function appendStatsDelta(
  trx: DbOrTrx,
  d: {
    timeZone: string; currency: string; fraudType: string | null; institutionId: string | null;
    lossPreventedMinor?: number; releasedMinor?: number; returnedMinor?: number; done?: number; failed?: number;
    /** A warning that talked its payer out of the payment, and the payment's amount kept from the fraudster. */
    dissuaded?: { count: number; amountMinor: number };
  },
): Promise<void> {
  const dissuaded = d.dissuaded ?? { count: 0, amountMinor: 0 };
  if (d.fraudType === null && d.institutionId === null && dissuaded.count === 0) return;
  await trx.raw(
    `INSERT INTO stats_deltas (day, currency, fraud_type, institution_id, loss_prevented_minor, released_minor, returned_minor,
                               tasks_done, tasks_failed, warnings_dissuaded, warnings_dissuaded_minor)
     VALUES ((now() AT TIME ZONE ?)::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      d.timeZone, d.currency, d.fraudType, d.institutionId, d.lossPreventedMinor ?? 0, d.releasedMinor ?? 0, d.returnedMinor ?? 0,
      d.done ?? 0, d.failed ?? 0, dissuaded.count, dissuaded.amountMinor,
    ],
  );
}
