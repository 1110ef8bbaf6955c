import { createHash } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js';
import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import { TASK_KIND_FOR_INDICATOR, type IndicatorKind } from '../domain/kinds';
import { normalizeAccount, normalizeIndicator } from '../domain/normalize';
import { caseNumber } from '../domain/tasks';
import { activePartnerIds } from '../admin/institutions.repo';
import { eventsForReport, recordEvent } from '../audit/events.repo';
import { addReportDaily } from '../stats/stats.repo';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../errors';
import { tasksOfReport, type Task } from '../tasks/tasks.repo';
import type { TaskDraft, TasksService } from '../tasks/tasks.service';
import type { CreateReport, ReportListQuery } from './reports.schemas';
import {
  claimIdempotencyKey, findReport, indicatorsOf, insertReport, insertTransfers, linkedReports,
  linkIndicators, listReports, nextCaseSequence, storeIdempotentResponse, transfersOf,
  type LinkedReport, type Report, type ReportIndicator, type Transfer,
} from './reports.repo';

export type ReportCreated = Pick<Report, 'id' | 'caseNumber' | 'status' | 'currency' | 'reportedLossMinor' | 'createdAt'> & {
  tasks: Task[];
  transfers: Transfer[];
  indicators: ReportIndicator[];
};

export type ReportDetail = Report & {
  transfers: Transfer[];
  indicators: ReportIndicator[];
  tasks: Task[];
  linkedReports: LinkedReport[];
  events: Awaited<ReturnType<typeof eventsForReport>>;
};

type Normalized = {
  victimPhone: string | null;
  reportedLossMinor: number;
  transfers: { toAccount: string; toAccountName: string | null; toInstitutionId: string | null; amountMinor: number; transferredAt: string | null }[];
  indicators: { kind: IndicatorKind; value: string; rawValue: string }[];
};

/** A stable hash of the parsed body: the same request retried hashes the same whatever its key order. */
function requestHash(input: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

export class ReportsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: TasksService,
  ) {}

  /** Every value is normalized before anything is written; all problems are reported at once with their paths. */
  private normalize(input: CreateReport, knownInstitutions: Set<string>): Normalized {
    const region = this.ctx.config.defaultRegion as CountryCode;
    const problems: ErrorDetail[] = [];
    let victimPhone: string | null = null;
    if (input.victim.phone) {
      const phone = normalizeIndicator('phone', input.victim.phone, region);
      if (phone.ok) victimPhone = phone.value;
      else problems.push({ path: 'victim.phone', message: phone.message });
    }
    const transfers = input.transfers.map((t, i) => {
      const account = normalizeAccount(t.toAccount);
      if (!account.ok) problems.push({ path: `transfers.${i}.toAccount`, message: account.message });
      if (t.toInstitutionId && !knownInstitutions.has(t.toInstitutionId)) {
        problems.push({ path: `transfers.${i}.toInstitutionId`, message: 'is not an active partner institution' });
      }
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
    if (problems.length) throw new ValidationError(problems);
    return { victimPhone, reportedLossMinor, transfers, indicators };
  }

  async create(actor: Actor, input: CreateReport, idempotencyKey?: string): Promise<ReportCreated> {
    const currency = input.currency ?? this.ctx.config.defaultCurrency;
    const normalized = this.normalize(input, await activePartnerIds(this.ctx.db));
    const { reportedLossMinor } = normalized;
    const hash = idempotencyKey ? requestHash(input) : '';

    const outcome = await this.ctx.db.transaction(async (trx) => {
      if (idempotencyKey) {
        const claim = await claimIdempotencyKey(trx, actor.id, idempotencyKey, hash);
        if (claim.state === 'conflict') {
          throw new ConflictError('idempotency_key_reused', 'This Idempotency-Key was used with a different body.');
        }
        if (claim.state === 'replay') return { replayed: true as const, body: claim.body as ReportCreated };
      }
      const now = new Date();
      const report = await insertReport(trx, {
        caseNumber: caseNumber(now, await nextCaseSequence(trx), this.ctx.config.timeZone),
        channel: input.channel,
        fraudType: input.fraudType,
        occurredAt: input.occurredAt,
        victim: { name: input.victim.name, phone: normalized.victimPhone, idNumber: input.victim.idNumber || null },
        narrative: input.narrative,
        currency,
        reportedLossMinor,
        createdBy: actor.type === 'user' ? actor.id : null,
      });
      const transfers = await insertTransfers(trx, report.id, normalized.transfers.map((t) => ({ ...t, currency })));
      const indicators = await linkIndicators(trx, report.id, normalized.indicators);
      // An account that is also a transfer's receiving account already has its interception task.
      const intercepted = new Set(transfers.map((t) => t.toAccount));
      const drafts: TaskDraft[] = [
        ...transfers.map((t): TaskDraft => ({
          reportId: report.id,
          kind: 'intercept_funds',
          targetKind: 'bank_account',
          targetValue: t.toAccount,
          targetName: t.toAccountName,
          transferId: t.id,
          amountMinor: t.amountMinor,
          currency,
          transferredAt: t.transferredAt ? new Date(t.transferredAt) : null,
          toInstitutionId: t.toInstitutionId,
        })),
        ...indicators.filter((ind) => !(ind.kind === 'bank_account' && intercepted.has(ind.value))).map((ind): TaskDraft => ({
          reportId: report.id,
          kind: TASK_KIND_FOR_INDICATOR[ind.kind],
          targetKind: ind.kind,
          targetValue: ind.value,
          indicatorId: ind.id,
        })),
      ];
      const tasks = await this.tasks.createTasks(trx, actor, drafts, now);
      await recordEvent(trx, actor, {
        type: 'report.created',
        reportId: report.id,
        data: { caseNumber: report.caseNumber, transfers: transfers.length, indicators: indicators.length, tasks: tasks.length },
      });
      await addReportDaily(trx, this.ctx.config, { currency, fraudType: input.fraudType, reportedLossMinor });
      const created: ReportCreated = {
        id: report.id,
        caseNumber: report.caseNumber,
        status: report.status,
        currency: report.currency,
        reportedLossMinor: report.reportedLossMinor,
        createdAt: report.createdAt,
        tasks,
        transfers,
        indicators,
      };
      if (idempotencyKey) await storeIdempotentResponse(trx, actor.id, idempotencyKey, 201, created);
      return { replayed: false as const, body: created };
    });

    if (outcome.replayed) return outcome.body;
    await this.tasks.afterCommit(outcome.body.tasks);
    return outcome.body;
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
    return { ...report, transfers, indicators, tasks, linkedReports: linked, events };
  }

  list(_actor: Actor, query: ReportListQuery) {
    return listReports(this.ctx.db, query);
  }
}
