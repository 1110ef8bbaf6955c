import type { Actor } from '../auth/actor';
import { findUserByUsername } from '../admin/users.repo';
import type { Db } from '../db';
import { FRAUD_TYPES } from '../domain/kinds';
import type { Logger } from '../logger';
import type { ReportsService } from '../reports/reports.service';
import type { CreateReport } from '../reports/reports.schemas';
import type { ScreeningService } from '../screening/screening.service';
import type { HoldsService } from '../holds/holds.service';
import type { ScreeningItem } from '../screening/screening.schemas';
import { DEMO_INSTITUTIONS, demoIntegration } from './seed';

// Card BINs and mobile segments of the seeded demo institutions, so every generated transfer and
// number is routed to a simulated partner (the manual bank's inbox holds only what people file).
const BINS = DEMO_INSTITUTIONS.filter((i) => demoIntegration(i) === 'simulated').flatMap((i) => i.routes.bank_account ?? []);
const SEGMENTS = DEMO_INSTITUTIONS.flatMap((i) => i.routes.phone ?? []).map((prefix) => prefix.replace(/^\+86/, ''));

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

/** A plausible report as a desk officer would take it on the hotline. */
export function demoReport(now = new Date()): CreateReport {
  const transfers = Array.from({ length: 1 + Math.floor(Math.random() * 2) }, (_, i) => ({
    toAccount: `${pick(BINS)}${digits(10)}`,
    toAccountName: pick(['李明', '张伟', '王芳', '刘强', '陈静']),
    // ¥2,000 – ¥200,000, in fen.
    amountMinor: (2_000 + Math.floor(Math.random() * 198_000)) * 100,
    transferredAt: new Date(now.getTime() - (40 - i * 10) * 60_000).toISOString(),
  }));
  return {
    channel: pick(['hotline', 'walk_in', 'online'] as const),
    fraudType: pick(FRAUD_TYPES),
    occurredAt: new Date(now.getTime() - 60 * 60_000).toISOString(),
    victim: { name: pick(['王女士', '李先生', '赵女士', '孙先生']), phone: `+86${pick(SEGMENTS)}${digits(8)}` },
    narrative: 'Demo report filed automatically to keep the demo center busy.',
    currency: 'CNY',
    transfers,
    indicators: [
      { kind: 'phone', value: `+86 ${pick(SEGMENTS)} ${digits(4)} ${digits(4)}` },
      { kind: 'url', value: `http://refund-${digits(4)}.example/pay` },
    ],
  } as CreateReport;
}

/**
 * A demo bank's batch of outgoing payments, as its payment system screens them: a few to payees
 * nobody reported, and one to the account a victim just reported (a warning, which the simulated
 * bank answers by calling its customer).
 */
export function demoPayments(reportedAccount: string | undefined, payerBins: readonly string[]): ScreeningItem[] {
  const payment = (payee: string): ScreeningItem => ({
    ref: `demo-${Date.now()}-${digits(6)}`,
    payer: { account: `${pick(payerBins)}${digits(10)}`, name: pick(['周先生', '吴女士', '郑先生', '冯女士']) },
    payee: { kind: 'bank_account', value: payee },
    amountMinor: (500 + Math.floor(Math.random() * 50_000)) * 100,
    currency: 'CNY',
  });
  const clean = Array.from({ length: 4 }, () => payment(`${pick(BINS)}${digits(10)}`));
  return reportedAccount ? [...clean, payment(reportedAccount)] : clean;
}

/**
 * Files a demo report now and then every `everyMs`, as the seeded officer, until stopped; and, when
 * a screening service is given, has ICBC's liaison screen a batch of payments right after, one of
 * them to the account just reported, so the dashboard's early-warning figures move too.
 */
