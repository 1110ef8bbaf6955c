import type { IndicatorKind, Outcome } from './kinds';

// The one table of task kinds. A kind belongs to a family, which decides what its results do:
// money tasks book frozen amounts into the ledger, open holds and chase onward transfers; blocking
// tasks make their indicator blocked and are opened at most once per target and institution;
// return tasks pay held money back to a victim and book it as returned. Adding a kind
// is one entry here (with the outcomes its result may carry); DUE_MINUTES_<KIND> configures it.
// Warning tasks ask a payer's bank to call its customer before a screened payment leaves; a
// dissuaded payment is counted apart from loss prevented.

export const TASK_FAMILIES = ['money', 'blocking', 'warning', 'return'] as const;
export type TaskFamily = (typeof TASK_FAMILIES)[number];

export type TaskKindSpec = {
  family: TaskFamily;
  /** The indicator whose report or sighting opens this task (blocking kinds), else null. */
  forIndicator: IndicatorKind | null;
  /** The answers a partner may give. */
  outcomes: readonly Outcome[];
  /** Minutes before the task is overdue, unless DUE_MINUTES_<KIND> says otherwise. */
  dueMinutes: number;
};

const MONEY_OUTCOMES: readonly Outcome[] = ['frozen', 'partially_frozen', 'funds_moved', 'not_found', 'rejected'];
const ACCOUNT_OUTCOMES: readonly Outcome[] = ['frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected'];
const BLOCK_OUTCOMES: readonly Outcome[] = ['blocked', 'not_found', 'rejected'];
const WARNING_OUTCOMES: readonly Outcome[] = ['dissuaded', 'proceeded', 'not_reached'];
const RETURN_OUTCOMES: readonly Outcome[] = ['returned', 'rejected'];

export const TASK_KIND_TABLE = {
  intercept_funds: { family: 'money', forIndicator: null, outcomes: MONEY_OUTCOMES, dueMinutes: 30 },
  freeze_account: { family: 'blocking', forIndicator: 'bank_account', outcomes: ACCOUNT_OUTCOMES, dueMinutes: 60 },
  freeze_payment_account: { family: 'blocking', forIndicator: 'payment_account', outcomes: ACCOUNT_OUTCOMES, dueMinutes: 60 },
  block_number: { family: 'blocking', forIndicator: 'phone', outcomes: BLOCK_OUTCOMES, dueMinutes: 120 },
  block_sms_sender: { family: 'blocking', forIndicator: 'sms_sender', outcomes: BLOCK_OUTCOMES, dueMinutes: 120 },
  takedown_url: { family: 'blocking', forIndicator: 'url', outcomes: BLOCK_OUTCOMES, dueMinutes: 240 },
  block_im_account: { family: 'blocking', forIndicator: 'im_account', outcomes: BLOCK_OUTCOMES, dueMinutes: 240 },
  // The payment waits on the call: minutes, not hours.
  warn_payer: { family: 'warning', forIndicator: null, outcomes: WARNING_OUTCOMES, dueMinutes: 10 },
  // The bank pays within 3 working days of the order (PRC); 4,320 minutes is three days.
  return_funds: { family: 'return', forIndicator: null, outcomes: RETURN_OUTCOMES, dueMinutes: 4320 },
} as const satisfies Record<string, TaskKindSpec>;

export type TaskKind = keyof typeof TASK_KIND_TABLE;
export const TASK_KINDS = Object.keys(TASK_KIND_TABLE) as [TaskKind, ...TaskKind[]];

/** Indicator kinds that share another kind's blocking task (a domain is taken down like a URL). */
const ALSO_BLOCKED_BY: Partial<Record<IndicatorKind, TaskKind>> = { domain: 'takedown_url' };

export function kindSpec(kind: TaskKind): TaskKindSpec {
  return TASK_KIND_TABLE[kind];
}

export function familyOf(kind: TaskKind): TaskFamily {
  return TASK_KIND_TABLE[kind].family;
}

export const isMoneyTask = (kind: TaskKind): boolean => familyOf(kind) === 'money';
export const isBlockingTask = (kind: TaskKind): boolean => familyOf(kind) === 'blocking';
export const isWarningTask = (kind: TaskKind): boolean => familyOf(kind) === 'warning';
export const isReturnTask = (kind: TaskKind): boolean => familyOf(kind) === 'return';

/** The kind of task that asks a payer's bank to warn its customer about a flagged payee. */
export const WARNING_KIND: TaskKind = 'warn_payer';

const BLOCKING_KIND_FOR = new Map<IndicatorKind, TaskKind>([
  ...TASK_KINDS.flatMap((k): [IndicatorKind, TaskKind][] => {
    const ind = TASK_KIND_TABLE[k].forIndicator;
    return ind ? [[ind, k]] : [];
  }),
  ...(Object.entries(ALSO_BLOCKED_BY) as [IndicatorKind, TaskKind][]),
]);

/** The blocking task each indicator kind gets (API.md, Reports). */
export function blockingKindFor(indicator: IndicatorKind): TaskKind {
  const kind = BLOCKING_KIND_FOR.get(indicator);
  if (!kind) throw new RangeError(`no blocking task kind for indicator kind ${indicator}`);
  return kind;
}

/** The kind of task that chases a transfer's money at the receiving bank. */
export const INTERCEPT_KIND: TaskKind = 'intercept_funds';

/** The kind of task that pays held money back to a victim at the holding bank. */
export const RETURN_KIND: TaskKind = 'return_funds';
