import type { IndicatorKind, TaskKind } from './kinds';
import { blockingDecision, type BlockingRule, type IndicatorFacts } from './indicator-rules';
import { routeTransfer, type Router } from './routing';
import type { ScreenedPayment } from './screening';
import { blockingKindFor, familyOf, INTERCEPT_KIND, WARNING_KIND, type TaskFamily } from './task-kinds';
import { dueAt } from './tasks';

// Planning: what tasks a report, a result or a feed's sightings call for, where each goes and by
// when. Pure: the writer (server/tasks/task-writer.repo.ts) applies a plan in one statement, and
// the database has the last word on what is already open or blocked.

/** How a report's indicator is covered: a blocking task it opened, an open one it joined, none
 * because the indicator is already blocked, or the interception of the same receiving account. */
export type Coverage = 'opened' | 'joined' | 'already_blocked' | 'intercepted';

/** Where work goes: the routes of the active partners, and which partners exist. */
export type Routing = { route: Router; partners: ReadonlySet<string> };

export type DueMinutes = Readonly<Record<TaskKind, number>>;

/** A task to write. `indicatorTarget` tasks are tied to the indicator with their target's kind and value. */
export type TaskDraft = {
  kind: TaskKind;
  family: TaskFamily;
  reportId: string | null;
  institutionId: string | null;
  targetKind: IndicatorKind;
  targetValue: string;
  targetName: string | null;
  transferId: string | null;
  amountMinor: number | null;
  currency: string | null;
  transferredAt: Date | null;
  parentTaskId: string | null;
  depth: number;
  dueAt: Date;
  /**
   * Blocking tasks only: at most one open task holds a key (a target at an institution). A draft
   * whose key is held joins the open task instead of opening another.
   */
  openBlockingKey: string | null;
  /** Warning tasks only: the screened payment, opened at most once per (screenedBy, ref). */
  payment: ScreenedPayment | null;
};

export function openBlockingKey(kind: TaskKind, institutionId: string | null, target: { kind: IndicatorKind; value: string }): string {
  return `${kind}|${institutionId ?? '-'}|${target.kind}|${target.value}`;
}

export type TransferToChase = {
  transferId: string | null;
  toAccount: string;
  toAccountName: string | null;
  toInstitutionId: string | null;
  amountMinor: number;
  currency: string;
  transferredAt: Date | null;
};

export type Planning = { routing: Routing; now: Date; dueMinutes: DueMinutes };

/** One interception per transfer, at the bank the victim named or the one its routes give. */
export function planInterceptions(
  transfers: TransferToChase[],
  from: { reportId: string | null; parentTaskId: string | null; depth: number },
  p: Planning,
): TaskDraft[] {
  return transfers.map((t) => ({
    kind: INTERCEPT_KIND,
    family: familyOf(INTERCEPT_KIND),
    reportId: from.reportId,
    institutionId: routeTransfer(p.routing.route, t.toAccount, t.toInstitutionId, p.routing.partners),
    targetKind: 'bank_account',
    targetValue: t.toAccount,
    targetName: t.toAccountName,
    transferId: t.transferId,
    amountMinor: t.amountMinor,
    currency: t.currency,
    transferredAt: t.transferredAt,
    parentTaskId: from.parentTaskId,
    depth: from.depth,
    dueAt: dueAt(INTERCEPT_KIND, p.now, p.dueMinutes),
    openBlockingKey: null,
    payment: null,
  }));
}

/** One blocking task per distinct target, routed by the indicator's own routes. */
export function planBlocking(targets: { kind: IndicatorKind; value: string }[], reportId: string | null, p: Planning): TaskDraft[] {
  const seen = new Set<string>();
  const drafts: TaskDraft[] = [];
  for (const target of targets) {
    const kind = blockingKindFor(target.kind);
    const institutionId = p.routing.route(target.kind, target.value);
    const key = openBlockingKey(kind, institutionId, target);
    if (seen.has(key)) continue;
    seen.add(key);
    drafts.push({
      kind,
      family: familyOf(kind),
      reportId,
      institutionId,
      targetKind: target.kind,
      targetValue: target.value,
      targetName: null,
      transferId: null,
      amountMinor: null,
      currency: null,
      transferredAt: null,
      parentTaskId: null,
      depth: 1,
      dueAt: dueAt(kind, p.now, p.dueMinutes),
      openBlockingKey: key,
      payment: null,
    });
  }
  return drafts;
}

/**
 * A report's tasks: an interception per transfer, a blocking task per indicator. An account that
 * is also a transfer's receiving account is chased by its interception, not frozen a second time.
 */
export function planReport(
  report: { reportId: string; transfers: TransferToChase[]; indicators: { kind: IndicatorKind; value: string }[] },
  p: Planning,
): TaskDraft[] {
  const intercepted = new Set(report.transfers.map((t) => t.toAccount));
  return [
    ...planInterceptions(report.transfers, { reportId: report.reportId, parentTaskId: null, depth: 1 }, p),
    ...planBlocking(report.indicators.filter((i) => !(i.kind === 'bank_account' && intercepted.has(i.value))), report.reportId, p),
  ];
}

