import type { CreateReportInput } from '../../server/reports/reports.schemas';

/** A valid report body; a test overrides only what it is about. */
export function reportBody(overrides: Partial<CreateReportInput> = {}): CreateReportInput {
  return {
    channel: 'hotline',
    fraudType: 'impersonation',
    occurredAt: '2026-11-28T09:12:00+08:00',
    victim: { name: 'Wang Fang', phone: '+8613800138000', idNumber: '330106199001011234' },
    narrative: 'Caller posing as a police officer asked for a "safe account" transfer.',
    currency: 'CNY',
    transfers: [
      { toAccount: '6222 0212 3456 7890', toAccountName: 'Li Ming', amountMinor: 5000000, transferredAt: '2026-11-28T09:30:00+08:00' },
    ],
    indicators: [{ kind: 'phone', value: '+86 171 0000 1234' }],
    ...overrides,
  };
}
