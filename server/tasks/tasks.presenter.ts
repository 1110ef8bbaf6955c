import type { ErrorDetail } from '../errors';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { formatMinor, formatMinorPlain } from '../domain/money';
import { compareUrgency } from '../domain/tasks';
import { isBlockingTask, kindSpec } from '../domain/task-kinds';
import { field, formRows, type PageLocals } from '../pages/shell';
import type { Translate } from '../i18n/i18n';
import { amountOrProblem, notDateTime } from '../pages/messages';
import { countdownText, formatDateTime, localToIso } from '../pages/format';
import { TASK_VIEWS, type Task } from './tasks.repo';
import { TASK_KINDS } from '../domain/kinds';

/** The inbox order the room works in: soonest due first, then the most money at stake. */
export function byUrgency(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) =>
    compareUrgency(
      { dueAt: new Date(a.dueAt), amountMinor: a.amountMinor, createdAt: new Date(a.createdAt) },
      { dueAt: new Date(b.dueAt), amountMinor: b.amountMinor, createdAt: new Date(b.createdAt) },
    ),
  );
}

/** Blocking tasks that can be closed as "blocked" in one go from the inbox. */
export const canBulkBlock = (task: Task) =>
  isBlockingTask(task.kind) && kindSpec(task.kind).outcomes.includes('blocked') && OPEN_TASK_STATUSES.includes(task.status);

/**
 * A task as a partner sees it: what to act on and by when. Of its report it carries only the case
 * number (the reference for the partner's paperwork), so no victim identity reaches a liaison's page.
 */
export function presentTask(task: Task, l: PageLocals, now = new Date()) {
  const currency = task.currency ?? l.currency;
  return {
    id: task.id,
    caseNumber: task.caseNumber ?? '',
    kind: task.kind,
    status: task.status,
    statusClass: task.overdue ? 'overdue' : task.status,
    overdue: task.overdue,
    open: OPEN_TASK_STATUSES.includes(task.status),
    target: task.target.value,
    targetKind: task.target.kind,
    targetName: task.target.name ?? '',
    amount: task.amountMinor === null ? '' : formatMinor(task.amountMinor, currency, l.lang),
    transferredAt: formatDateTime(task.transferredAt, l.lang, l.timeZone),
    dueAt: task.dueAt,
    dueText: formatDateTime(task.dueAt, l.lang, l.timeZone),
    countdown: countdownText(task.dueAt, now, l.t),
    depth: task.depth,
    version: task.version,
    bulk: canBulkBlock(task),
    outcome: task.result?.outcome ?? '',
    frozen: task.result && task.result.frozenMinor > 0 ? formatMinor(task.result.frozenMinor, currency, l.lang) : '',
    note: task.result?.note ?? '',
    // warn_payer: what the payer is about to pay, and why the center flagged it.
    payment: task.payment && {
      ref: task.payment.ref,
      screenedBy: task.payment.screenedBy,
      decision: task.payment.decision,
      payeeKind: task.payment.payee.kind,
      payee: task.payment.payee.value,
      payeeStatus: task.payment.payee.status,
      reportCount: task.payment.payee.reportCount,
    },
  };
}

// ---- the staff task list's filters --------------------------------------------------------

export type TaskListForm = { view: string; institutionId: string; kind: string; from: string; to: string };

/** The filter form of the staff task list, with what was asked selected. */
export function taskListFilters(form: TaskListForm, institutions: { id: string; name: string }[], l: PageLocals) {
  return {
    filters: form,
    views: TASK_VIEWS.map((v) => ({ value: v, label: l.t(`taskList.view.${v}`), selected: v === form.view })),
    institutions: institutions.map((i) => ({ value: i.id, label: `${i.name} (${i.id})`, selected: i.id === form.institutionId })),
    kinds: TASK_KINDS.map((k) => ({ value: k, label: l.t(`taskKind.${k}`), selected: k === form.kind })),
  };
}

// ---- the result form ------------------------------------------------------------------------

export type OnwardRow = { toAccount: string; toAccountName: string; toInstitutionId: string; amount: string; transferredAt: string };
export type ResultForm = { outcome: string; frozen: string; returned: string; note: string; version: string; onward: OnwardRow[] };

const blankOnward = (): OnwardRow => ({ toAccount: '', toAccountName: '', toInstitutionId: '', amount: '', transferredAt: '' });
const isBlank = (r: OnwardRow) => Object.values(r).every((v) => v.trim() === '');

export function emptyResultForm(task: Task): ResultForm {
  return { outcome: '', frozen: '', returned: '', note: '', version: String(task.version), onward: [blankOnward(), blankOnward()] };
}

export function readResultForm(body: Record<string, string | string[]>): ResultForm {
  const one = (k: string) => field(body, k);
  return {
    outcome: one('outcome'), frozen: one('frozen'), returned: one('returned'), note: one('note'), version: one('version'),
    onward: formRows(body, 'onward', blankOnward),
  };
}

