import type { ErrorDetail } from '../errors';
import { formatMinor, formatMinorPlain } from '../domain/money';
import type { Translate } from '../i18n/i18n';
import { amountOrProblem } from '../pages/messages';
import { formatDateTime } from '../pages/format';
import type { PageLocals } from '../pages/shell';
import type { DisputeOut, HoldDetail, HoldOut, SplitOut } from './holds.schemas';

// Holds as the pages show them: amounts formatted from integer minor units, clocks as countdowns,
// and each form with what was typed and why it was refused. Templates only show these values.

/** The forms a hold carries on the pages; a refused one comes back with what was typed. */
export const HOLD_FORMS = ['renew', 'release', 'return', 'split', 'dispute', 'decision'] as const;
export type HoldFormKind = (typeof HOLD_FORMS)[number];

export type SplitRow = { reportId: string; amount: string; victimAccount: string; victimAccountName: string };

/** A refused form: which hold (or dispute) it was for, what was typed, and the message per field. */
export type HoldFormState = {
  kind: HoldFormKind;
  holdId: string;
  disputeId?: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  rows?: SplitRow[];
  rowErrors?: Record<string, string>[];
};

/** "3 d 4 h", "5 h 10 min", "12 min": a span long enough for legal clocks. */
function span(ms: number, t: Translate): string {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return t('holds.days', { d, h });
  if (h > 0) return t('holds.hoursMinutes', { h, m });
  return t('holds.minutes', { m });
}

/** "expires in 1 d 23 h" / "lapsed 5 min ago". */
export function expiryCountdown(expiresAt: string, now: Date, t: Translate): string {
  const diff = Date.parse(expiresAt) - now.getTime();
  return diff >= 0 ? t('holds.expiresIn', { span: span(diff, t) }) : t('holds.lapsedAgo', { span: span(diff, t) });
}

/** "due in 2 d 23 h" / "overdue by 4 h 2 min": a dispute's decision clock. */
export function disputeCountdown(dueAt: string, now: Date, t: Translate): string {
  const diff = Date.parse(dueAt) - now.getTime();
  return diff >= 0 ? t('holds.dueIn', { span: span(diff, t) }) : t('holds.overdueBy', { span: span(diff, t) });
}

