import type { Actor } from '../auth/actor';
import { findUserByUsername } from '../admin/users.repo';
import type { Db } from '../db';
import { FRAUD_TYPES } from '../domain/kinds';
import type { Logger } from '../logger';
import type { ReportsService } from '../reports/reports.service';
import type { CreateReport } from '../reports/reports.schemas';
import type { ScreeningService } from '../screening/screening.service';
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
