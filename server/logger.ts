import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials, cookies, victim identity and account numbers. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.clientSecret',
  '*.webhookSecret',
  '*.token',
  '*.idNumber',
  '*.victim.idNumber',
  '*.toAccount',
  '*.account',
];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'afrc', ...base }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
