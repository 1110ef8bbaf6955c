import { containsPattern, prepared, type DbOrTrx } from '../db';
import type { IndicatorKind, IndicatorStatus } from '../domain/kinds';
import { decodeCursor, toPage, type Page } from '../http/pagination';
import { toTask, type Task, type TaskRow } from '../tasks/tasks.repo';
import type { CitingReport, IndicatorOut, SightingOut } from './indicators.schemas';

type IndicatorRow = {
  id: string; kind: IndicatorKind; value: string; status: IndicatorStatus | null; report_count: number;
  first_seen_at: Date; last_seen_at: Date;
};

const toIndicator = (r: IndicatorRow): IndicatorOut => ({
  id: r.id,
  kind: r.kind,
  value: r.value,
  status: r.status,
  reportCount: r.report_count,
  firstSeenAt: r.first_seen_at.toISOString(),
  lastSeenAt: r.last_seen_at.toISOString(),
});

export type LookupHit = { status: IndicatorStatus | null; reportCount: number; lastSeenAt: Date | null };

/**
 * Screens a batch of normalized values in one round trip, set-based: the pairs go in as two
 * arrays; only the pairs that are known come back, by position (most screened values are not). A
 * bank account also counts the reports that name it as a receiving account, whether or not anyone
 * filed it as an indicator.
 */
export async function lookupIndicators(db: DbOrTrx, pairs: { kind: IndicatorKind; value: string }[]): Promise<(LookupHit | undefined)[]> {
  if (pairs.length === 0) return [];
  // Each distinct value is looked up once, however often the batch repeats it (a mule account
  // cited by thousands of reports is counted once, not once per payment naming it).
  const slotOf = new Map<string, number>();
  const distinct: { kind: IndicatorKind; value: string }[] = [];
  const slots = pairs.map((p) => {
    const key = `${p.kind}\u0000${p.value}`;
    let slot = slotOf.get(key);
    if (slot === undefined) {
      slot = distinct.push(p) - 1;
      slotOf.set(key, slot);
    }
    return slot;
  });
  const { rows } = await db.raw(
    `WITH q AS MATERIALIZED (
       SELECT kind, value, ord FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS q(kind, value, ord)
     ), hit AS MATERIALIZED (
       -- Index probes per value (LATERAL, fenced by LIMIT or OFFSET 0): an array parameter's
       -- length is unknown to the planner, and a hash join would read the whole indicators table.
       SELECT q.ord, i.id, i.status, i.last_seen_at
         FROM q CROSS JOIN LATERAL (SELECT id, status, last_seen_at FROM indicators WHERE kind = q.kind AND value = q.value LIMIT 1) i
     ), cites AS (
       SELECT h.ord, ri.report_id FROM hit h CROSS JOIN LATERAL (SELECT report_id FROM report_indicators WHERE indicator_id = h.id OFFSET 0) ri
       UNION
       SELECT q.ord, t.report_id FROM q CROSS JOIN LATERAL (SELECT report_id FROM transfers WHERE to_account = q.value OFFSET 0) t
        WHERE q.kind = 'bank_account'
     ), counts AS (
       SELECT c.ord, count(*)::int AS report_count, max(r.created_at) AS last_report_at
         FROM cites c CROSS JOIN LATERAL (SELECT created_at FROM reports WHERE id = c.report_id LIMIT 1) r GROUP BY c.ord
     )
     SELECT coalesce(h.ord, c.ord)::int AS ord, h.status, h.last_seen_at, coalesce(c.report_count, 0) AS report_count, c.last_report_at
       FROM hit h FULL JOIN counts c ON c.ord = h.ord`,
    [distinct.map((p) => p.kind), distinct.map((p) => p.value)],
  ).options(prepared('lookup-indicators'));
  const found: (LookupHit | undefined)[] = new Array(distinct.length);
  for (const r of rows as { ord: number; status: IndicatorStatus | null; last_seen_at: Date | null; report_count: number; last_report_at: Date | null }[]) {
    const seen = r.last_seen_at && r.last_report_at ? (r.last_seen_at > r.last_report_at ? r.last_seen_at : r.last_report_at) : (r.last_seen_at ?? r.last_report_at);
    found[r.ord - 1] = { status: r.status, reportCount: r.report_count, lastSeenAt: seen };
  }
  return slots.map((slot) => found[slot]);
}

export type IndicatorFilters = {
  kind?: IndicatorKind; status?: IndicatorStatus; q?: string; cursor?: string; limit: number;
  /** `q` as stored values may spell it (domain/normalize.ts searchSpellings); each is matched as a part too. */
  qSpellings?: string[];
};

/** Most recently seen first; `q` matches any part of the value (trigram index). */
/**
 * The reports citing an indicator, counted now: as an indicator, or (a bank account) as a
 * transfer's receiving account. Intake does not keep a counter on the indicator's row, which a wave
 * of reports naming one number would all queue on.
 */
const citingReports = (db: DbOrTrx) => db.raw(
  `(SELECT count(*) FROM (SELECT report_id FROM report_indicators WHERE indicator_id = indicators.id
                          UNION
                          SELECT report_id FROM transfers WHERE indicators.kind = 'bank_account' AND to_account = indicators.value) c)::int AS report_count`,
);