/** Basis points as a percent with two decimals ("12.34%"), by integer arithmetic only. */
export function basisPointsText(bp: number | bigint | null): string | null {
  if (bp === null) return null;
  const whole = BigInt(bp);
  const sign = whole < 0n ? '-' : '';
  const abs = whole < 0n ? -whole : whole;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}%`;
}

const money = (m: number, currency: string, l: PageLocals) => formatMinor(m, currency, l.lang);

export function presentDispute(d: DisputeOut, l: PageLocals, now: Date, form?: HoldFormState) {
  const mine = form?.kind === 'decision' && form.disputeId === d.id ? form : undefined;
  return {
    id: d.id,
    holdId: d.holdId,
    reportId: d.reportId,
    caseNumber: d.caseNumber ?? '',
    institutionId: d.institutionId,
    claimantName: d.claimantName,
    reason: d.reason,
    amount: money(d.amountMinor, d.currency, l),
    amountPlain: formatMinorPlain(d.amountMinor, d.currency),
    status: d.status,
    open: d.status === 'open',
    overdue: d.overdue,
    dueAt: d.dueAt,
    dueText: formatDateTime(d.dueAt, l.lang, l.timeZone),
    countdown: disputeCountdown(d.dueAt, now, l.t),
    released: d.releasedMinor === null ? '' : money(d.releasedMinor, d.currency, l),
    decisionReason: d.decisionReason ?? '',
    form: {
      decision: mine?.values.decision ?? '',
      releaseChosen: mine?.values.decision === 'release',
      rejectChosen: mine?.values.decision === 'reject',
      amount: mine?.values.amount ?? '',
      reason: mine?.values.reason ?? '',
      errors: mine?.errors ?? {},
    },
  };
}

/** A hold's figures, clock and state, for a row of the holds page. */
export function presentHoldLine(h: HoldOut, institutionName: string, l: PageLocals, now: Date) {
  const active = h.status === 'active';
  return {
    id: h.id,
    reportId: h.reportId,
    caseNumber: h.caseNumber ?? '',
    account: h.account,
    accountName: h.accountName ?? '',
    institution: institutionName,
    frozen: money(h.frozenMinor, h.currency, l),
    released: money(h.releasedMinor, h.currency, l),
    returned: money(h.returnedMinor, h.currency, l),
    balance: money(h.balanceMinor, h.currency, l),
    reserved: h.reservedMinor > 0 ? money(h.reservedMinor, h.currency, l) : '',
    available: money(h.availableMinor, h.currency, l),
    availablePlain: formatMinorPlain(h.availableMinor, h.currency),
    hasAvailable: active && h.availableMinor > 0,
    stage: h.stage,
    status: h.status,
    active,
    stopPayment: h.stage === 'stop_payment',
    expiresAt: h.expiresAt,
    expiresText: formatDateTime(h.expiresAt, l.lang, l.timeZone),
    countdown: active ? expiryCountdown(h.expiresAt, now, l.t) : '',
    expiringSoon: h.expiringSoon,
    renewals: h.renewals,
    renewalsLeft: h.renewalsLeft === null ? l.t('holds.renewalsUnlimited') : l.t('holds.renewalsLeft', { count: h.renewalsLeft }),
    canRenew: active && (h.stage === 'stop_payment' || h.renewalsLeft === null),
    canRenewSameStage: active && h.renewalsLeft !== 0,
  };
}

/** The proposed split, or the officer's edited rows when the form came back refused. */
function presentSplit(split: SplitOut, l: PageLocals, form?: HoldFormState) {
  const typed = form?.kind === 'split' ? form : undefined;
  return {
    available: money(split.availableMinor, split.currency, l),
    rows: split.shares.map((s, i) => {
      const row = typed?.rows?.[i];
      return {
        index: i,
        reportId: s.reportId,
        caseNumber: s.caseNumber,
        victimName: s.victimName,
        transferred: money(s.transferredMinor, split.currency, l),
        share: money(s.shareMinor, split.currency, l),
        amount: row ? row.amount : formatMinorPlain(s.shareMinor, split.currency),
        victimAccount: row?.victimAccount ?? '',
        victimAccountName: row ? row.victimAccountName : s.victimName,
        errors: typed?.rowErrors?.[i] ?? {},
      };
    }),
    errors: typed?.errors ?? {},
  };
}

/**
 * A hold on the report page: its figures, returns and disputes, the split proposal when several
 * victims paid into the held account, and each form with what was typed when it was refused.
 */
export function presentReportHold(h: HoldDetail, split: SplitOut | null, institutionName: string, l: PageLocals, now: Date, form?: HoldFormState) {
  const mine = form && form.holdId === h.id ? form : undefined;
  const values = (kind: HoldFormKind) => (mine?.kind === kind ? mine.values : {});
  const errors = (kind: HoldFormKind) => (mine?.kind === kind ? mine.errors : {});
  const line = presentHoldLine(h, institutionName, l, now);
  return {
    ...line,
    returns: h.returns.map((r) => ({
      id: r.id,
      amount: money(r.amountMinor, h.currency, l),
      returned: r.returnedMinor === null ? '' : money(r.returnedMinor, h.currency, l),
      status: r.status,
      victimAccount: r.victimAccount,
      victimAccountName: r.victimAccountName ?? '',
      createdAt: formatDateTime(r.createdAt, l.lang, l.timeZone),
    })),
    disputes: h.disputes.map((d) => presentDispute({ ...d, currency: d.currency || h.currency }, l, now, form)),
    split: split && split.shares.length > 1 && line.hasAvailable ? presentSplit(split, l, mine) : null,
    forms: {
      renew: { reason: values('renew').reason ?? '', errors: errors('renew') },
      release: { amount: values('release').amount ?? '', reason: values('release').reason ?? '', errors: errors('release') },
      return: {
        amount: values('return').amount ?? '', victimAccount: values('return').victimAccount ?? '',
        victimAccountName: values('return').victimAccountName ?? '', note: values('return').note ?? '', errors: errors('return'),
      },
      dispute: {
        claimantName: values('dispute').claimantName ?? '', amount: values('dispute').amount ?? '', reason: values('dispute').reason ?? '',
        errors: errors('dispute'),
      },
    },
  };
}

// ---- reading the forms into the API's bodies ----------------------------------------------------

type Read<T> = { body: T | undefined; errors: Record<string, string> };

const text = (v: string | undefined) => (v ?? '').trim();

/** A required amount in yuan as minor units; its problem lands beside the field. */
function amountField(raw: string, currency: string, errors: Record<string, string>, t: Translate, key = 'amount'): number | undefined {
  if (text(raw) === '') {
    errors[key] = t('holds.enterAmount');
    return undefined;
  }
  const problems: ErrorDetail[] = [];
  const minor = amountOrProblem(raw, currency, key, problems, t);
  if (problems[0]) errors[key] = problems[0].message;
  else if (minor !== undefined && minor <= 0) errors[key] = t('holds.enterAmount');
  return minor;
}

function reasonField(raw: string, errors: Record<string, string>, t: Translate): string {
  if (text(raw) === '') errors.reason = t('cases.reasonRequired');
  return text(raw);
}

export function readRenew(values: Record<string, string>, t: Translate): Read<{ reason: string; stage?: 'freeze' }> {
  const errors: Record<string, string> = {};
  const reason = reasonField(values.reason ?? '', errors, t);
  const body = { reason, ...(values.stage === 'freeze' ? { stage: 'freeze' as const } : {}) };
  return { body: Object.keys(errors).length ? undefined : body, errors };
}

/** `all` releases what is free now; otherwise the amount typed. */
export function readRelease(values: Record<string, string>, availableMinor: number, currency: string, t: Translate): Read<{ amountMinor: number; reason: string }> {
  const errors: Record<string, string> = {};
  const reason = reasonField(values.reason ?? '', errors, t);
  const amountMinor = values.all === '1' ? availableMinor : amountField(values.amount ?? '', currency, errors, t);
  if (values.all === '1' && availableMinor <= 0) errors.amount = t('holds.aboveBalance');
  return { body: Object.keys(errors).length || amountMinor === undefined ? undefined : { amountMinor, reason }, errors };
}

export function readReturn(values: Record<string, string>, currency: string, t: Translate): Read<{ amountMinor: number; victimAccount: string; victimAccountName?: string; note?: string }> {
  const errors: Record<string, string> = {};
  const amountMinor = amountField(values.amount ?? '', currency, errors, t);
  const victimAccount = text(values.victimAccount);
  if (!victimAccount) errors.victimAccount = t('holds.required');
  const body = {
    amountMinor: amountMinor ?? 0, victimAccount,
    ...(text(values.victimAccountName) ? { victimAccountName: text(values.victimAccountName) } : {}),
    ...(text(values.note) ? { note: text(values.note) } : {}),
  };
  return { body: Object.keys(errors).length ? undefined : body, errors };
}

export function readDispute(values: Record<string, string>, currency: string, t: Translate): Read<{ claimantName: string; reason: string; amountMinor: number }> {
  const errors: Record<string, string> = {};
  const claimantName = text(values.claimantName);
  if (!claimantName) errors.claimantName = t('holds.required');
  const amountMinor = amountField(values.amount ?? '', currency, errors, t);
  const reason = reasonField(values.reason ?? '', errors, t);
  return { body: Object.keys(errors).length || amountMinor === undefined ? undefined : { claimantName, reason, amountMinor }, errors };
}

export function readDecision(values: Record<string, string>, currency: string, t: Translate): Read<{ decision: 'release' | 'reject'; amountMinor?: number; reason: string }> {
  const errors: Record<string, string> = {};
  const decision = values.decision === 'release' || values.decision === 'reject' ? values.decision : undefined;
  if (!decision) errors.decision = t('holds.chooseDecision');
  let amountMinor: number | undefined;
  if (text(values.amount) !== '') {
    if (decision === 'reject') errors.amount = t('holds.noAmountOnReject');
    else amountMinor = amountField(values.amount ?? '', currency, errors, t);
  }
  const reason = reasonField(values.reason ?? '', errors, t);
  if (Object.keys(errors).length || !decision) return { body: undefined, errors };
  return { body: { decision, reason, ...(amountMinor !== undefined ? { amountMinor } : {}) }, errors };
}

/** The split's rows: those with an amount need an account; blank rows are left out. */
export function readSplit(rows: SplitRow[], currency: string, t: Translate) {
  const rowErrors: Record<string, string>[] = rows.map(() => ({}));
  const orders: { row: number; amountMinor: number; victimAccount: string; victimAccountName?: string; note: string }[] = [];
  rows.forEach((row, i) => {
    const errors = rowErrors[i]!;
    if (text(row.amount) === '' && text(row.victimAccount) === '') return;
    const amountMinor = amountField(row.amount, currency, errors, t);
    if (!text(row.victimAccount)) errors.victimAccount = t('holds.required');
    if (amountMinor !== undefined && !Object.keys(errors).length) {
      orders.push({
        row: i, amountMinor, victimAccount: text(row.victimAccount),
        ...(text(row.victimAccountName) ? { victimAccountName: text(row.victimAccountName) } : {}),
        note: `split ${row.reportId}`,
      });
    }
  });
  const errors: Record<string, string> = {};
  const failed = rowErrors.some((e) => Object.keys(e).length > 0);
  if (!failed && orders.length === 0) errors.split = t('holds.splitEmpty');
  return { orders: failed || orders.length === 0 ? [] : orders, rowErrors, errors };
}

/** A service's refusal beside the field it is about, in the reader's language where it is a known one. */
export function fieldOfDetail(path: string): string {
  if (path === 'amountMinor') return 'amount';
  return path.split('.')[0] ?? path;
}
