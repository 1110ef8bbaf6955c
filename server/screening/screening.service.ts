import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import { normalizeAccount } from '../domain/normalize';
import { screenedStatus, screeningDecision, type ScreenedPayment } from '../domain/screening';
import type { PaymentToWarn } from '../domain/task-planning';
import { ForbiddenError, ValidationError, type ErrorDetail } from '../errors';
import type { IndicatorsService } from '../indicators/indicators.service';
import type { TaskEngine } from '../tasks/task-engine';
import { warningKey } from '../tasks/task-writer.repo';
import type { ScreeningItem, ScreeningResult } from './screening.schemas';

/**
 * Payment screening, called inline with payments: the payees are read as a lookup reads them (one
 * set-based statement on the read pool); a batch that is all `allow` writes nothing. Each `warn` or
 * `hold` opens one warn_payer task at the payer's bank, once per (screening institution, ref).
 */
export class ScreeningService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly indicators: IndicatorsService,
    private readonly engine: TaskEngine,
  ) {}

  async screen(actor: Actor, items: ScreeningItem[]): Promise<ScreeningResult[]> {
    const screenedBy = actor.institutionId;
    if (!screenedBy) throw new ForbiddenError('Screening is done by a partner institution.');
    const payers = this.payerAccounts(items);
    const payees = await this.indicators.lookup(items.map((i) => i.payee));

    const results: ScreeningResult[] = [];
    const toWarn: PaymentToWarn[] = [];
    items.forEach((item, i) => {
      const hit = payees[i]!;
      const status = hit.valid ? screenedStatus(hit) : null;
      const decision = screeningDecision(status);
      const indicator = status === null ? null : { kind: hit.kind, value: hit.value, status, reportCount: hit.reportCount };
      results.push({ ref: item.ref, decision, indicator, taskId: null });
      if (decision === 'allow' || indicator === null) return;
      const payment: ScreenedPayment = { ref: item.ref, screenedBy, decision, payee: indicator };
      toWarn.push({
        payerAccount: payers[i]!, payerName: item.payer.name || null, amountMinor: item.amountMinor,
        currency: item.currency ?? this.ctx.config.defaultCurrency, payment,
      });
    });
    if (toWarn.length === 0) return results;

    const { opened, recorded } = await this.engine.warnPayers(this.ctx.db, actor, toWarn);
    const openedFor = new Map(opened.map((t) => [warningKey(t.payment!), t.id]));
    for (const r of results) {
      if (r.decision === 'allow') continue;
      const key = warningKey({ screenedBy, ref: r.ref });
      const first = recorded.get(key);
      // A payment screened before keeps its first answer: the same decision, the same task.
      if (first) Object.assign(r, { decision: first.payment.decision, indicator: first.payment.payee, taskId: first.taskId });
      else r.taskId = openedFor.get(key) ?? null;
    }
    await this.engine.afterCommit(opened);
    return results;
  }

  /**
   * The payers' accounts, normalized (they route the warnings), and each ref once per batch: a
   * batch naming one payment twice is a mistake of the caller, refused with the paths.
   */
  private payerAccounts(items: ScreeningItem[]): string[] {
    const problems: ErrorDetail[] = [];
    const firstOf = new Map<string, number>();
    const accounts = items.map((item, i) => {
      const first = firstOf.get(item.ref);
      if (first === undefined) firstOf.set(item.ref, i);
      else problems.push({ path: `items.${i}.ref`, message: `repeats the ref of item ${first}; each payment is screened once per batch` });
      const account = normalizeAccount(item.payer.account);
      if (!account.ok) problems.push({ path: `items.${i}.payer.account`, message: account.message });
      return account.ok ? account.value : '';
    });
    if (problems.length > 0) throw new ValidationError(problems);
    return accounts;
  }
}
