import { createHash } from 'node:crypto';
import type { MaintenanceQueue } from '../../server/queues/maintenance';
import type { TaskResultBody } from '../../server/tasks/tasks.schemas';
import type { TaskKind } from '../../server/domain/kinds';
import { isMoneyTask, isReturnTask, isWarningTask } from '../../server/domain/task-kinds';
import type { Adapter } from './adapter';

/**
 * The demo partner: delivery schedules its answer as a delayed job; the answer is then posted
 * through the same result use case a real partner's API call goes through. A bank takes longer
 * to pay an ordered return (`returnDelayMs`) than to answer an interception.
 */
export function simulatedAdapter(maintenance: MaintenanceQueue, returnDelayMs?: number): Adapter {
  return {
    async deliver(task) {
      await maintenance.scheduleSimulatedResult(task.id, isReturnTask(task.kind) ? returnDelayMs : undefined);
    },
  };
}

/** A bank the simulated partner can say the money moved on to: its id and an account prefix routed to it. */
export type OnwardBank = { institutionId: string; prefix: string };

export type SimulatedTask = { id: string; kind: TaskKind; institutionId: string | null; amountMinor: number | null; depth: number };

function hashOf(id: string): Buffer {
  return createHash('sha256').update(id).digest();
}

/** Which of the realistic answers a task gets; fixed by its id so a test can know it in advance. */
export function simulatedBucket(taskId: string): number {
  return hashOf(taskId).readUInt32BE(0) % 100;
}

function accountFor(prefix: string, seed: Buffer): string {
  let digits = prefix.replace(/\D/g, '');
  for (let i = 4; digits.length < Math.max(16, prefix.length + 6); i++) digits += String(seed[i % seed.length]! % 10);
  return digits;
}

/**
 * A realistic answer within the rules of checkResult:
 * - interceptions: 40 % frozen in full (15 % by an emergency stop-payment), 30 % partially frozen (60 %) with the rest moved on to
 *   another demo bank, 15 % moved on in full, 15 % not found;
 * - blocking and account tasks: 85 % blocked, 15 % not found;
 * - warnings to payers: 55 % dissuaded, 30 % proceeded anyway, 15 % not reached.
 * Money moves on only while the trail may go deeper (`maxTrailDepth`) and another bank exists.
 */
export function simulatedAnswer(task: SimulatedTask, banks: OnwardBank[], maxTrailDepth: number): TaskResultBody {
  const seed = hashOf(task.id);
  const bucket = seed.readUInt32BE(0) % 100;
  const note = 'answered by the simulated partner';
  if (isWarningTask(task.kind)) {
    return { outcome: bucket < 55 ? 'dissuaded' : bucket < 85 ? 'proceeded' : 'not_reached', note };
  }
  // A simulated bank pays every ordered return in full.
  if (isReturnTask(task.kind)) return task.amountMinor ? { outcome: 'returned', returnedMinor: task.amountMinor, note } : { outcome: 'rejected', note };
  if (!isMoneyTask(task.kind) || task.amountMinor === null) {
    return bucket < 85 ? { outcome: 'blocked', note } : { outcome: 'not_found', note };
  }
  const amount = task.amountMinor;
  const others = banks.filter((b) => b.institutionId !== task.institutionId).sort((a, b) => (a.institutionId < b.institutionId ? -1 : 1));
  const next = others.length > 0 && task.depth < maxTrailDepth ? others[seed.readUInt16BE(4) % others.length] : undefined;
  const onward = (amountMinor: number) =>
    next ? [{ toAccount: accountFor(next.prefix, seed), toInstitutionId: next.institutionId, amountMinor, transferredAt: new Date().toISOString() }] : [];

  // Caught within the hour, some money is stopped by an emergency stop-payment: a short legal clock
  // that the center renews, turns into a freeze, or lets lapse.
  if (bucket < 15) return { outcome: 'frozen', frozenMinor: amount, holdStage: 'stop_payment', note };
  if (bucket < 40) return { outcome: 'frozen', frozenMinor: amount, note };
  if (bucket < 70) {
    const frozen = Math.max(1, Number((BigInt(amount) * 3n) / 5n));
    const rest = amount - frozen;
    return { outcome: 'partially_frozen', frozenMinor: frozen, onwardTransfers: rest > 0 ? onward(rest) : [], note };
  }
  if (bucket < 85) return { outcome: 'funds_moved', onwardTransfers: onward(amount), note };
  return { outcome: 'not_found', note };
}
