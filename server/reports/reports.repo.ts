import { containsPattern, type DbOrTrx } from '../db';
import type { Channel, FraudType, IndicatorKind, ReportStatus } from '../domain/kinds';
import { decodeCursor, toPage, type Page } from '../http/pagination';
import type { Coverage } from '../domain/task-planning';

export type Report = {
  id: string;
  caseNumber: string;
  status: ReportStatus;
  channel: Channel;
  fraudType: FraudType;
  occurredAt: string;
  victim: { name: string; phone: string | null; idNumber: string | null };
  narrative: string;
  currency: string;
  reportedLossMinor: number;
  createdAt: string;
  closedAt: string | null;
  closedReason: string | null;
};

export type Transfer = {
  id: string;
  toAccount: string;
  toAccountName: string | null;
  toInstitutionId: string | null;
  amountMinor: number;
  currency: string;
  transferredAt: string | null;
};

/** A report's indicator, and how it is covered: the blocking task it opened or joined, if any. */
export type ReportIndicator = {
  id: string; kind: IndicatorKind; value: string; rawValue: string; status: string | null;
  blocking: Coverage | null; blockingTaskId: string | null;
};

export type LinkedReport = {
  id: string;
  caseNumber: string;
  fraudType: FraudType;
  createdAt: string;
  shared: { kind: IndicatorKind; value: string }[];
};

type ReportRow = {
  id: string; case_number: string; status: ReportStatus; channel: Channel; fraud_type: FraudType; occurred_at: Date;
  victim_name: string; victim_phone: string | null; victim_id_number: string | null; narrative: string;
  currency: string; reported_loss_minor: number; created_at: Date; closed_at: Date | null; closed_reason: string | null;
};

type TransferRow = {
  id: string; to_account: string; to_account_name: string | null; to_institution_id: string | null;
  amount_minor: number; currency: string; transferred_at: Date | null;
};

const toReport = (r: ReportRow): Report => ({
  id: r.id,
  caseNumber: r.case_number,
  status: r.status,
  channel: r.channel,
  fraudType: r.fraud_type,
  occurredAt: r.occurred_at.toISOString(),
  victim: { name: r.victim_name, phone: r.victim_phone, idNumber: r.victim_id_number },
  narrative: r.narrative,
  currency: r.currency,
  reportedLossMinor: r.reported_loss_minor,
  createdAt: r.created_at.toISOString(),
  closedAt: r.closed_at ? r.closed_at.toISOString() : null,
  closedReason: r.closed_reason,
});

const toTransfer = (r: TransferRow): Transfer => ({
  id: r.id,
  toAccount: r.to_account,
  toAccountName: r.to_account_name,
  toInstitutionId: r.to_institution_id,
  amountMinor: r.amount_minor,
  currency: r.currency,
  transferredAt: r.transferred_at ? r.transferred_at.toISOString() : null,
});

/** `count` case sequence numbers in one round trip, in order. */
export async function reserveCaseSequences(db: DbOrTrx, count: number): Promise<number[]> {
  const { rows } = await db.raw<{ rows: { seq: number }[] }>(`SELECT nextval('report_case_seq') AS seq FROM generate_series(1, ?)`, [count]);
  return rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
}

export async function findReport(db: DbOrTrx, id: string): Promise<Report | undefined> {
  const row: ReportRow | undefined = await db('reports').where({ id }).first();
  return row && toReport(row);
}

export async function transfersOf(db: DbOrTrx, reportId: string): Promise<Transfer[]> {
  const rows: TransferRow[] = await db('transfers').where({ report_id: reportId }).orderBy('position');
  return rows.map(toTransfer);
}

export async function indicatorsOf(db: DbOrTrx, reportId: string): Promise<ReportIndicator[]> {
  const rows: { id: string; kind: IndicatorKind; value: string; raw_value: string; status: string | null; blocking: Coverage | null; blocking_task_id: string | null }[] = await db('report_indicators as ri')
    .join('indicators as i', 'i.id', 'ri.indicator_id')
    .where('ri.report_id', reportId)
    .orderBy('ri.position')
    .select('i.id', 'i.kind', 'i.value', 'ri.raw_value', 'i.status', 'ri.blocking', 'ri.blocking_task_id');
  return rows.map((r) => ({
    id: r.id, kind: r.kind, value: r.value, rawValue: r.raw_value, status: r.status, blocking: r.blocking, blockingTaskId: r.blocking_task_id,
  }));
}

