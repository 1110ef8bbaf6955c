import { OPEN_TASK_STATUSES, type Outcome, type TaskKind, type TaskStatus } from './kinds';
import { kindSpec } from './task-kinds';

export function dueAt(kind: TaskKind, from: Date, dueMinutes: Readonly<Record<TaskKind, number>>): Date {
  const minutes = dueMinutes[kind];
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new RangeError(`Due time for ${kind} must be a non-negative number of minutes, got ${minutes}`);
  }
  return new Date(from.getTime() + minutes * 60_000);
}

export function isOverdue(task: { status: TaskStatus; dueAt: Date | string }, now: Date): boolean {
  if (!OPEN_TASK_STATUSES.includes(task.status)) return false;
  const due = task.dueAt instanceof Date ? task.dueAt.getTime() : Date.parse(task.dueAt);
  return now.getTime() > due;
}

/** Answers that mean the partner could not do what the task asked. */
const FAILING_OUTCOMES: readonly Outcome[] = ['not_found', 'rejected', 'not_reached'];

export function statusAfterOutcome(outcome: Outcome): 'done' | 'failed' {
  return FAILING_OUTCOMES.includes(outcome) ? 'failed' : 'done';
}

export type ResultProblem = { path: string; message: string };

export type ResultToCheck = {
  outcome: Outcome;
  frozenMinor?: number;
  onwardTransfers?: { amountMinor: number }[];
  returnedMinor?: number;
  holdStage?: string;
};

const FREEZING: readonly Outcome[] = ['frozen', 'partially_frozen'];
const MAY_MOVE_ON: readonly Outcome[] = ['funds_moved', 'partially_frozen'];

/**
 * The business rules of a task result, beyond its schema. A closed task is not a problem of the
 * result but a conflict (409 task_closed), so the caller checks `status` before this.
 */
export function checkResult(
  task: { kind: TaskKind; amountMinor: number | null; status: TaskStatus },
  result: ResultToCheck,
): ResultProblem[] {
  const problems: ResultProblem[] = [];
  const { outcome, frozenMinor } = result;
  const onward = result.onwardTransfers ?? [];
  const amount = task.amountMinor;

  const spec = kindSpec(task.kind);
  const allowed = spec.outcomes;
  if (!allowed.includes(outcome)) {
    problems.push({ path: 'outcome', message: `A ${task.kind} task cannot end as ${outcome}; allowed: ${allowed.join(', ')}.` });
  }

  let frozen = 0;
  if (frozenMinor !== undefined) {
    if (!Number.isSafeInteger(frozenMinor) || frozenMinor < 0) {
      problems.push({ path: 'frozenMinor', message: 'The frozen amount must be a whole number of minor units, at least 0.' });
    } else {
      frozen = frozenMinor;
    }
  }

  if (FREEZING.includes(outcome)) {
    if (frozen <= 0 && !problems.some((p) => p.path === 'frozenMinor')) {
      problems.push({ path: 'frozenMinor', message: `An outcome of ${outcome} needs the frozen amount, more than 0.` });
    }
  } else if (frozen > 0) {
    problems.push({ path: 'frozenMinor', message: `An outcome of ${outcome} cannot carry a frozen amount.` });
  }

  if (amount !== null && frozen > amount) {
    problems.push({ path: 'frozenMinor', message: 'The frozen amount cannot be more than the amount of the task.' });
  }

  if (onward.length > 0 && !MAY_MOVE_ON.includes(outcome)) {
    problems.push({
      path: 'onwardTransfers',
      message: `Onward transfers go with funds_moved or partially_frozen, not ${outcome}.`,
    });
  }

  // A return is answered with what the bank paid: more than 0, at most what was ordered.
  const { returnedMinor } = result;
  if (outcome === 'returned') {
    if (returnedMinor === undefined || !Number.isSafeInteger(returnedMinor) || returnedMinor <= 0) {
      problems.push({ path: 'returnedMinor', message: 'An outcome of returned needs the amount paid back, more than 0.' });
    } else if (amount !== null && returnedMinor > amount) {
      problems.push({ path: 'returnedMinor', message: 'The returned amount cannot be more than the amount of the return.' });
    }
  } else if (returnedMinor !== undefined) {
    problems.push({ path: 'returnedMinor', message: `An outcome of ${outcome} cannot carry a returned amount.` });
  }

  // Only a money task's freeze opens a hold, so only it can say which kind of hold.
  if (result.holdStage !== undefined && !(FREEZING.includes(outcome) && spec.family === 'money')) {
    problems.push({ path: 'holdStage', message: 'A hold stage goes with a frozen or partially_frozen answer to an interception.' });
  }

  let onwardTotal = 0n;
  let onwardValid = true;
  onward.forEach((t, i) => {
    if (!Number.isSafeInteger(t.amountMinor) || t.amountMinor <= 0) {
      onwardValid = false;
      problems.push({ path: `onwardTransfers.${i}.amountMinor`, message: 'Each onward transfer needs an amount more than 0.' });
    } else {
      onwardTotal += BigInt(t.amountMinor);
    }
  });

  // Money frozen here and money that moved on are disjoint parts of this task's amount; if they
  // add up to more, the same fen would be chased (and later counted as saved) twice down the trail.
  if (amount !== null && onwardValid && onward.length > 0 && BigInt(frozen) + onwardTotal > BigInt(amount)) {
    problems.push({
      path: 'onwardTransfers',
      message: 'The frozen amount plus the onward transfers cannot be more than the amount of the task.',
    });
  }

  return problems;
}

export type UrgencyItem = { dueAt: Date; amountMinor: number | null; createdAt: Date };

/** Sort order for work queues: soonest deadline, then most money at stake, then oldest. */
export function compareUrgency(a: UrgencyItem, b: UrgencyItem): number {
  const due = a.dueAt.getTime() - b.dueAt.getTime();
  if (due !== 0) return due;
  const amount = (b.amountMinor ?? 0) - (a.amountMinor ?? 0);
  if (amount !== 0) return amount;
  return a.createdAt.getTime() - b.createdAt.getTime();
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * "FR-20261128-000042". The date is the center's local date, not UTC: a report taken at 07:00 in
 * Hangzhou belongs to that day's register even though it is still yesterday in UTC.
 */
export function caseNumber(date: Date, seq: number, timeZone: string): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`Case sequence must be a non-negative integer, got ${seq}`);
  if (Number.isNaN(date.getTime())) throw new RangeError('Case date is not a valid date');
  let fmt = dateFormatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormatters.set(timeZone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
  const year = String(parts.year).padStart(4, '0');
  return `FR-${year}${parts.month}${parts.day}-${String(seq).padStart(6, '0')}`;
}
