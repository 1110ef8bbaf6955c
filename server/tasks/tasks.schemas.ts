import { z } from 'zod';
import { IndicatorKind, IndicatorStatus, Outcome, TaskKind, TaskStatus } from '../domain/kinds';
import { ListQuery } from '../http/pagination';
import { TASK_FAMILIES } from '../domain/task-kinds';
import { HoldStage } from '../domain/holds';
import { TASK_VIEWS } from './tasks.repo';
import { EventTime } from '../domain/dates';

const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const OnwardTransfer = z.object({
  toAccount: z.string().trim().min(1).max(64),
  toAccountName: z.string().trim().max(200).optional(),
  toInstitutionId: z.string().max(40).nullish(),
  amountMinor: minor.positive(),
  transferredAt: EventTime.optional(),
});
export type OnwardTransfer = z.infer<typeof OnwardTransfer>;

/**
 * The body of POST /tasks/:id/result, and of a `task_result` feed item (whose extra fields are
 * stripped). The business rules (outcome per kind, amounts) are domain/tasks.ts checkResult.
 */
export const TaskResultBody = z.object({
  outcome: Outcome,
  frozenMinor: minor.optional(),
  onwardTransfers: z.array(OnwardTransfer).max(100).optional(),
  /** A freeze opens a hold: an emergency stop-payment or a freeze (the default). */
  holdStage: HoldStage.optional().describe('frozen / partially_frozen: the hold this freeze opens (default freeze)'),
  /** The answer to a return_funds task: what the bank paid back to the victim. */
  returnedMinor: minor.positive().optional().describe('returned: the amount paid back, at most the return\'s amount'),
  note: z.string().max(4000).optional(),
  /** The version the partner last saw; when given, a stale one is 409 version_mismatch. */
  version: z.number().int().min(1).optional(),
});
export type TaskResultBody = z.infer<typeof TaskResultBody>;

export const AssignBody = z.object({ institutionId: z.string().min(1).max(40) });
export type AssignBody = z.infer<typeof AssignBody>;

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export const TaskListQuery = ListQuery.extend({
  status: TaskStatus.optional(),
  kind: TaskKind.optional(),
  institutionId: z.string().max(40).optional(),
  overdue: booleanText.optional(),
  reportId: z.uuid().optional(),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** The staff task list page's filters (task-list.pages.ts), checked like any other input. */
export const StaffTaskListQuery = ListQuery.extend({
  view: z.enum(TASK_VIEWS).optional(),
  institutionId: z.string().regex(/^[a-z0-9-]{2,40}$/).optional(),
  kind: TaskKind.optional(),
  closedFrom: z.iso.datetime({ offset: true }).optional(),
  closedTo: z.iso.datetime({ offset: true }).optional(),
});
export type StaffTaskListQuery = z.infer<typeof StaffTaskListQuery>;

export const TaskIdParams = z.object({ id: z.uuid() });

const isoTime = z.string().describe('ISO 8601, UTC');

export const TaskResultOut = z.object({
  outcome: Outcome,
  frozenMinor: z.number().int(),
  returnedMinor: z.number().int().nullable().describe('return_funds tasks: the amount paid back'),
  note: z.string().nullable(),
  recordedAt: isoTime,
  recordedBy: z.object({ type: z.string(), id: z.string().nullable() }),
  source: z.string(),
});

export const TaskOut = z.object({
  id: z.string(),
  reportId: z.string().nullable(),
  caseNumber: z.string().nullable().describe('the report\'s police case reference (e.g. FR-20261128-000042), for the partner\'s paperwork'),
  kind: TaskKind,
  family: z.enum(TASK_FAMILIES).describe('money tasks chase and freeze transferred money; blocking tasks block a number, URL or account; '
    + 'warning tasks ask the payer\'s bank to call its customer before a flagged payment leaves; return tasks pay held money back to a victim'),
  institutionId: z.string().nullable(),
  status: TaskStatus,
  amountMinor: z.number().int().nullable(),
  currency: z.string().nullable(),
  target: z.object({ kind: IndicatorKind, value: z.string(), name: z.string().nullable() }),
  transferredAt: isoTime.nullable(),
  dueAt: isoTime,
  overdue: z.boolean(),
  parentTaskId: z.string().nullable(),
  depth: z.number().int(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
  dispatchedAt: isoTime.nullable(),
  closedAt: isoTime.nullable(),
  escalatedAt: isoTime.nullable(),
  deliveryFailedAt: isoTime.nullable(),
  deliveryError: z.string().nullable(),
  payment: z.object({
    ref: z.string().describe('the screening institution\'s reference for the payment'),
    screenedBy: z.string().describe('the institution that screened it'),
    decision: z.enum(['warn', 'hold']),
    payee: z.object({ kind: IndicatorKind, value: z.string(), status: IndicatorStatus, reportCount: z.number().int() }),
  }).nullable().describe('warn_payer tasks: the screened payment; the target is the payer\'s account, amountMinor the payment\'s'),
  result: TaskResultOut.nullable(),
});

export const TaskPage = z.object({ items: z.array(TaskOut), nextCursor: z.string().nullable() });
export const TaskResultAnswer = TaskOut.extend({ childTasks: z.array(TaskOut) });

/** A camt.029 posted to /tasks/:id/result (ISO 20022 institutions), as the OpenAPI document shows it. */
export const Camt029Body = z.string().describe(
  'camt.029 RsltnOfInvstgtn (any camt.029.001.NN namespace) whose RslvdCase.Id is the task id without hyphens. '
  + 'Sts.Conf CNCL records frozen for the task\'s amount; RJCR records funds_moved (reason AM04, PTNA, AC04) or not_found (any other reason); '
  + 'PDCR records nothing and answers 202.',
);

export const ResolutionPending = z.object({
  taskId: z.string(),
  resolution: z.literal('PDCR'),
  recorded: z.literal(false).describe('nothing was recorded: the task stays open until a CNCL or RJCR answer'),
  task: TaskOut,
});