/** The body of POST /api/v1/tasks/:id/result from the form; yuan become exact minor units. */
export function toResultBody(form: ResultForm, currency: string, timeZone: string, t?: Translate) {
  const problems: ErrorDetail[] = [];
  const rowOf: number[] = [];
  const money = (text: string, path: string) => amountOrProblem(text, currency, path, problems, t);
  const onwardTransfers = form.onward.flatMap((row, i) => {
    if (isBlank(row)) return [];
    rowOf.push(i);
    const at = row.transferredAt.trim() ? localToIso(row.transferredAt, timeZone) : undefined;
    if (row.transferredAt.trim() && !at) problems.push({ path: `onward.${i}.transferredAt`, message: notDateTime(t) });
    return [{
      toAccount: row.toAccount,
      toAccountName: row.toAccountName.trim() || undefined,
      toInstitutionId: row.toInstitutionId || undefined,
      amountMinor: money(row.amount, `onward.${i}.amount`),
      transferredAt: at,
    }];
  });
  const body = {
    outcome: form.outcome,
    frozenMinor: form.frozen.trim() === '' ? undefined : money(form.frozen, 'frozen'),
    // A return task's answer: what the bank paid into the victim's account.
    returnedMinor: form.returned.trim() === '' ? undefined : money(form.returned, 'returned'),
    onwardTransfers: onwardTransfers.length ? onwardTransfers : undefined,
    note: form.note.trim() || undefined,
    version: /^\d+$/.test(form.version) ? Number(form.version) : undefined,
  };
  const toFormPath = (path: string): string => {
    if (path === 'frozenMinor') return 'frozen';
    if (path === 'returnedMinor') return 'returned';
    const m = /^onwardTransfers(?:\.(\d+)(?:\.(\w+))?)?/.exec(path);
    if (!m) return path;
    if (m[1] === undefined) return 'onward';
    const row = rowOf[Number(m[1])] ?? Number(m[1]);
    const field = m[2] === 'amountMinor' ? 'amount' : m[2];
    return field ? `onward.${row}.${field}` : `onward.${row}`;
  };
  return { body, problems, toFormPath };
}

export function presentResultForm(
  task: Task, form: ResultForm, institutions: { id: string; name: string }[], details: ErrorDetail[], l: PageLocals, focusRow?: number,
) {
  const byPath = new Map<string, string>();
  for (const d of details) if (!byPath.has(d.path)) byPath.set(d.path, d.message);
  const used = new Set<string>();
  const take = (p: string) => { const m = byPath.get(p); if (m) used.add(p); return m; };
  const allowed = kindSpec(task.kind).outcomes;
  const rows = form.onward.length ? form.onward : [blankOnward()];
  const onward = rows.map((row, i) => ({
    index: i,
    focus: focusRow === i,
    ...row,
    institutions: institutions.map((inst) => ({ value: inst.id, label: `${inst.name} (${inst.id})`, selected: inst.id === row.toInstitutionId })),
    errors: {
      toAccount: take(`onward.${i}.toAccount`) ?? take(`onward.${i}`),
      toAccountName: take(`onward.${i}.toAccountName`),
      toInstitutionId: take(`onward.${i}.toInstitutionId`),
      amount: take(`onward.${i}.amount`),
      transferredAt: take(`onward.${i}.transferredAt`),
    },
  }));
  const errors = { outcome: take('outcome'), frozen: take('frozen'), returned: take('returned'), note: take('note'), onward: take('onward'), version: take('version') };
  return {
    form,
    outcomes: allowed.map((o) => ({ value: o, label: l.t(`outcome.${o}`), selected: o === form.outcome })),
    takesMoney: task.amountMinor !== null && allowed.includes('frozen'),
    takesReturn: allowed.includes('returned'),
    movesOn: allowed.includes('funds_moved'),
    amountPlain: task.amountMinor === null ? '' : formatMinorPlain(task.amountMinor, task.currency ?? l.currency),
    onward,
    errors,
    otherErrors: [...byPath].filter(([p]) => !used.has(p)).map(([path, message]) => ({ path, message })),
    hasErrors: details.length > 0,
  };
}

/** "Add a row" pressed without JavaScript: one more blank onward row (at most the 100 the API takes). */
export function withAddedOnward(form: ResultForm): ResultForm {
  return form.onward.length >= 100 ? form : { ...form, onward: [...form.onward, blankOnward()] };
}

export function withSpareOnward(form: ResultForm): ResultForm {
  const last = form.onward[form.onward.length - 1];
  return last && isBlank(last) ? form : { ...form, onward: [...form.onward, blankOnward()] };
}

/** What staff may do with a task whose deliveries ran out; a reason travels as a code, shown translated. */
export const DELIVERY_ACTION_ERRORS = ['conflict', 'validation_failed', 'version_mismatch', 'not_found', 'failed'] as const;

/**
 * The failed-delivery panel of a task's page: the last error, a retry for center staff, and other
 * active institutions of the same kind to reassign it to (supervisors and admins).
 */
export function presentDeliveryFailure(
  task: Task, actor: { role: string }, institutions: { id: string; name: string; kind: string; active: boolean }[], l: PageLocals,
) {
  if (task.status !== 'delivery_failed') return null;
  const current = institutions.find((i) => i.id === task.institutionId);
  const mayReassign = actor.role === 'admin' || actor.role === 'supervisor';
  return {
    error: task.deliveryError ?? '',
    failedAt: formatDateTime(task.deliveryFailedAt, l.lang, l.timeZone),
    institution: current ? `${current.name} (${current.id})` : task.institutionId ?? '',
    mayReassign,
    choices: mayReassign
      ? institutions
        .filter((i) => i.active && i.id !== task.institutionId && i.kind !== 'police' && (!current || i.kind === current.kind))
        .map((i) => ({ value: i.id, label: `${i.name} (${i.id})` }))
      : [],
  };
}
