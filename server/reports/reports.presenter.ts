import type { ErrorDetail } from '../errors';
import { CHANNELS, FRAUD_TYPES, INDICATOR_KINDS, OPEN_TASK_STATUSES, REPORT_STATUSES } from '../domain/kinds';
import { formatMinor } from '../domain/money';
import type { Task } from '../tasks/tasks.repo';
import { blockingKindFor } from '../domain/task-kinds';
import { field, formRows, type PageLocals } from '../pages/shell';
import type { Translate } from '../i18n/i18n';
import { amountOrProblem, notDateTime } from '../pages/messages';
import { countdownText, formatDateTime, localToIso } from '../pages/format';
import { presentTimeline } from '../audit/timeline.presenter';
import type { ReportDetail } from './reports.service';
import type { Report } from './reports.repo';

// ---- the new-report form -------------------------------------------------------------------

export type TransferRow = { toInstitutionId: string; toAccount: string; toAccountName: string; amount: string; transferredAt: string };
export type IndicatorRow = { kind: string; value: string };

/** Everything the officer typed, as typed: what goes back into the form when something needs fixing. */
export type ReportForm = {
  channel: string; fraudType: string; occurredAt: string; narrative: string;
  victimName: string; victimPhone: string; victimIdNumber: string;
  transfers: TransferRow[]; indicators: IndicatorRow[];
  idempotencyKey: string;
};

const BLANK_TRANSFERS = 3;
const BLANK_INDICATORS = 3;
const blankTransfer = (): TransferRow => ({ toInstitutionId: '', toAccount: '', toAccountName: '', amount: '', transferredAt: '' });
const blankIndicator = (): IndicatorRow => ({ kind: 'phone', value: '' });

export function emptyReportForm(idempotencyKey: string): ReportForm {
  return {
    channel: 'hotline', fraudType: '', occurredAt: '', narrative: '', victimName: '', victimPhone: '', victimIdNumber: '',
    transfers: Array.from({ length: BLANK_TRANSFERS }, blankTransfer),
    indicators: Array.from({ length: BLANK_INDICATORS }, blankIndicator),
    idempotencyKey,
  };
}

export function readReportForm(body: Record<string, string | string[]>): ReportForm {
  const one = (k: string) => field(body, k);
  return {
    channel: one('channel'), fraudType: one('fraudType'), occurredAt: one('occurredAt'), narrative: one('narrative'),
    victimName: one('victim.name'), victimPhone: one('victim.phone'), victimIdNumber: one('victim.idNumber'),
    transfers: formRows(body, 'transfers', blankTransfer),
    indicators: formRows(body, 'indicators', blankIndicator),
    idempotencyKey: one('idempotencyKey'),
  };
}

const isBlank = (row: Record<string, string>, ignore: string[] = []) =>
  Object.entries(row).every(([k, v]) => ignore.includes(k) || v.trim() === '');

/**
 * Builds the body of POST /api/v1/reports from the form: amounts typed in yuan become exact minor
 * units, local times become instants, blank rows are dropped. `rowOf` maps an index in the body
 * back to the form row it came from, so a detail at transfers.0.amountMinor lands beside that row.
 */
export function toCreateReportInput(form: ReportForm, currency: string, timeZone: string, t?: Translate) {
  const problems: ErrorDetail[] = [];
  const transferRows: number[] = [];
  const indicatorRows: number[] = [];
  const opt = (s: string) => (s.trim() === '' ? undefined : s);
  const time = (value: string, path: string): string | undefined => {
    if (value.trim() === '') return undefined;
    const iso = localToIso(value, timeZone);
    if (!iso) problems.push({ path, message: notDateTime(t) });
    return iso;
  };

  const transfers = form.transfers.flatMap((row, i) => {
    if (isBlank(row)) return [];
    transferRows.push(i);
    const amountMinor = amountOrProblem(row.amount, currency, `transfers.${i}.amount`, problems, t);
    return [{
      toAccount: row.toAccount,
      toAccountName: opt(row.toAccountName),
      toInstitutionId: opt(row.toInstitutionId),
      amountMinor,
      transferredAt: time(row.transferredAt, `transfers.${i}.transferredAt`),
    }];
  });
  const indicators = form.indicators.flatMap((row, i) => {
    if (isBlank(row, ['kind'])) return [];
    indicatorRows.push(i);
    return [{ kind: row.kind, value: row.value }];
  });

  const input = {
    channel: form.channel,
    fraudType: form.fraudType,
    occurredAt: form.occurredAt.trim() === '' ? '' : time(form.occurredAt, 'occurredAt') ?? '',
    victim: { name: form.victimName, phone: opt(form.victimPhone), idNumber: opt(form.victimIdNumber) },
    narrative: form.narrative,
    currency,
    transfers,
    indicators,
  };

  /** A detail about the API body, re-addressed to the form field it is about. */
  const toFormPath = (path: string): string => {
    const m = /^(transfers|indicators)\.(\d+)(?:\.(\w+))?/.exec(path);
    if (!m) return path;
    const rows = m[1] === 'transfers' ? transferRows : indicatorRows;
    const formIndex = rows[Number(m[2])] ?? Number(m[2]);
    const field = m[3] === 'amountMinor' ? 'amount' : m[3];
    return field ? `${m[1]}.${formIndex}.${field}` : `${m[1]}.${formIndex}`;
  };
  return { input, problems, toFormPath };
}

