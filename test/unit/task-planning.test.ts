import { INDICATOR_KINDS } from '../../server/domain/kinds';
import { buildRouter } from '../../server/domain/routing';
import { blockingKindFor, familyOf, TASK_FAMILIES, TASK_KINDS, TASK_KIND_TABLE } from '../../server/domain/task-kinds';
import { planFromSightings, planOnward, planReport, planRequests, type Planning } from '../../server/domain/task-planning';
import { DEFAULT_BLOCKING_RULE } from '../../server/domain/indicator-rules';

const now = new Date('2026-11-30T02:00:00Z');
const dueMinutes = Object.fromEntries(TASK_KINDS.map((k) => [k, TASK_KIND_TABLE[k].dueMinutes])) as Planning['dueMinutes'];
const planning: Planning = {
  now,
  dueMinutes,
  routing: {
    route: buildRouter([
      { institutionId: 'icbc', indicatorKind: 'bank_account', prefix: '622202' },
      { institutionId: 'cmb', indicatorKind: 'bank_account', prefix: '621483' },
      { institutionId: 'mobile', indicatorKind: 'phone', prefix: '+86139' },
      { institutionId: 'platform', indicatorKind: 'url', prefix: '' },
    ]),
    partners: new Set(['icbc', 'cmb', 'mobile', 'platform']),
  },
};
const transfer = (toAccount: string, amountMinor: number, toInstitutionId: string | null = null) => ({
  transferId: null, toAccount, toAccountName: null, toInstitutionId, amountMinor, currency: 'CNY', transferredAt: null,
});

describe('the task-kind table', () => {
  it('gives every kind a family and outcomes, and every indicator kind a blocking kind', () => {
    for (const kind of TASK_KINDS) {
      expect(TASK_FAMILIES).toContain(familyOf(kind));
      expect(TASK_KIND_TABLE[kind].outcomes.length).toBeGreaterThan(0);
    }
    for (const ind of INDICATOR_KINDS) expect(familyOf(blockingKindFor(ind))).toBe('blocking');
    expect(familyOf('intercept_funds')).toBe('money');
    expect(blockingKindFor('domain')).toBe('takedown_url');
  });
});

describe('planReport', () => {
  it('chases each transfer at its bank and blocks each indicator where it routes, with due times and keys', () => {
    const drafts = planReport({
      reportId: 'r1',
      transfers: [transfer('6222021234567890', 5_000), transfer('6214830000000001', 7_000, 'icbc')],
      indicators: [{ kind: 'phone', value: '+8613900001234' }, { kind: 'url', value: 'https://pay.example/x' }],
    }, planning);
    expect(drafts.map((d) => [d.kind, d.family, d.institutionId, d.depth])).toEqual([
      ['intercept_funds', 'money', 'icbc', 1],
      // The institution the officer named wins over the account's routes.
      ['intercept_funds', 'money', 'icbc', 1],
      ['block_number', 'blocking', 'mobile', 1],
      ['takedown_url', 'blocking', 'platform', 1],
    ]);
    expect(drafts[0]!.dueAt.getTime() - now.getTime()).toBe(30 * 60_000);
    expect(drafts[2]!.dueAt.getTime() - now.getTime()).toBe(120 * 60_000);
    expect(drafts.filter((d) => d.family === 'money').every((d) => d.openBlockingKey === null)).toBe(true);
    expect(drafts[2]!.openBlockingKey).toBe('block_number|mobile|phone|+8613900001234');
  });

  it('leaves an account that is also a receiving account to its interception, and plans a repeated value once', () => {
    const drafts = planReport({
      reportId: 'r1',
      transfers: [transfer('6222021234567890', 5_000)],
      indicators: [
        { kind: 'bank_account', value: '6222021234567890' },
        { kind: 'bank_account', value: '6222029999999999' },
        { kind: 'phone', value: '+8613900001234' },
        { kind: 'phone', value: '+8613900001234' },
      ],
    }, planning);
    expect(drafts.map((d) => [d.kind, d.targetValue])).toEqual([
      ['intercept_funds', '6222021234567890'],
      ['freeze_account', '6222029999999999'],
      ['block_number', '+8613900001234'],
    ]);
  });

  it('keeps a task that no route matches, unrouted', () => {
    const [draft] = planReport({ reportId: 'r1', transfers: [transfer('9999990000000000', 1)], indicators: [] }, planning);
    expect(draft!.institutionId).toBeNull();
  });
});

describe('planOnward', () => {
  const parent = { id: 'p1', reportId: 'r1', depth: 2, currency: 'CNY' };
  it('chases onward transfers one layer down, at their banks', () => {
    const { drafts, depthReached } = planOnward(parent, [{ toAccount: '6214830000000001', amountMinor: 900 }], 6, planning);
    expect(depthReached).toBe(false);
    expect(drafts).toEqual([expect.objectContaining({ kind: 'intercept_funds', institutionId: 'cmb', parentTaskId: 'p1', depth: 3, amountMinor: 900, currency: 'CNY' })]);
  });
  it('stops at the trail depth cap and says so', () => {
    expect(planOnward(parent, [{ toAccount: '6214830000000001', amountMinor: 900 }], 2, planning)).toEqual({ drafts: [], depthReached: true });
    expect(planOnward(parent, [], 2, planning)).toEqual({ drafts: [], depthReached: false });
  });
});

describe('planFromSightings and planRequests', () => {
  it('opens blocking tasks only for what the rule accepts', () => {
    const facts = [
      { kind: 'phone' as const, value: '+8613900000001', status: 'confirmed' as const, institutionCount: 1, reportCount: 0, hasOpenTask: false },
      { kind: 'phone' as const, value: '+8613900000002', status: 'suspected' as const, institutionCount: 1, reportCount: 0, hasOpenTask: false },
      { kind: 'phone' as const, value: '+8613900000003', status: 'blocked' as const, institutionCount: 5, reportCount: 3, hasOpenTask: false },
    ];
    expect(planFromSightings(facts, DEFAULT_BLOCKING_RULE, planning).map((d) => d.targetValue)).toEqual(['+8613900000001']);
  });
  it('routes a request by its family: money by account and named bank, blocking by the target', () => {
    const [money, block] = planRequests([
      { kind: 'intercept_funds', targetKind: 'bank_account', targetValue: '6214830000000001', amountMinor: 5, currency: 'CNY' },
      { kind: 'freeze_account', targetKind: 'bank_account', targetValue: '6222020000000001' },
    ], planning);
    expect(money).toMatchObject({ family: 'money', institutionId: 'cmb', openBlockingKey: null, currency: 'CNY' });
    expect(block).toMatchObject({ family: 'blocking', institutionId: 'icbc', amountMinor: null, openBlockingKey: 'freeze_account|icbc|bank_account|6222020000000001' });
  });
});
