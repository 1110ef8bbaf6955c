import type { Knex } from 'knex';
import type { DbOrTrx } from '../db';
import type { Actor } from '../auth/actor';
import { scopeOf } from '../auth/actor';
import { OPEN_TASK_STATUSES, type IndicatorKind, type Outcome, type TaskKind, type TaskStatus } from '../domain/kinds';
import { decodeCursor, toPage, type Page } from '../http/pagination';
import type { TaskFamily } from '../domain/task-kinds';
import type { ScreenedPayment } from '../domain/screening';

export type TaskResult = {
  outcome: Outcome;
  frozenMinor: number;
  returnedMinor: number | null;
  note: string | null;
  recordedAt: string;
  recordedBy: { type: string; id: string | null };
  source: string;
};

export type Task = {
  id: string;
  reportId: string | null;
  /** The report's police case reference, which a partner needs for its paperwork. */
  caseNumber: string | null;
  kind: TaskKind;
  family: TaskFamily;
  institutionId: string | null;
  status: TaskStatus;
  amountMinor: number | null;
  currency: string | null;
  target: { kind: IndicatorKind; value: string; name: string | null };
  transferredAt: string | null;
  dueAt: string;
  overdue: boolean;
  parentTaskId: string | null;
  depth: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  dispatchedAt: string | null;
  closedAt: string | null;
  escalatedAt: string | null;
  deliveryFailedAt: string | null;
  deliveryError: string | null;
  /** warn_payer tasks: the screened payment the payer's bank is asked to talk its customer out of. */
  payment: ScreenedPayment | null;
  result: TaskResult | null;
};

export type TaskRow = {
  id: string; report_id: string | null; kind: TaskKind; family: TaskFamily; open_blocking_key: string | null; institution_id: string | null; status: TaskStatus;
  target_kind: IndicatorKind; target_value: string; target_name: string | null; indicator_id: string | null;
  transfer_id: string | null; amount_minor: number | null; currency: string | null; transferred_at: Date | null;
  parent_task_id: string | null; depth: number; due_at: Date; version: number; dispatched_at: Date | null;
  closed_at: Date | null; escalated_at: Date | null; delivery_failed_at: Date | null; delivery_error: string | null;
  created_at: Date; updated_at: Date; payment: ScreenedPayment | null;
  /** Joined from the report where a read asks for it. */
  case_number?: string | null;
};

/** TaskRow's columns, for statements that must name them (a prepared `SELECT *` breaks when a migration adds one). */
export const TASK_COLUMNS = [
  'id', 'report_id', 'kind', 'family', 'open_blocking_key', 'institution_id', 'status', 'target_kind', 'target_value',
  'target_name', 'indicator_id', 'transfer_id', 'amount_minor', 'currency', 'transferred_at', 'parent_task_id', 'depth',
  'due_at', 'version', 'dispatched_at', 'closed_at', 'escalated_at', 'delivery_failed_at', 'delivery_error', 'created_at',
  'updated_at', 'payment',
] as const satisfies readonly (keyof TaskRow)[];

type ResultRow = {
  task_id: string; outcome: Outcome; frozen_minor: number; returned_minor: number | null; note: string | null; created_at: Date;
  actor_type: string; actor_id: string | null; source: string;
};

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toTask(row: TaskRow, result?: ResultRow, now = new Date()): Task {
  const open = OPEN_TASK_STATUSES.includes(row.status);
  return {
    id: row.id,
    reportId: row.report_id,
    caseNumber: row.case_number ?? null,
    kind: row.kind,
    family: row.family,
    institutionId: row.institution_id,
    status: row.status,
    amountMinor: row.amount_minor,
    currency: row.currency,
    target: { kind: row.target_kind, value: row.target_value, name: row.target_name },
    transferredAt: iso(row.transferred_at),
    dueAt: row.due_at.toISOString(),
    overdue: open && row.due_at.getTime() < now.getTime(),
    parentTaskId: row.parent_task_id,
    depth: row.depth,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    dispatchedAt: iso(row.dispatched_at),
    closedAt: iso(row.closed_at),
    escalatedAt: iso(row.escalated_at),
    deliveryFailedAt: iso(row.delivery_failed_at),
    deliveryError: row.delivery_error,
    payment: row.payment ?? null,
    result: result
      ? {
          outcome: result.outcome,
          frozenMinor: result.frozen_minor,
          returnedMinor: result.returned_minor,
          note: result.note,
          recordedAt: result.created_at.toISOString(),
          recordedBy: { type: result.actor_type, id: result.actor_id },
          source: result.source,
        }
      : null,
  };
}

async function withResults(db: DbOrTrx, rows: TaskRow[]): Promise<Task[]> {
  if (rows.length === 0) return [];
  const reportIds = [...new Set(rows.flatMap((r) => (r.report_id ? [r.report_id] : [])))];
  const [results, cases] = await Promise.all([
    db('task_results').whereIn('task_id', rows.map((r) => r.id)) as Promise<ResultRow[]>,
    (reportIds.length ? db('reports').select('id', 'case_number').whereIn('id', reportIds) : Promise.resolve([])) as Promise<{ id: string; case_number: string }[]>,
  ]);
  const byTask = new Map(results.map((r) => [r.task_id, r]));
  const caseOf = new Map(cases.map((c) => [c.id, c.case_number]));
  const now = new Date();
  return rows.map((r) => toTask({ ...r, case_number: r.report_id ? caseOf.get(r.report_id) ?? null : null }, byTask.get(r.id), now));
}

