import http from 'node:http';
import { randomBytes } from 'node:crypto';

export type Answer = { status: number; body: string; ms: number };

/** One NDJSON fraud_indicator line for a carrier's +86171 numbers. */
export const feedLine = (): string => `${JSON.stringify({
  type: 'fraud_indicator',
  externalId: `slow-${randomBytes(4).toString('hex')}`,
  indicator: { kind: 'phone', value: `+86171${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` },
  confidence: 'suspected',
  observedAt: '2026-11-28T09:00:00+08:00',
})}\n`;

/**
 * An NDJSON feed sent one line every `everyMs` (a partner on a bad link, or one holding the request
 * open on purpose) until the server answers, `maxMs` passes, or `linesBeforeStall` lines are out.
 */
export function slowUpload(base: string, token: string, everyMs: number, maxMs: number, linesBeforeStall = Infinity): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/api/v1/feeds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson', 'Transfer-Encoding': 'chunked' },
    });
    let sent = 0;
    const timer = setInterval(() => {
      if (Date.now() - started > maxMs) {
        clearInterval(timer);
        req.end();
        return;
      }
      if (sent < linesBeforeStall && !req.destroyed) {
        req.write(feedLine());
        sent++;
      }
    }, everyMs);
    req.on('response', (res) => {
      clearInterval(timer);
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: Date.now() - started }));
    });
    req.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    req.write(feedLine());
  });
}

/** A request answered within 5 s, with how long it took. */
export async function timedFetch(base: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${base}${url}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}