// ---- view models ---------------------------------------------------------------------------

type Option = { value: string; label: string; selected: boolean };
type InstitutionOption = { id: string; name: string };

const options = (values: readonly string[], selected: string, prefix: string, t: PageLocals['t']): Option[] =>
  values.map((v) => ({ value: v, label: t(`${prefix}.${v}`), selected: v === selected }));

/** The first message for each field; anything that matches no field is listed at the top. */
function errorsByField(details: ErrorDetail[]) {
  const byPath = new Map<string, string>();
  for (const d of details) if (!byPath.has(d.path)) byPath.set(d.path, d.message);
  return byPath;
}

const TOP_FIELDS: Record<string, string> = {
  channel: 'channel', fraudType: 'fraudType', occurredAt: 'occurredAt', narrative: 'narrative',
  'victim.name': 'victimName', 'victim.phone': 'victimPhone', 'victim.idNumber': 'victimIdNumber', victim: 'victimName',
};

export function presentReportForm(
  form: ReportForm, institutions: InstitutionOption[], details: ErrorDetail[], l: PageLocals, focus?: { group: RowGroup; index: number },
) {
  const byPath = errorsByField(details);
  const used = new Set<string>();
  const take = (path: string) => { const m = byPath.get(path); if (m) used.add(path); return m; };

  const errors: Record<string, string | undefined> = {};
  for (const [path, key] of Object.entries(TOP_FIELDS)) errors[key] ??= take(path);
  errors.transfers = take('transfers');
  errors.indicators = take('indicators');

  const transferRows = form.transfers.length ? form.transfers : [blankTransfer()];
  const transfers = transferRows.map((row, i) => ({
    index: i,
    focus: focus?.group === 'transfers' && focus.index === i,
    ...row,
    institutions: institutions.map((inst) => ({ value: inst.id, label: `${inst.name} (${inst.id})`, selected: inst.id === row.toInstitutionId })),
    errors: Object.fromEntries(
      ['toInstitutionId', 'toAccount', 'toAccountName', 'amount', 'transferredAt'].map((f) => [f, take(`transfers.${i}.${f}`)]),
    ),
  }));
  const indicatorRows = form.indicators.length ? form.indicators : [blankIndicator()];
  const indicators = indicatorRows.map((row, i) => ({
    index: i,
    focus: focus?.group === 'indicators' && focus.index === i,
    ...row,
    kinds: options(INDICATOR_KINDS, row.kind, 'indicatorKind', l.t),
    errors: { kind: take(`indicators.${i}.kind`), value: take(`indicators.${i}.value`) },
  }));
  for (const [i, row] of transfers.entries()) {
    const e = take(`transfers.${i}`);
    if (e) row.errors.toAccount ??= e;
  }
  const other = [...byPath].filter(([p]) => !used.has(p)).map(([path, message]) => ({ path, message }));

  return {
    form,
    channels: options(CHANNELS, form.channel, 'channel', l.t),
    fraudTypes: options(FRAUD_TYPES, form.fraudType, 'fraudType', l.t),
    transfers,
    indicators,
    errors,
    otherErrors: other,
    hasErrors: details.length > 0,
  };
}

/** Most rows a form grows to by "Add a row" without JavaScript (the API takes at most 100 transfers). */
export const MAX_FORM_ROWS = 100;

export type RowGroup = 'transfers' | 'indicators';
export const isRowGroup = (v: string): v is RowGroup => v === 'transfers' || v === 'indicators';

/** "Add a row" pressed in a browser without JavaScript: one more blank row in that group, and its place. */
export function withAddedRow(form: ReportForm, group: RowGroup): { form: ReportForm; focus: { group: RowGroup; index: number } } {
  const rows: (TransferRow | IndicatorRow)[] = form[group];
  const grown = rows.length >= MAX_FORM_ROWS ? rows : [...rows, group === 'transfers' ? blankTransfer() : blankIndicator()];
  return { form: { ...form, [group]: grown }, focus: { group, index: grown.length - 1 } };
}

/** A form with the blank rows a browser without JavaScript needs to add more. */
export function withSpareRows(form: ReportForm): ReportForm {
  // Rows keep their positions: error paths (transfers.1.amount) name rows by their index in the form.
  const last = <T>(rows: T[]) => rows[rows.length - 1];
  const lastT = last(form.transfers);
  const lastI = last(form.indicators);
  return {
    ...form,
    transfers: lastT && isBlank(lastT) ? form.transfers : [...form.transfers, blankTransfer()],
    indicators: lastI && isBlank(lastI, ['kind']) ? form.indicators : [...form.indicators, blankIndicator()],
  };
}

const statusClass = (task: Pick<Task, 'status' | 'overdue'>) => (task.overdue ? 'overdue' : task.status);

