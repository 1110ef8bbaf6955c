import { TASK_KINDS, type TaskKind } from '../../server/domain/kinds';
import { kindSpec } from '../../server/domain/task-kinds';
import {
  caseNumber,
  checkResult,
  compareUrgency,
  dueAt,
  isOverdue,
  statusAfterOutcome,
  type UrgencyItem,
} from '../../server/domain/tasks';

const minutes: Record<TaskKind, number> = {
  intercept_funds: 30,
  return_funds: 4320,
  freeze_account: 60,
  block_number: 120,
  block_sms_sender: 120,
  takedown_url: 240,
  freeze_payment_account: 60,
  block_im_account: 240,
  warn_payer: 10,
};

describe('dueAt', () => {
  const from = new Date('2026-11-28T01:00:00.000Z');

  it('adds the minutes configured for the kind', () => {
    expect(dueAt('intercept_funds', from, minutes).toISOString()).toBe('2026-11-28T01:30:00.000Z');
    expect(dueAt('takedown_url', from, minutes).toISOString()).toBe('2026-11-28T05:00:00.000Z');
  });

  it('does not change the start date', () => {
    dueAt('intercept_funds', from, minutes);
    expect(from.toISOString()).toBe('2026-11-28T01:00:00.000Z');
  });

  it('refuses a negative or missing due time', () => {
    expect(() => dueAt('intercept_funds', from, { ...minutes, intercept_funds: -1 })).toThrow(RangeError);
    expect(() => dueAt('intercept_funds', from, { ...minutes, intercept_funds: NaN })).toThrow(RangeError);
  });
});

describe('isOverdue', () => {
  const now = new Date('2026-11-28T02:00:00.000Z');
  const past = new Date('2026-11-28T01:59:59.000Z');

  it('is overdue once dueAt has passed while the task is open', () => {
    for (const status of ['unrouted', 'queued', 'dispatched'] as const) {
      expect(isOverdue({ status, dueAt: past }, now)).toBe(true);
    }
  });

  it('is never overdue once closed', () => {
    for (const status of ['done', 'failed', 'cancelled'] as const) {
      expect(isOverdue({ status, dueAt: past }, now)).toBe(false);
    }
  });

  it('is not overdue before or exactly at dueAt', () => {
    expect(isOverdue({ status: 'queued', dueAt: '2026-11-28T02:00:00.000Z' }, now)).toBe(false);
    expect(isOverdue({ status: 'queued', dueAt: '2026-11-28T02:30:00.000Z' }, now)).toBe(false);
  });

  it('accepts dueAt as an ISO string with a zone', () => {
    expect(isOverdue({ status: 'dispatched', dueAt: '2026-11-28T09:59:00+08:00' }, now)).toBe(true);
  });
});

describe('outcomes per task kind and statusAfterOutcome', () => {
  it('lists outcomes for every task kind', () => {
    for (const kind of TASK_KINDS) expect(kindSpec(kind).outcomes.length).toBeGreaterThan(0);
  });

  it('lets an interception freeze or report moved funds, but not block', () => {
    expect(kindSpec('intercept_funds').outcomes).toEqual(
      expect.arrayContaining(['frozen', 'partially_frozen', 'funds_moved', 'not_found', 'rejected']),
    );
    expect(kindSpec('intercept_funds').outcomes).not.toContain('blocked');
  });

  it('lets account freezes also block', () => {
    expect(kindSpec('freeze_account').outcomes).toContain('blocked');
    expect(kindSpec('freeze_payment_account').outcomes).toContain('frozen');
  });

  it('limits blocking tasks to blocked, not_found and rejected', () => {
    for (const kind of ['block_number', 'block_sms_sender', 'takedown_url', 'block_im_account'] as const) {
      expect([...kindSpec(kind).outcomes].sort()).toEqual(['blocked', 'not_found', 'rejected']);
    }
  });

  it('fails a task that was not found or rejected and completes the rest', () => {
    expect(statusAfterOutcome('not_found')).toBe('failed');
    expect(statusAfterOutcome('rejected')).toBe('failed');
    expect(statusAfterOutcome('frozen')).toBe('done');
    expect(statusAfterOutcome('partially_frozen')).toBe('done');
    expect(statusAfterOutcome('funds_moved')).toBe('done');
    expect(statusAfterOutcome('blocked')).toBe('done');
  });
});