export async function listIndicators(db: DbOrTrx, f: IndicatorFilters): Promise<Page<IndicatorOut>> {
  const q = db('indicators').select('id', 'kind', 'value', 'status', 'first_seen_at', 'last_seen_at', citingReports(db));
  if (f.kind) q.where('kind', f.kind);
  if (f.status) q.where('status', f.status);
  if (f.q) {
    const patterns = [...new Set([f.q, ...(f.qSpellings ?? [])])].map(containsPattern);
    q.where((w) => { for (const p of patterns) w.orWhereILike('value', p); });
  }
  const after = decodeCursor(f.cursor, 2);
  if (after) q.whereRaw('(last_seen_at, id) < (?::timestamptz, ?::uuid)', after);
  const rows = (await q.orderBy([{ column: 'last_seen_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit + 1)) as IndicatorRow[];
  return toPage(rows, f.limit, toIndicator, (r) => [r.last_seen_at.toISOString(), r.id]);
}

export async function findIndicator(db: DbOrTrx, id: string): Promise<IndicatorOut | undefined> {
  const row: IndicatorRow | undefined = await db('indicators').where({ id }).first('id', 'kind', 'value', 'status', 'first_seen_at', 'last_seen_at', citingReports(db));
  return row && toIndicator(row);
}

export async function sightingsOf(db: DbOrTrx, indicatorId: string, limit = 200): Promise<{ sightings: SightingOut[]; count: number; institutions: number }> {
  const [rows, totals] = await Promise.all([
    db('indicator_sightings').where({ indicator_id: indicatorId }).orderBy([{ column: 'observed_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit),
    db('indicator_sightings').where({ indicator_id: indicatorId })
      .first(db.raw('count(*)::int AS count'), db.raw('count(DISTINCT institution_id)::int AS institutions')),
  ]);
  return {
    sightings: (rows as { institution_id: string; confidence: 'suspected' | 'confirmed'; observed_at: Date; note: string | null; batch_id: string | null; external_id: string | null; created_at: Date }[])
      .map((r) => ({
        institutionId: r.institution_id,
        confidence: r.confidence,
        observedAt: r.observed_at.toISOString(),
        note: r.note,
        batchId: r.batch_id,
        externalId: r.external_id,
        recordedAt: r.created_at.toISOString(),
      })),
    count: (totals as { count: number } | undefined)?.count ?? 0,
    institutions: (totals as { institutions: number } | undefined)?.institutions ?? 0,
  };
}

/** The reports that cite an indicator, by listing it or (for an account) by sending money to it. */
export async function reportsCiting(db: DbOrTrx, indicator: { id: string; kind: IndicatorKind; value: string }): Promise<CitingReport[]> {
  const { rows } = await db.raw(
    `WITH cites AS (
       SELECT report_id, 'indicator' AS via FROM report_indicators WHERE indicator_id = :id
       UNION
       SELECT report_id, 'transfer' FROM transfers WHERE :kind = 'bank_account' AND to_account = :value
     )
     SELECT r.id, r.case_number, r.status, r.fraud_type, r.currency, r.reported_loss_minor, r.created_at,
            CASE WHEN count(DISTINCT c.via) > 1 THEN 'both' ELSE min(c.via) END AS via
       FROM cites c JOIN reports r ON r.id = c.report_id
      GROUP BY r.id
      ORDER BY r.created_at DESC, r.id
      LIMIT 500`,
    { id: indicator.id, kind: indicator.kind, value: indicator.value },
  );
  return (rows as { id: string; case_number: string; status: string; fraud_type: string; currency: string; reported_loss_minor: number; created_at: Date; via: CitingReport['via'] }[])
    .map((r) => ({
      id: r.id,
      caseNumber: r.case_number,
      status: r.status,
      fraudType: r.fraud_type,
      currency: r.currency,
      reportedLossMinor: r.reported_loss_minor,
      createdAt: r.created_at.toISOString(),
      via: r.via,
    }));
}

/** Tasks against an indicator: linked by id, or aimed at the same normalized value. */
export async function tasksAgainst(db: DbOrTrx, indicator: { id: string; kind: IndicatorKind; value: string }): Promise<Task[]> {
  const rows: TaskRow[] = await db('tasks')
    .where('indicator_id', indicator.id)
    .orWhere((w) => w.where({ target_kind: indicator.kind, target_value: indicator.value }))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }])
    .limit(500);
  if (rows.length === 0) return [];
  type ResultRow = NonNullable<Parameters<typeof toTask>[1]>;
  const results: ResultRow[] = await db('task_results').whereIn('task_id', rows.map((r) => r.id));
  const byTask = new Map(results.map((r) => [r.task_id, r]));
  const now = new Date();
  return rows.map((r) => toTask(r, byTask.get(r.id), now));
}

export type ExportFilters = { status?: IndicatorStatus; since?: string };

/**
 * One page of the indicators an export carries, by id after `afterId`: the flagged ones (every
 * indicator with a status), or those of one status; `since` keeps those seen since then.
 */
export async function indicatorsForExport(
  db: DbOrTrx, f: ExportFilters, afterId: string | null, limit: number,
): Promise<(ExportedIndicatorRow & { id: string })[]> {
  const q = db('indicators').select('id', 'kind', 'value', 'status', 'first_seen_at', 'last_seen_at');
  if (f.status) q.where('status', f.status);
  else q.whereNotNull('status');
  if (f.since) q.where('last_seen_at', '>=', new Date(f.since));
  if (afterId) q.where('id', '>', afterId);
  const rows = (await q.orderBy('id').limit(limit)) as IndicatorRow[];
  return rows.map((r) => ({
    id: r.id, kind: r.kind, value: r.value, status: r.status,
    firstSeenAt: r.first_seen_at.toISOString(), lastSeenAt: r.last_seen_at.toISOString(),
  }));
}

export type ExportedIndicatorRow = { kind: IndicatorKind; value: string; status: IndicatorStatus | null; firstSeenAt: string; lastSeenAt: string };
