import { createHash, randomUUID } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js';
import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { INDICATOR_KINDS, type IndicatorKind } from '../domain/kinds';
import { normalizeAccount, normalizeIndicator, searchSpellings } from '../domain/normalize';
import { caseNumber } from '../domain/tasks';
import { hashAccessCode, newAccessCode } from '../domain/access-code';
import type { CaseStatusService } from '../victims/case-status.service';
import { aheadOfClock } from '../domain/dates';
import { amountAboveLimit } from '../domain/money';
import { eventsForReport } from '../audit/events.repo';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../errors';
import { tasksByIds, tasksOfReport, type Task } from '../tasks/tasks.repo';
import type { FiledIndicator, NewReportRow, TaskEngine } from '../tasks/task-engine';
import type { CreateReport, ReportListQuery } from './reports.schemas';
import {
  claimIdempotencyKey, findReport, indicatorsOf, linkedReports,
  listReports, reserveCaseSequences, storeIdempotentResponse, transfersOf,
  type LinkedReport, type Report, type ReportIndicator, type Transfer,
} from './reports.repo';

export type ReportCreated = Pick<Report, 'id' | 'caseNumber' | 'status' | 'currency' | 'reportedLossMinor' | 'createdAt'> & {
  tasks: Task[];
  transfers: Transfer[];
  indicators: ReportIndicator[];
};

/** The 201: what was filed, and the victim's access code, shown this once. */
export type ReportFiled = ReportCreated & { victimAccessCode: string };

export type ReportDetail = Report & {
  transfers: Transfer[];
  indicators: ReportIndicator[];
  tasks: Task[];
  /** Open blocking tasks of other reports that this report's indicators were linked to. */
  joinedTasks: Task[];
  linkedReports: LinkedReport[];
  events: Awaited<ReturnType<typeof eventsForReport>>;
};

type Normalized = {
  victimPhone: string | null;
  reportedLossMinor: number;
  transfers: { toAccount: string; toAccountName: string | null; toInstitutionId: string | null; amountMinor: number; transferredAt: string | null }[];
  indicators: { kind: IndicatorKind; value: string; rawValue: string }[];
  problems: ErrorDetail[];
};

