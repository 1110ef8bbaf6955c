import type { TestApp } from './test-app';
import type { TestInstitution, TestUser } from './factories';
import { interceptTask } from './lifecycle';

/** A hold opened the way a bank opens one: its liaison answers an interception with a freeze. */
export async function frozenHold(
  t: TestApp, bank: TestInstitution, liaison: TestUser,
  opts: { amountMinor?: number; frozenMinor?: number; holdStage?: 'stop_payment' | 'freeze'; account?: string; reportId?: string | null } = {},
): Promise<{ id: string; taskId: string; account: string }> {
  const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: opts.amountMinor ?? 1_000_000, account: opts.account, reportId: opts.reportId });
  const res = await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({
    outcome: 'frozen', frozenMinor: opts.frozenMinor ?? opts.amountMinor ?? 1_000_000, ...(opts.holdStage ? { holdStage: opts.holdStage } : {}),
  });
  if (res.status !== 200) throw new Error(`freeze refused: ${res.status} ${JSON.stringify(res.body)}`);
  const hold = await t.db('holds').where({ task_id: task.id }).first();
  return { id: hold.id, taskId: task.id, account: hold.account };
}

/**
 * A hold's figures recounted from the ledger alone (its freeze, releases and returns), beside the
 * hold row: the two must agree, and frozen = released + returned + balance with nothing negative.
 */
export async function recount(t: TestApp, holdId: string) {
  const hold = await t.db('holds').where({ id: holdId }).first();
  const rows: { entry_type: string; total: string }[] = await t.db('loss_prevention_ledger')
    .select('entry_type').sum({ total: 'amount_minor' }).where({ hold_id: holdId }).groupBy('entry_type');
  const sum = (type: string) => Number(rows.find((r) => r.entry_type === type)?.total ?? 0);
  const pending = (await t.db('hold_returns').sum({ total: 'amount_minor' }).where({ hold_id: holdId, status: 'pending' }).first()) as { total: string | null };
  return {
    hold,
    ledger: { frozen: sum('freeze'), released: sum('released'), returned: sum('returned') },
    pendingMinor: Number(pending.total ?? 0),
  };
}

/** Fails unless the hold and its ledger agree and the invariant holds. */
export async function expectConsistent(t: TestApp, holdId: string): Promise<void> {
  const { hold, ledger, pendingMinor } = await recount(t, holdId);
  const problems: string[] = [];
  if (ledger.frozen !== hold.frozen_minor) problems.push(`frozen ${hold.frozen_minor} vs ledger ${ledger.frozen}`);
  if (ledger.released !== hold.released_minor) problems.push(`released ${hold.released_minor} vs ledger ${ledger.released}`);
  if (ledger.returned !== hold.returned_minor) problems.push(`returned ${hold.returned_minor} vs ledger ${ledger.returned}`);
  if (hold.frozen_minor !== hold.released_minor + hold.returned_minor + hold.balance_minor) problems.push('frozen != released + returned + balance');
  if (hold.balance_minor < 0 || hold.released_minor < 0 || hold.returned_minor < 0) problems.push('a negative amount');
  if (pendingMinor !== hold.reserved_minor) problems.push(`reserved ${hold.reserved_minor} vs pending returns ${pendingMinor}`);
  if (pendingMinor > hold.balance_minor) problems.push('pending returns exceed the balance');
  if (problems.length) throw new Error(`hold ${holdId}: ${problems.join('; ')}`);
}