/** Scoped in the query: a partner-side actor never fetches another institution's row. */
function visible(db: DbOrTrx, actor: Pick<Actor, 'role' | 'institutionId'>) {
  const q = db<TaskRow>('tasks');
  const scope = scopeOf(actor);
  if (scope !== undefined) q.where('institution_id', scope);
  return q;
}

export async function findVisibleTask(db: DbOrTrx, actor: Pick<Actor, 'role' | 'institutionId'>, id: string): Promise<Task | undefined> {
  const row = await visible(db, actor).where({ id }).first();
  if (!row) return undefined;
  const [task] = await withResults(db, [row as TaskRow]);
  return task;
}

export async function findTask(db: DbOrTrx, id: string): Promise<Task | undefined> {
  const row: TaskRow | undefined = await db('tasks').where({ id }).first();
  if (!row) return undefined;
  const [task] = await withResults(db, [row]);
  return task;
}

export async function tasksOfReport(db: DbOrTrx, reportId: string): Promise<Task[]> {
  const rows: TaskRow[] = await db('tasks').where({ report_id: reportId }).orderBy([{ column: 'depth' }, { column: 'created_at' }, { column: 'id' }]);
  return withResults(db, rows);
}

export async function tasksByIds(db: DbOrTrx, ids: string[]): Promise<Task[]> {
  const rows: TaskRow[] = await db('tasks').whereIn('id', ids).orderBy('id');
  return withResults(db, rows);
}

/**
 * The supervisor's lists behind the dashboard's figures. `open`, `overdue` and `unrouted` are the
 * room as it is now; `done`, `failed` and `prevented` are tasks closed in a period (`closedFrom` ≤
 * closed_at < `closedTo`, when given), the way the dashboard counts them. `failed` also takes every
 * task whose deliveries ran out and that is still waiting for a retry or another institution
 * (status `delivery_failed`), whenever that began.
 */
export const TASK_VIEWS = ['open', 'overdue', 'unrouted', 'failed', 'done', 'prevented'] as const;
export type TaskView = (typeof TASK_VIEWS)[number];

export type TaskFilters = {
  status?: TaskStatus;
  kind?: TaskKind;
  institutionId?: string;
  overdue?: boolean;
  reportId?: string;
  view?: TaskView;
  closedFrom?: string;
  closedTo?: string;
  cursor?: string;
  limit: number;
};

/** Statuses of work still waiting for a partner, the unrouted ones apart. */
const routedOpen = () => OPEN_TASK_STATUSES.filter((s) => s !== 'unrouted') as TaskStatus[];

function applyView(db: DbOrTrx, q: Knex.QueryBuilder, f: TaskFilters): void {
  const closedIn = (qb: Knex.QueryBuilder) => {
    if (f.closedFrom) qb.where('closed_at', '>=', new Date(f.closedFrom));
    if (f.closedTo) qb.where('closed_at', '<', new Date(f.closedTo));
  };
  switch (f.view) {
    case undefined:
      return;
    case 'open':
      q.whereIn('status', routedOpen());
      return;
    case 'overdue':
      q.whereIn('status', OPEN_TASK_STATUSES as TaskStatus[]).where('due_at', '<', db.fn.now());
      return;
    case 'unrouted':
      q.where('status', 'unrouted');
      return;
    case 'done':
      q.where('status', 'done');
      closedIn(q);
      return;
    case 'prevented':
      // Loss prevented is booked by money tasks only (task-engine.ts recordResult).
      q.where('status', 'done').where('family', 'money');
      closedIn(q);
      q.whereExists(db('task_results as r').whereRaw('r.task_id = tasks.id').where('r.frozen_minor', '>', 0));
      return;
    case 'failed':
      q.where((w) => {
        w.where((c) => { c.where('status', 'failed'); closedIn(c); })
          .orWhere('status', 'delivery_failed');
      });
      return;
    default: {
      const never: never = f.view;
      throw new Error(`unknown task view ${String(never)}`);
    }
  }
}

/** Most urgent first (due time, then id for a stable cursor). */
export async function listVisibleTasks(db: DbOrTrx, actor: Pick<Actor, 'role' | 'institutionId'>, f: TaskFilters): Promise<Page<Task>> {
  const q = visible(db, actor);
  if (f.status) q.where('status', f.status);
  if (f.kind) q.where('kind', f.kind);
  if (f.institutionId) q.where('institution_id', f.institutionId);
  if (f.reportId) q.where('report_id', f.reportId);
  applyView(db, q, f);
  if (f.overdue !== undefined) {
    const overdue = (qb: typeof q) => qb.whereIn('status', OPEN_TASK_STATUSES as TaskStatus[]).where('due_at', '<', db.fn.now());
    if (f.overdue) overdue(q);
    else q.whereNot((qb) => overdue(qb as typeof q));
  }
  const after = decodeCursor(f.cursor, 2);
  if (after) q.whereRaw('(due_at, id) > (?::timestamptz, ?::uuid)', after);
  const rows = (await q.orderBy([{ column: 'due_at' }, { column: 'id' }]).limit(f.limit + 1)) as TaskRow[];
  const page = toPage(rows, f.limit, (r) => r, (r) => [r.due_at.toISOString(), r.id]);
  return { items: await withResults(db, page.items), nextCursor: page.nextCursor };
}