/** A stable hash of the parsed body: the same request retried hashes the same whatever its key order. */
function requestHash(input: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

/** The 201 of a filed report: what was written, as the API shows it. */
function createdAnswer(
  report: NewReportRow & { createdAt: Date },
  transfers: (Normalized['transfers'][number] & { id: string })[],
  indicators: FiledIndicator[],
  tasks: Task[],
): ReportCreated {
  return {
    id: report.id, caseNumber: report.caseNumber, status: 'open', currency: report.currency,
    reportedLossMinor: report.reportedLossMinor, createdAt: report.createdAt.toISOString(),
    tasks: tasks.map((t) => ({ ...t, caseNumber: report.caseNumber })),
    transfers: transfers.map(({ id, toAccount, toAccountName, toInstitutionId, amountMinor, transferredAt }) => ({
      id, toAccount, toAccountName, toInstitutionId, amountMinor, currency: report.currency,
      transferredAt: transferredAt ? new Date(transferredAt).toISOString() : null,
    })),
    indicators,
  };
}

/**
 * Case numbers come from the sequence a block at a time, so most reports need no round trip for
 * theirs. Numbers are unique; as with any sequence, a block not used up before a restart leaves a gap.
 */
class CaseSequences {
  private reserved: number[] = [];
  private reserving: Promise<void> | undefined;

  constructor(private readonly db: DbOrTrx, private readonly blockSize = 20) {}

  async next(): Promise<number> {
    for (;;) {
      const seq = this.reserved.shift();
      if (seq !== undefined) return seq;
      this.reserving ??= reserveCaseSequences(this.db, this.blockSize)
        .then((block) => { this.reserved.push(...block); })
        .finally(() => { this.reserving = undefined; });
      await this.reserving;
    }
  }
}

export class ReportsService {
  private readonly caseSequences: CaseSequences;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: TaskEngine,
    private readonly caseStatus: CaseStatusService,
  ) {
    this.caseSequences = new CaseSequences(ctx.db);
  }

  /**
   * The problems intake would find in the values of a report that the schema may not have
   * accepted yet (the victim's phone, accounts, indicators), so a form shows every problem at once.
   */
  valueProblems(input: unknown): ErrorDetail[] {
    const region = this.ctx.config.defaultRegion as CountryCode;
    const body = (typeof input === 'object' && input !== null ? input : {}) as {
      victim?: { phone?: unknown }; transfers?: { toAccount?: unknown }[]; indicators?: { kind?: unknown; value?: unknown }[];
    };
    const problems: ErrorDetail[] = [];
    const phone = body.victim?.phone;
    if (typeof phone === 'string' && phone) {
      const n = normalizeIndicator('phone', phone, region);
      if (!n.ok) problems.push({ path: 'victim.phone', message: n.message });
    }
    (Array.isArray(body.transfers) ? body.transfers : []).forEach((t, i) => {
      if (typeof t?.toAccount !== 'string') return;
      const n = normalizeAccount(t.toAccount);
      if (!n.ok) problems.push({ path: `transfers.${i}.toAccount`, message: n.message });
    });
    (Array.isArray(body.indicators) ? body.indicators : []).forEach((ind, i) => {
      if (typeof ind?.value !== 'string' || !(INDICATOR_KINDS as readonly unknown[]).includes(ind.kind)) return;
      const n = normalizeIndicator(ind.kind as IndicatorKind, ind.value, region);
      if (!n.ok) problems.push({ path: `indicators.${i}.value`, message: n.message });
    });
    return problems;
  }

  /** Every value is normalized before anything is written; every problem comes back with its path. */
  private normalize(input: CreateReport): Normalized {
    const region = this.ctx.config.defaultRegion as CountryCode;
    const problems: ErrorDetail[] = [];
    let victimPhone: string | null = null;
    if (input.victim.phone) {
      const phone = normalizeIndicator('phone', input.victim.phone, region);
      if (phone.ok) victimPhone = phone.value;
      else problems.push({ path: 'victim.phone', message: phone.message });
    }
    const { maxAmountMinor, maxClockSkewMs } = this.ctx.config.inputLimits;
    const now = Date.now();
    problems.push(...aheadOfClock('occurredAt', input.occurredAt, maxClockSkewMs, now));
    const transfers = input.transfers.map((t, i) => {
      const account = normalizeAccount(t.toAccount);
      if (!account.ok) problems.push({ path: `transfers.${i}.toAccount`, message: account.message });
      problems.push(
        ...amountAboveLimit(`transfers.${i}.amountMinor`, t.amountMinor, maxAmountMinor),
        ...aheadOfClock(`transfers.${i}.transferredAt`, t.transferredAt, maxClockSkewMs, now),
      );
      return {
        toAccount: account.ok ? account.value : '',
        toAccountName: t.toAccountName || null,
        toInstitutionId: t.toInstitutionId ?? null,
        amountMinor: t.amountMinor,
        transferredAt: t.transferredAt ?? null,
      };
    });
    const seen = new Set<string>();
    const indicators: Normalized['indicators'] = [];
    input.indicators.forEach((ind, i) => {
      const n = normalizeIndicator(ind.kind, ind.value, region);
      if (!n.ok) return problems.push({ path: `indicators.${i}.value`, message: n.message });
      // The same value typed twice is one indicator and one blocking task.
      const key = `${ind.kind}\u0000${n.value}`;
      if (seen.has(key)) return;
      seen.add(key);
      indicators.push({ kind: ind.kind, value: n.value, rawValue: ind.value });
    });
    const reportedLossMinor = transfers.reduce((sum, t) => sum + t.amountMinor, 0);
    if (!Number.isSafeInteger(reportedLossMinor)) problems.push({ path: 'transfers', message: 'the amounts add up to more than can be recorded' });
    return { victimPhone, reportedLossMinor, transfers, indicators, problems };
  }

  /**
   * Files a report, with the victim's access code to its status (only the code's hash is kept).
   * A retry with the same Idempotency-Key answers the first response with a new access code: the
   * first code cannot be shown again, and the caller retrying may never have received it. The
   * code of the latest answer is the one that works.
   */
  async create(actor: Actor, input: CreateReport, idempotencyKey?: string): Promise<ReportFiled> {
    const currency = input.currency ?? this.ctx.config.defaultCurrency;
    const normalized = this.normalize(input);
    if (normalized.problems.length > 0) {
      // Every problem at once: the named institutions too, though checking them costs a read.
      throw new ValidationError([...normalized.problems, ...this.unknownInstitutions(normalized, (await this.engine.routing(this.ctx.db)).partners)]);
    }
    const now = new Date();
    const filedCaseNumber = caseNumber(now, await this.caseSequences.next(), this.ctx.config.timeZone);
    const accessCode = newAccessCode();
    const report: NewReportRow = {
      id: randomUUID(), caseNumber: filedCaseNumber, accessCodeHash: hashAccessCode(filedCaseNumber, accessCode),
      channel: input.channel, fraudType: input.fraudType, occurredAt: input.occurredAt,
      victim: { name: input.victim.name, phone: normalized.victimPhone, idNumber: input.victim.idNumber || null },
      narrative: input.narrative, currency, reportedLossMinor: normalized.reportedLossMinor,
      createdBy: actor.type === 'user' ? actor.id : null,
    };
    const transfers = normalized.transfers.map((t) => ({ ...t, id: randomUUID(), currency }));
    const file = async (db: DbOrTrx): Promise<ReportCreated> => {
      const filed = await this.engine.fileReport(db, actor, report, transfers, normalized.indicators, (routing) => {
        const unknown = this.unknownInstitutions(normalized, routing.partners);
        if (unknown.length > 0) throw new ValidationError(unknown);
      });
      return createdAnswer({ ...report, createdAt: filed.createdAt }, transfers, filed.indicators, filed.tasks);
    };

    // Without a key the report is one statement; with one, the key is claimed and the answer kept in
    // the same transaction, so a retry gets the first answer.
    const outcome = idempotencyKey
      ? await this.ctx.db.transaction(async (trx) => {
        const claim = await claimIdempotencyKey(trx, actor.id, idempotencyKey, requestHash(input));
        if (claim.state === 'conflict') {
          throw new ConflictError('idempotency_key_reused', 'This Idempotency-Key was used with a different body.');
        }
        if (claim.state === 'replay') {
          const body = claim.body as ReportCreated;
          const code = await this.caseStatus.reissue(actor, body, 'intake_retried', trx);
          return { replayed: true as const, body, accessCode: code };
        }
        const created = await file(trx);
        // The kept answer has no access code: it is never stored, not even here.
        await storeIdempotentResponse(trx, actor.id, idempotencyKey, 201, created);
        return { replayed: false as const, body: created, accessCode };
      })
      : { replayed: false as const, body: await file(this.ctx.db), accessCode };

    if (!outcome.replayed) await this.engine.afterCommit(outcome.body.tasks);
    return { ...outcome.body, victimAccessCode: outcome.accessCode };
  }

  /** A receiving institution the officer named must be an active partner. */
  private unknownInstitutions(normalized: Normalized, partners: ReadonlySet<string>): ErrorDetail[] {
    return normalized.transfers.flatMap((t, i) => (t.toInstitutionId && !partners.has(t.toInstitutionId)
      ? [{ path: `transfers.${i}.toInstitutionId`, message: 'is not an active partner institution' }]
      : []));
  }

  async get(_actor: Actor, id: string): Promise<ReportDetail> {
    const report = await findReport(this.ctx.db, id);
    if (!report) throw new NotFoundError('No such report.');
    const [transfers, indicators, tasks, linked, events] = await Promise.all([
      transfersOf(this.ctx.db, id),
      indicatorsOf(this.ctx.db, id),
      tasksOfReport(this.ctx.db, id),
      linkedReports(this.ctx.db, id),
      eventsForReport(this.ctx.db, id),
    ]);
    const joinedIds = indicators.flatMap((i) => (i.blocking === 'joined' && i.blockingTaskId ? [i.blockingTaskId] : []));
    const joinedTasks = joinedIds.length > 0 ? await tasksByIds(this.ctx.db, joinedIds) : [];
    return { ...report, transfers, indicators, tasks, joinedTasks, linkedReports: linked, events };
  }

  /** `q` finds a case number or victim by any part, and an indicator or account however it is typed. */
  list(_actor: Actor, query: ReportListQuery) {
    const qSpellings = query.q ? searchSpellings(query.q, this.ctx.config.defaultRegion as CountryCode) : undefined;
    return listReports(this.ctx.db, { ...query, qSpellings });
  }
}