export function presentTaskLine(task: Task, institutionName: (id: string | null) => string, l: PageLocals, now: Date) {
  const currency = task.currency ?? l.currency;
  return {
    id: task.id,
    kind: task.kind,
    status: task.status,
    statusClass: statusClass(task),
    overdue: task.overdue,
    open: OPEN_TASK_STATUSES.includes(task.status),
    institution: institutionName(task.institutionId),
    unrouted: task.status === 'unrouted',
    target: task.target.value,
    targetKind: task.target.kind,
    targetName: task.target.name ?? '',
    amount: task.amountMinor === null ? '' : formatMinor(task.amountMinor, currency, l.lang),
    dueAt: task.dueAt,
    dueText: formatDateTime(task.dueAt, l.lang, l.timeZone),
    countdown: countdownText(task.dueAt, now, l.t),
    outcome: task.result?.outcome ?? '',
    frozen: task.result && task.result.frozenMinor > 0 ? formatMinor(task.result.frozenMinor, currency, l.lang) : '',
    depth: task.depth,
  };
}

type TrailNode = ReturnType<typeof presentTaskLine> & { children: TrailNode[] };

/** Layer-1 interceptions (one per reported transfer), each with the onward hops found after it. */
export function moneyTrail(tasks: Task[], line: (t: Task) => ReturnType<typeof presentTaskLine>): TrailNode[] {
  const intercepts = tasks.filter((t) => t.family === 'money');
  const ids = new Set(intercepts.map((t) => t.id));
  const childrenOf = new Map<string, Task[]>();
  for (const t of intercepts) {
    if (t.parentTaskId && ids.has(t.parentTaskId)) {
      const list = childrenOf.get(t.parentTaskId) ?? [];
      list.push(t);
      childrenOf.set(t.parentTaskId, list);
    }
  }
  const build = (t: Task, seen: Set<string>): TrailNode => ({
    ...line(t),
    children: seen.has(t.id) ? [] : (childrenOf.get(t.id) ?? []).map((c) => build(c, new Set([...seen, t.id]))),
  });
  return intercepts.filter((t) => !t.parentTaskId || !ids.has(t.parentTaskId)).map((t) => build(t, new Set()));
}

/**
 * The report's blocking work: the tasks it opened, the open tasks of earlier reports it was linked
 * to (its indicator had one already), and its indicators that were already blocked.
 */
function blockingLines(report: ReportDetail, line: (t: Task) => ReturnType<typeof presentTaskLine>) {
  const joined = new Map(report.joinedTasks.map((t) => [t.id, t]));
  const own = report.tasks.filter((t) => t.family === 'blocking').map((t) => ({ ...line(t), joined: false, alreadyBlocked: false }));
  const covered = report.indicators.flatMap((ind) => {
    if (ind.blocking === 'joined' && ind.blockingTaskId && joined.has(ind.blockingTaskId)) {
      return [{ ...line(joined.get(ind.blockingTaskId)!), joined: true, alreadyBlocked: false }];
    }
    if (ind.blocking === 'already_blocked') {
      return [{ kind: blockingKindFor(ind.kind), target: ind.value, targetKind: ind.kind, joined: false, alreadyBlocked: true }];
    }
    return [];
  });
  return [...own, ...covered];
}

export function presentReportDetail(report: ReportDetail, institutions: Map<string, string>, l: PageLocals, now = new Date()) {
  const name = (id: string | null) => (id ? `${institutions.get(id) ?? id}` : '');
  const line = (t: Task) => presentTaskLine(t, name, l, now);
  const money = (m: number) => formatMinor(m, report.currency, l.lang);
  return {
    id: report.id,
    caseNumber: report.caseNumber,
    status: report.status,
    closed: report.status === 'closed',
    closedAt: formatDateTime(report.closedAt, l.lang, l.timeZone),
    closedReason: report.closedReason ?? '',
    channel: report.channel,
    fraudType: report.fraudType,
    occurredAt: formatDateTime(report.occurredAt, l.lang, l.timeZone),
    createdAt: formatDateTime(report.createdAt, l.lang, l.timeZone),
    victim: report.victim,
    narrative: report.narrative,
    reportedLoss: money(report.reportedLossMinor),
    trail: moneyTrail(report.tasks, line),
    blocking: blockingLines(report, line),
    indicators: report.indicators,
    linked: report.linkedReports.map((r) => ({ ...r, createdAt: formatDateTime(r.createdAt, l.lang, l.timeZone) })),
    events: presentTimeline(report.events, l),
  };
}

export function presentReportRow(r: Report, l: PageLocals) {
  return {
    id: r.id,
    caseNumber: r.caseNumber,
    status: r.status,
    fraudType: r.fraudType,
    channel: r.channel,
    victimName: r.victim.name,
    reportedLoss: formatMinor(r.reportedLossMinor, r.currency, l.lang),
    createdAt: formatDateTime(r.createdAt, l.lang, l.timeZone),
  };
}

export const reportFilterOptions = (q: { status?: string; fraudType?: string }, l: PageLocals) => ({
  statuses: options(REPORT_STATUSES, q.status ?? '', 'status', l.t),
  fraudTypes: options(FRAUD_TYPES, q.fraudType ?? '', 'fraudType', l.t),
});