/** Other reports sharing a normalized indicator or a receiving account: one mule account, many victims. */
export async function linkedReports(db: DbOrTrx, reportId: string, limit = 50): Promise<LinkedReport[]> {
  const { rows } = await db.raw<{ rows: { id: string; case_number: string; fraud_type: FraudType; created_at: Date; shared: { kind: IndicatorKind; value: string }[] }[] }>(
    `
    WITH mine AS (
      SELECT i.kind, i.value FROM report_indicators ri JOIN indicators i ON i.id = ri.indicator_id WHERE ri.report_id = :reportId
      UNION
      SELECT 'bank_account', t.to_account FROM transfers t WHERE t.report_id = :reportId
    ),
    hits AS (
      SELECT ri.report_id, i.kind, i.value
        FROM mine m JOIN indicators i ON i.kind = m.kind AND i.value = m.value
        JOIN report_indicators ri ON ri.indicator_id = i.id
       WHERE ri.report_id <> :reportId
      UNION
      SELECT t.report_id, 'bank_account', t.to_account
        FROM mine m JOIN transfers t ON m.kind = 'bank_account' AND t.to_account = m.value
       WHERE t.report_id <> :reportId
    )
    SELECT r.id, r.case_number, r.fraud_type, r.created_at,
           json_agg(DISTINCT jsonb_build_object('kind', h.kind, 'value', h.value)) AS shared
      FROM hits h JOIN reports r ON r.id = h.report_id
     GROUP BY r.id
     ORDER BY r.created_at DESC
     LIMIT :limit
    `,
    { reportId, limit },
  );
  return rows.map((r) => ({ id: r.id, caseNumber: r.case_number, fraudType: r.fraud_type, createdAt: r.created_at.toISOString(), shared: r.shared }));
}

export async function listReports(db: DbOrTrx, f: {
  status?: ReportStatus; fraudType?: FraudType; q?: string; from?: string; to?: string; cursor?: string; limit: number;
  /** `q` as the indicators and accounts it may be, normalized (domain/normalize.ts searchSpellings). */
  qSpellings?: { kind: IndicatorKind; value: string }[];
}): Promise<Page<Report>> {
  const q = db<ReportRow>('reports');
  if (f.status) q.where('status', f.status);
  if (f.fraudType) q.where('fraud_type', f.fraudType);
  if (f.from) q.where('created_at', '>=', new Date(f.from));
  if (f.to) q.where('created_at', '<', new Date(f.to));
  if (f.q) {
    const like = containsPattern(f.q);
    const spellings = f.qSpellings ?? [];
    const accounts = [...new Set(spellings.filter((s) => s.kind === 'bank_account').map((s) => s.value))];
    q.where((w) => {
      w.whereILike('case_number', like).orWhereILike('victim_name', like);
      if (accounts.length) {
        w.orWhereExists(db('transfers as t').whereRaw('t.report_id = reports.id').whereIn('t.to_account', accounts));
      }
      if (spellings.length) {
        w.orWhereExists(
          db('report_indicators as ri').join('indicators as i', 'i.id', 'ri.indicator_id')
            .whereRaw('ri.report_id = reports.id')
            .whereIn(['i.kind', 'i.value'], spellings.map((s) => [s.kind, s.value])),
        );
      }
    });
  }
  const after = decodeCursor(f.cursor, 2);
  if (after) q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', after);
  const rows = (await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit + 1)) as ReportRow[];
  return toPage(rows, f.limit, toReport, (r) => [r.created_at.toISOString(), r.id]);
}

/** The stored first answer to an Idempotency-Key; the row lock makes a concurrent retry wait for the first to finish. */
export async function claimIdempotencyKey(
  trx: DbOrTrx,
  actorId: string,
  key: string,
  requestHash: string,
): Promise<{ state: 'new' } | { state: 'replay'; status: number; body: unknown } | { state: 'conflict' }> {
  const inserted = await trx('idempotency_keys')
    .insert({ actor_id: actorId, key, request_hash: requestHash })
    .onConflict(['actor_id', 'key'])
    .ignore()
    .returning('key');
  if (inserted.length > 0) return { state: 'new' };
  const row: { request_hash: string; response_status: number | null; response_body: unknown } = await trx('idempotency_keys')
    .where({ actor_id: actorId, key })
    .first();
  if (row.request_hash !== requestHash) return { state: 'conflict' };
  return { state: 'replay', status: row.response_status ?? 201, body: row.response_body };
}

export async function storeIdempotentResponse(trx: DbOrTrx, actorId: string, key: string, status: number, body: unknown): Promise<void> {
  await trx('idempotency_keys').where({ actor_id: actorId, key }).update({ response_status: status, response_body: JSON.stringify(body) });
}

/** The report row, locked for the rest of the transaction: closing and reopening one report take turns. */
export async function lockReport(trx: DbOrTrx, id: string): Promise<Report | undefined> {
  const row: ReportRow | undefined = await trx('reports').where({ id }).forUpdate().first();
  return row && toReport(row);
}

/** Closes (with its reason) or reopens a report. */
export async function setReportStatus(trx: DbOrTrx, id: string, status: ReportStatus, reason: string | null): Promise<Report> {
  const closing = status === 'closed';
  const [row] = await trx('reports')
    .where({ id })
    .update({ status, closed_at: closing ? trx.fn.now() : null, closed_reason: closing ? reason : null })
    .returning('*');
  return toReport(row as ReportRow);
}

/** Active holds of the report that still hold money: while there is one, the case cannot be closed. */
export async function activeHeldBalances(trx: DbOrTrx, reportId: string): Promise<number> {
  const row = await trx('holds').where({ report_id: reportId, status: 'active' }).where('balance_minor', '>', 0).count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