describe('checkResult', () => {
  const intercept = { kind: 'intercept_funds' as const, amountMinor: 5_000_000, status: 'dispatched' as const };
  const block = { kind: 'block_number' as const, amountMinor: null, status: 'dispatched' as const };
  const freezeNoAmount = { kind: 'freeze_account' as const, amountMinor: null, status: 'queued' as const };
  const paths = (problems: { path: string }[]) => problems.map((p) => p.path);

  it('accepts well-formed results', () => {
    expect(checkResult(intercept, { outcome: 'frozen', frozenMinor: 5_000_000 })).toEqual([]);
    expect(
      checkResult(intercept, {
        outcome: 'partially_frozen',
        frozenMinor: 3_000_000,
        onwardTransfers: [{ amountMinor: 1_500_000 }, { amountMinor: 500_000 }],
      }),
    ).toEqual([]);
    expect(checkResult(intercept, { outcome: 'funds_moved', onwardTransfers: [{ amountMinor: 5_000_000 }] })).toEqual([]);
    expect(checkResult(intercept, { outcome: 'not_found', frozenMinor: 0 })).toEqual([]);
    expect(checkResult(block, { outcome: 'blocked' })).toEqual([]);
    expect(checkResult(freezeNoAmount, { outcome: 'frozen', frozenMinor: 99_999_999 })).toEqual([]);
  });

  it('refuses an outcome the task kind does not allow', () => {
    const problems = checkResult(block, { outcome: 'frozen', frozenMinor: 100 });
    expect(paths(problems)).toContain('outcome');
    expect(paths(checkResult(intercept, { outcome: 'blocked' }))).toEqual(['outcome']);
  });

  it('requires a positive frozen amount for frozen and partially_frozen', () => {
    expect(paths(checkResult(intercept, { outcome: 'frozen' }))).toEqual(['frozenMinor']);
    expect(paths(checkResult(intercept, { outcome: 'partially_frozen', frozenMinor: 0 }))).toEqual(['frozenMinor']);
    expect(paths(checkResult(intercept, { outcome: 'frozen', frozenMinor: -5 }))).toEqual(['frozenMinor']);
    expect(paths(checkResult(intercept, { outcome: 'frozen', frozenMinor: 1.5 }))).toEqual(['frozenMinor']);
  });

  it('refuses freezing more than the task amount', () => {
    expect(paths(checkResult(intercept, { outcome: 'frozen', frozenMinor: 5_000_001 }))).toEqual(['frozenMinor']);
  });

  it('refuses a frozen amount on outcomes that freeze nothing', () => {
    for (const outcome of ['not_found', 'rejected', 'funds_moved'] as const) {
      expect(paths(checkResult(intercept, { outcome, frozenMinor: 100 }))).toEqual(['frozenMinor']);
    }
    expect(paths(checkResult(freezeNoAmount, { outcome: 'blocked', frozenMinor: 100 }))).toEqual(['frozenMinor']);
  });

  it('refuses onward transfers on a fully frozen result', () => {
    const problems = checkResult(intercept, {
      outcome: 'frozen',
      frozenMinor: 1_000_000,
      onwardTransfers: [{ amountMinor: 100 }],
    });
    expect(paths(problems)).toEqual(['onwardTransfers']);
  });

  it('refuses onward transfers on outcomes that do not move money', () => {
    for (const outcome of ['not_found', 'rejected'] as const) {
      expect(paths(checkResult(intercept, { outcome, onwardTransfers: [{ amountMinor: 1 }] }))).toEqual([
        'onwardTransfers',
      ]);
    }
  });

  it('treats an empty onward list like none', () => {
    expect(checkResult(intercept, { outcome: 'frozen', frozenMinor: 1, onwardTransfers: [] })).toEqual([]);
  });

  it('never lets frozen plus onward money exceed the task amount', () => {
    const over = checkResult(intercept, {
      outcome: 'partially_frozen',
      frozenMinor: 3_000_000,
      onwardTransfers: [{ amountMinor: 1_500_000 }, { amountMinor: 500_001 }],
    });
    expect(over).toEqual([{ path: 'onwardTransfers', message: expect.stringContaining('more than the amount') }]);
    const exact = checkResult(intercept, {
      outcome: 'partially_frozen',
      frozenMinor: 3_000_000,
      onwardTransfers: [{ amountMinor: 2_000_000 }],
    });
    expect(exact).toEqual([]);
    expect(
      paths(checkResult(intercept, { outcome: 'funds_moved', onwardTransfers: [{ amountMinor: 5_000_001 }] })),
    ).toEqual(['onwardTransfers']);
  });

  it('points at the onward transfer whose amount is not positive', () => {
    const problems = checkResult(intercept, {
      outcome: 'funds_moved',
      onwardTransfers: [{ amountMinor: 100 }, { amountMinor: 0 }, { amountMinor: 2.5 }],
    });
    expect(paths(problems)).toEqual(['onwardTransfers.1.amountMinor', 'onwardTransfers.2.amountMinor']);
  });

  it('reports every problem at once, each with a human message', () => {
    const problems = checkResult(block, { outcome: 'not_found', frozenMinor: 5, onwardTransfers: [{ amountMinor: 1 }] });
    expect(paths(problems)).toEqual(['frozenMinor', 'onwardTransfers']);
    const more = checkResult(block, { outcome: 'funds_moved', frozenMinor: 5 });
    expect(paths(more)).toEqual(['outcome', 'frozenMinor']);
    for (const p of [...problems, ...more]) expect(p.message).toMatch(/\w{3,}/);
  });
});

