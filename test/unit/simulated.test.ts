import { randomUUID } from 'node:crypto';
import { TASK_KINDS } from '../../server/domain/kinds';
import { checkResult } from '../../server/domain/tasks';
import { familyOf } from '../../server/domain/task-kinds';
import { simulatedAnswer, simulatedBucket } from '../../workers/adapters/simulated';

const banks = [{ institutionId: 'icbc', prefix: '622202' }, { institutionId: 'ccb', prefix: '621700' }];

it('always gives an answer the result rules accept, for every kind of task', () => {
  for (let i = 0; i < 2000; i++) {
    const kind = TASK_KINDS[i % TASK_KINDS.length]!;
    const amountMinor = familyOf(kind) === 'blocking' ? null : 1 + (i * 7919) % 10_000_000;
    const task = { id: randomUUID(), kind, institutionId: 'icbc', amountMinor, depth: 1 + (i % 6) };
    const answer = simulatedAnswer(task, banks, 6);
    expect(checkResult({ kind, amountMinor, status: 'dispatched' }, answer)).toEqual([]);
  }
});

it('is the same answer for the same task, and moves money only to another bank within the depth cap', () => {
  const ids = Array.from({ length: 400 }, () => randomUUID());
  for (const id of ids) {
    const task = { id, kind: 'intercept_funds' as const, institutionId: 'icbc', amountMinor: 1_000_000, depth: 1 };
    const a = simulatedAnswer(task, banks, 6);
    const { onwardTransfers: _drop, ...again } = simulatedAnswer(task, banks, 6);
    const { onwardTransfers: _first, ...first } = a;
    expect(again).toEqual(first);
    for (const t of a.onwardTransfers ?? []) {
      expect(t.toInstitutionId).toBe('ccb');
      expect(t.toAccount.startsWith('621700')).toBe(true);
    }
    expect(simulatedAnswer({ ...task, depth: 6 }, banks, 6).onwardTransfers ?? []).toEqual([]);
  }
  const outcomes = new Set(ids.map((id) => simulatedAnswer({ id, kind: 'intercept_funds', institutionId: 'icbc', amountMinor: 1_000_000, depth: 1 }, banks, 6).outcome));
  expect(outcomes).toEqual(new Set(['frozen', 'partially_frozen', 'funds_moved', 'not_found']));
  expect(ids.every((id) => simulatedBucket(id) >= 0 && simulatedBucket(id) < 100)).toBe(true);
});

it('answers a warning to a payer as a bank would: dissuaded, proceeded or not reached, all within the rules', () => {
  const ids = Array.from({ length: 400 }, () => randomUUID());
  const outcomes = ids.map((id) => {
    const answer = simulatedAnswer({ id, kind: 'warn_payer', institutionId: 'icbc', amountMinor: 2_000_000, depth: 1 }, banks, 6);
    expect(checkResult({ kind: 'warn_payer', amountMinor: 2_000_000, status: 'dispatched' }, answer)).toEqual([]);
    expect(answer.frozenMinor ?? 0).toBe(0);
    return answer.outcome;
  });
  expect(new Set(outcomes)).toEqual(new Set(['dissuaded', 'proceeded', 'not_reached']));
  const dissuaded = outcomes.filter((o) => o === 'dissuaded').length / outcomes.length;
  expect(dissuaded).toBeGreaterThan(0.4);
  expect(dissuaded).toBeLessThan(0.7);
});
