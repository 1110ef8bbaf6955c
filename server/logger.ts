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

/**
 * A URL as the log keeps it: the path, and each query parameter's name with its value redacted.
 * Query strings carry search terms (ID numbers, phones, names, accounts) that must not be logged.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const names = url.slice(q + 1).split('&').filter(Boolean).map((pair) => pair.split('=')[0]);
  return `${url.slice(0, q)}?${names.map((n) => `${n}=[redacted]`).join('&')}`;
}

/** pino-http's request serializer, less what carries a query's values. */
export function serializeRequest(req: { url?: string; query?: unknown; params?: unknown }): Record<string, unknown> {
  const { query: _query, params: _params, ...rest } = req;
  return { ...rest, url: typeof req.url === 'string' ? redactQuery(req.url) : req.url };
}

export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options = { level, base: { service: 'afrc', ...base }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