describe('compareUrgency', () => {
  const at = (iso: string) => new Date(iso);
  const item = (due: string, amountMinor: number | null, created: string): UrgencyItem => ({
    dueAt: at(due),
    amountMinor,
    createdAt: at(created),
  });

  it('orders by earlier due time, then larger amount, then older creation', () => {
    const a = item('2026-11-28T02:00:00Z', 100, '2026-11-28T01:00:00Z');
    const b = item('2026-11-28T01:30:00Z', 1, '2026-11-28T01:00:00Z');
    const c = item('2026-11-28T02:00:00Z', 5_000, '2026-11-28T01:10:00Z');
    const d = item('2026-11-28T02:00:00Z', 5_000, '2026-11-28T00:50:00Z');
    const e = item('2026-11-28T02:00:00Z', null, '2026-11-28T00:00:00Z');
    expect([a, b, c, d, e].sort(compareUrgency)).toEqual([b, d, c, a, e]);
  });

  it('answers 0 for equally urgent tasks', () => {
    const x = item('2026-11-28T02:00:00Z', 5, '2026-11-28T01:00:00Z');
    const y = item('2026-11-28T02:00:00Z', 5, '2026-11-28T01:00:00Z');
    expect(compareUrgency(x, y)).toBe(0);
  });
});

describe('caseNumber', () => {
  it('uses the local date of the center', () => {
    // 23:30 UTC on the 27th is already the 28th in Shanghai.
    const d = new Date('2026-11-27T23:30:00Z');
    expect(caseNumber(d, 42, 'Asia/Shanghai')).toBe('FR-20261128-000042');
    expect(caseNumber(d, 42, 'UTC')).toBe('FR-20261127-000042');
  });

  it('pads the sequence to six digits and widens past a million', () => {
    const d = new Date('2026-01-05T12:00:00Z');
    expect(caseNumber(d, 1, 'Asia/Shanghai')).toBe('FR-20260105-000001');
    expect(caseNumber(d, 1_234_567, 'Asia/Shanghai')).toBe('FR-20260105-1234567');
  });

  it('refuses a bad sequence, date or zone', () => {
    const d = new Date('2026-01-05T12:00:00Z');
    expect(() => caseNumber(d, -1, 'UTC')).toThrow(RangeError);
    expect(() => caseNumber(d, 1.5, 'UTC')).toThrow(RangeError);
    expect(() => caseNumber(new Date('nope'), 1, 'UTC')).toThrow(RangeError);
    expect(() => caseNumber(d, 1, 'Mars/Olympus')).toThrow(RangeError);
  });
});