/**
 * Onward transfers named by a result become interceptions one layer down, while the trail may go
 * deeper; beyond the cap they are kept on the result only (`depthReached`).
 */
export function planOnward(
  parent: { id: string; reportId: string | null; depth: number; currency: string },
  onward: { toAccount: string; toAccountName?: string | null; toInstitutionId?: string | null; amountMinor: number; transferredAt?: string | null }[],
  maxTrailDepth: number,
  p: Planning,
): { drafts: TaskDraft[]; depthReached: boolean } {
  if (onward.length === 0) return { drafts: [], depthReached: false };
  const depth = parent.depth + 1;
  if (depth > maxTrailDepth) return { drafts: [], depthReached: true };
  const transfers = onward.map((t): TransferToChase => ({
    transferId: null,
    toAccount: t.toAccount,
    toAccountName: t.toAccountName ?? null,
    toInstitutionId: t.toInstitutionId ?? null,
    amountMinor: t.amountMinor,
    currency: parent.currency,
    transferredAt: t.transferredAt ? new Date(t.transferredAt) : null,
  }));
  return { drafts: planInterceptions(transfers, { reportId: parent.reportId, parentTaskId: parent.id, depth }, p), depthReached: false };
}

/** A task asked for by kind and target (by staff, or by a caller with its own reason). */
export type TaskRequest = {
  kind: TaskKind;
  reportId?: string | null;
  targetKind: IndicatorKind;
  targetValue: string;
  targetName?: string | null;
  amountMinor?: number | null;
  currency?: string | null;
  transferredAt?: Date | null;
  parentTaskId?: string | null;
  depth?: number;
  /** Money tasks: the receiving institution named, when known. */
  toInstitutionId?: string | null;
  /**
   * The institution that must do it, whatever the routes say (a return is paid by the bank that
   * holds the money); unrouted when it is no longer an active partner.
   */
  atInstitutionId?: string;
};

/** Requests routed and timed like any other task of their kind. */
export function planRequests(requests: TaskRequest[], p: Planning): TaskDraft[] {
  return requests.map((r) => {
    const family = familyOf(r.kind);
    const institutionId = r.atInstitutionId !== undefined
      ? (p.routing.partners.has(r.atInstitutionId) ? r.atInstitutionId : null)
      : family === 'money'
        ? routeTransfer(p.routing.route, r.targetValue, r.toInstitutionId, p.routing.partners)
        : p.routing.route(r.targetKind, r.targetValue);
    const target = { kind: r.targetKind, value: r.targetValue };
    return {
      kind: r.kind,
      family,
      reportId: r.reportId ?? null,
      institutionId,
      targetKind: r.targetKind,
      targetValue: r.targetValue,
      targetName: r.targetName ?? null,
      transferId: null,
      amountMinor: r.amountMinor ?? null,
      currency: r.amountMinor == null ? null : (r.currency ?? null),
      transferredAt: r.transferredAt ?? null,
      parentTaskId: r.parentTaskId ?? null,
      depth: r.depth ?? 1,
      dueAt: dueAt(r.kind, p.now, p.dueMinutes),
      openBlockingKey: family === 'blocking' ? openBlockingKey(r.kind, institutionId, target) : null,
      payment: null,
    };
  });
}

/** An indicator a feed touched, with what the blocking rule weighs. */
export type SightingFacts = IndicatorFacts & { kind: IndicatorKind; value: string };

/** Blocking tasks for the indicators a feed made worth a partner's time (see blockingDecision). */
export function planFromSightings(facts: SightingFacts[], rule: BlockingRule, p: Planning): TaskDraft[] {
  return planBlocking(facts.filter((f) => blockingDecision(f, rule).create), null, p);
}

/** A flagged payment: its payer, to be called by the payer's bank, and what was screened. */
export type PaymentToWarn = {
  payerAccount: string;
  payerName: string | null;
  amountMinor: number;
  currency: string;
  payment: ScreenedPayment;
};

/** One warn_payer task per flagged payment, at the bank the payer's account routes to (bank_account routes). */
export function planWarnings(payments: PaymentToWarn[], p: Planning): TaskDraft[] {
  return payments.map((w) => ({
    kind: WARNING_KIND,
    family: familyOf(WARNING_KIND),
    reportId: null,
    institutionId: p.routing.route('bank_account', w.payerAccount),
    targetKind: 'bank_account',
    targetValue: w.payerAccount,
    targetName: w.payerName,
    transferId: null,
    amountMinor: w.amountMinor,
    currency: w.currency,
    transferredAt: null,
    parentTaskId: null,
    depth: 1,
    dueAt: dueAt(WARNING_KIND, p.now, p.dueMinutes),
    openBlockingKey: null,
    payment: w.payment,
  }));
}