export async function startDemoTraffic(
  db: Db, reports: ReportsService, logger: Logger, everyMs: number, screening?: ScreeningService,
): Promise<() => void> {
  const user = await findUserByUsername(db, 'officer');
  if (!user) {
    logger.warn('no demo officer: the demo files no reports by itself');
    return () => undefined;
  }
  const actor: Actor = { id: user.id, type: 'user', name: user.username, role: user.role, institutionId: user.institutionId };
  const screener = screening && (await findUserByUsername(db, 'liaison-icbc'));
  const screenerActor: Actor | undefined = screener
    ? { id: screener.id, type: 'user', name: screener.username, role: screener.role, institutionId: screener.institutionId }
    : undefined;
  const icbcBins = DEMO_INSTITUTIONS.find((i) => i.id === 'icbc')?.routes.bank_account ?? BINS;
  const file = async () => {
    try {
      const report = await reports.create(actor, demoReport());
      logger.info({ caseNumber: report.caseNumber, tasks: report.tasks.length }, 'demo report filed');
      if (screening && screenerActor) {
        const results = await screening.screen(screenerActor, demoPayments(report.transfers[0]?.toAccount, icbcBins));
        logger.info({ warned: results.filter((r) => r.decision !== 'allow').length }, 'demo payments screened');
      }
    } catch (err) {
      logger.warn({ err }, 'demo report could not be filed');
    }
  };
  void file();
  const timer = setInterval(() => void file(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The demo's legal clocks, short enough to watch a case's whole life in a few minutes: a
 * stop-payment lapses after 40 s, the scan looks every 2 s, a simulated bank pays an ordered
 * return after 8 s. `npm run demo` uses them unless the environment says otherwise.
 */
export const DEMO_CLOCKS = {
  HOLD_STOP_PAYMENT_SECONDS: '40',
  HOLD_SCAN_MS: '2000',
  SIMULATED_RETURN_DELAY_MS: '8000',
} as const;

/** How often `npm run demo` files a report by itself. */
export const DEMO_REPORT_EVERY_MS = 10_000;

/** How often the demo's officer looks at the held money. */
export const DEMO_AFTERCARE_EVERY_MS = 3_000;

const actorOf = (user: { id: string; username: string; role: Actor['role']; institutionId: string | null }): Actor =>
  ({ id: user.id, type: 'user', name: user.username, role: user.role, institutionId: user.institutionId });

/**
 * After the freeze, as the demo center works it: the officer orders the victim's money back from
 * every freeze (simulated banks pay it after SIMULATED_RETURN_DELAY_MS), turns stop-payments into
 * freezes except the first, which is left to lapse on its short clock, and one account holder
 * disputes a hold through their bank's liaison, left open for a person to decide at /holds.
 */
export async function startDemoAftercare(db: Db, holds: HoldsService, logger: Logger, everyMs = DEMO_AFTERCARE_EVERY_MS): Promise<() => void> {
  const officerUser = await findUserByUsername(db, 'officer');
  if (!officerUser) {
    logger.warn('no demo officer: nobody looks after the held money');
    return () => undefined;
  }
  const officer = actorOf(officerUser);
  // Only the simulated banks' holds: money a person froze at the manual bank is theirs to handle.
  const simulated = new Set(DEMO_INSTITUTIONS.filter((i) => demoIntegration(i) === 'simulated').map((i) => i.id));
  const handled = new Set<string>();
  let lapsing: string | undefined;
  let disputed: string | undefined;
  let busy = false;

  const work = async () => {
    const active = await holds.list(officer, { status: 'active', limit: 200 });
    for (const hold of active.items) {
      if (handled.has(hold.id) || hold.availableMinor <= 0 || !simulated.has(hold.institutionId)) continue;
      if (hold.stage === 'stop_payment') {
        if (lapsing === undefined || lapsing === hold.id) {
          lapsing = hold.id;
          continue;
        }
        await holds.renew(officer, hold.id, { reason: 'Demo: the prosecutor ordered a freeze.', stage: 'freeze' });
        logger.info({ caseNumber: hold.caseNumber }, 'demo stop-payment turned into a freeze');
        continue;
      }
      if (disputed === undefined) {
        const bankLiaison = await findUserByUsername(db, `liaison-${hold.institutionId}`);
        const claim = Math.max(1, Math.floor(hold.availableMinor / 4));
        await holds.openDispute(bankLiaison ? actorOf(bankLiaison) : officer, hold.id, {
          claimantName: '赵先生', reason: 'Demo: the account holder says part of the balance is his salary.', amountMinor: claim,
        });
        disputed = hold.id;
        handled.add(hold.id);
        logger.info({ caseNumber: hold.caseNumber }, 'demo dispute opened');
        continue;
      }
      await holds.orderReturn(officer, hold.id, {
        amountMinor: hold.availableMinor, victimAccount: `6217${digits(12)}`, victimAccountName: pick(['王女士', '李先生', '赵女士', '孙先生']),
        note: 'Demo: return to the victim.',
      });
      handled.add(hold.id);
      logger.info({ caseNumber: hold.caseNumber, amountMinor: hold.availableMinor }, 'demo return ordered');
    }
  };
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await work();
    } catch (err) {
      // A hold that changed under the demo (a person acted on it) is looked at again next time.
      logger.warn({ err }, 'demo aftercare step refused');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
