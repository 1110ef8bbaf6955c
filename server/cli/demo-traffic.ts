import type { Actor } from '../auth/actor';
import { findUserByUsername } from '../admin/users.repo';
import type { Db } from '../db';
import { FRAUD_TYPES } from '../domain/kinds';
import type { Logger } from '../logger';
import type { ReportsService } from '../reports/reports.service';
import type { CreateReport } from '../reports/reports.schemas';
import { DEMO_INSTITUTIONS } from './seed';

// Card BINs and mobile segments of the seeded demo institutions, so every generated transfer and
// number is routed to a simulated partner.
const BINS = DEMO_INSTITUTIONS.flatMap((i) => i.routes.bank_account ?? []);
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

/** Files a demo report now and then every `everyMs`, as the seeded officer, until stopped. */
export async function startDemoTraffic(db: Db, reports: ReportsService, logger: Logger, everyMs: number): Promise<() => void> {
  const user = await findUserByUsername(db, 'officer');
  if (!user) {
    logger.warn('no demo officer: the demo files no reports by itself');
    return () => undefined;
  }
  const actor: Actor = { id: user.id, type: 'user', name: user.username, role: user.role, institutionId: user.institutionId };
  const file = async () => {
    try {
      const report = await reports.create(actor, demoReport());
      logger.info({ caseNumber: report.caseNumber, tasks: report.tasks.length }, 'demo report filed');
    } catch (err) {
      logger.warn({ err }, 'demo report could not be filed');
    }
  };
  void file();
  const timer = setInterval(() => void file(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
