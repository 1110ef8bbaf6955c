import { randomInt } from 'node:crypto';
import type { Actor } from '../auth/actor';
import type { Db } from '../db';
import type { Logger } from '../logger';
import { FRAUD_TYPES, type IndicatorKind } from '../domain/kinds';
import { loadRoutes } from '../admin/institutions.repo';
import type { ReportsService } from '../reports/reports.service';
import type { CreateReport } from '../reports/reports.schemas';

const NAMES = ['王芳', '李娜', '张伟', '刘洋', '陈静', '杨帆', '赵磊', '黄敏', '周杰', '吴倩'];
const NARRATIVES = [
  '自称公安民警来电，称受害人涉嫌洗钱，要求将资金转入“安全账户”。',
  '网购客服来电称订单异常需退款，诱导下载会议软件并转账。',
  '网友推荐投资平台，先小额返利，后大额充值无法提现。',
  '刷单兼职，前几单返佣，后以“任务未完成”为由要求继续转账。',
];

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** A plausible report built from the routes the demo center actually has, so its tasks route and get answered. */
export function demoReport(prefixes: Partial<Record<IndicatorKind, string[]>>, now = new Date()): CreateReport {
  const bins = prefixes.bank_account ?? ['622202'];
  const mobile = (prefixes.phone ?? ['+86171']).filter((p) => p.length >= 5);
  const transfers = Array.from({ length: 1 + randomInt(3) }, (_, i) => {
    const bin = pick(bins);
    return {
      toAccount: bin + digits(16 - bin.length),
      toAccountName: pick(NAMES),
      // whole yuan between ¥500 and ¥80,000, as integer fen
      amountMinor: (500 + randomInt(79500)) * 100,
      transferredAt: new Date(now.getTime() - (30 - i * 5) * 60000).toISOString(),
    };
  });
  const phonePrefix = pick(mobile);
  return {
    channel: pick(['hotline', 'walk_in', 'online', 'referral'] as const),
    fraudType: pick(FRAUD_TYPES),
    occurredAt: new Date(now.getTime() - 60 * 60000).toISOString(),
    victim: { name: pick(NAMES), phone: `+86138${digits(8)}` },
    narrative: pick(NARRATIVES),
    transfers,
    indicators: [
      { kind: 'phone', value: phonePrefix + digits(14 - phonePrefix.length) },
      { kind: 'url', value: `http://refund-${digits(4)}.example/pay` },
    ],
  };
}

/** Files a demo report every `intervalMs` as the demo officer, so the demo center is never idle. */
export function startDemoTraffic(db: Db, reports: ReportsService, officer: Actor, intervalMs: number, logger: Logger): () => void {
  const file = async () => {
    try {
      const routes = await loadRoutes(db);
      const prefixes: Partial<Record<IndicatorKind, string[]>> = {};
      for (const r of routes) (prefixes[r.indicatorKind] ??= []).push(r.prefix);
      const report = await reports.create(officer, demoReport(prefixes));
      logger.info({ caseNumber: report.caseNumber, tasks: report.tasks.length }, 'demo report filed');
    } catch (err) {
      logger.warn({ err }, 'demo report failed');
    }
  };
  void file();
  const timer = setInterval(() => void file(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
