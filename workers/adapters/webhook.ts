import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { UnrecoverableError } from 'bullmq';
import { resolveWebhookHost, systemLookup, WebhookTargetError, type Lookup } from '../../server/admin/webhook-dns';
import { urlProblem, type AllowedHosts } from '../../server/domain/webhook-target';
import type { InstitutionWithSecret } from '../../server/admin/institutions.repo';
import { buildCamt056 } from '../../server/standards/iso20022';
import type { Task } from '../../server/tasks/tasks.repo';
import type { Adapter } from './adapter';

export const SIGNATURE_HEADER = 'X-AFRC-Signature';
export const TIMESTAMP_HEADER = 'X-AFRC-Timestamp';
export const SIGNATURE_256_HEADER = 'X-AFRC-Signature-256';
export const TASK_ID_HEADER = 'X-AFRC-Task-Id';

const hmac = (secret: string) => createHmac('sha256', secret);

/** `sha256=<hex HMAC-SHA256 of the raw body>`: the first signature, kept for partners built on it. */
export function signBody(rawBody: Buffer | string, secret: string): string {
  return `sha256=${hmac(secret).update(rawBody).digest('hex')}`;
}

/**
 * Every signature header of one delivery, computed over the exact bytes sent (JSON or XML alike):
 * the body's signature, and the timestamped one a partner checks to refuse replays
 * (`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, timestamp in unix seconds).
 */
export function signatureHeaders(rawBody: Buffer, secret: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [SIGNATURE_HEADER]: signBody(rawBody, secret),
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_256_HEADER]: `sha256=${hmac(secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`,
  };
}

/**
 * What a delivery carries: the task as GET /tasks/:id returns it, or, for an ISO 20022 institution's
 * interception, the camt.056 cancellation request. Either way these are the bytes that are signed.
 */
export function webhookPayload(task: Task, institution: InstitutionWithSecret, centerName: string): { body: string; contentType: string } {
  if (institution.messageFormat === 'iso20022' && task.kind === 'intercept_funds') {
    return {
      body: buildCamt056(task, { center: { name: centerName }, institution: { id: institution.id, name: institution.name } }),
      contentType: 'application/xml; charset=utf-8',
    };
  }
  return { body: JSON.stringify(task), contentType: 'application/json; charset=utf-8' };
}

export type WebhookOptions = { timeoutMs: number; allowedHosts: AllowedHosts; lookup?: Lookup; centerName?: string };

/**
 * The HTTP client's name resolution, through the address check: the connection goes to the very
 * address that was checked (no second lookup for a rebinding DNS server to answer differently).
 */
function checkedLookup(opts: WebhookOptions): LookupFunction {
  return (hostname, options, callback) => {
    resolveWebhookHost(hostname, opts.allowedHosts, opts.lookup ?? systemLookup).then(
      ({ address, family }) => (options.all ? callback(null, [{ address, family }]) : callback(null, address, family)),
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * POSTs one signed body to a webhook URL and answers the status. The URL is checked on its face
 * (a literal address is never looked up), its host name when the connection resolves it; no
 * redirect is followed, and the answer's body is read and dropped: it is not ours to keep or show.
 */
export async function postSigned(
  url: string, body: Buffer, headers: Record<string, string>, secret: string, opts: WebhookOptions,
): Promise<number> {
  const problem = urlProblem(url, opts.allowedHosts);
  if (problem) throw new UnrecoverableError(`webhook URL refused: ${problem}`);
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(target, {
      method: 'POST',
      headers: { ...headers, ...signatureHeaders(body, secret), 'content-length': String(body.length) },
      lookup: checkedLookup(opts),
      signal: AbortSignal.timeout(opts.timeoutMs),
      agent: false,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', (err: Error) => {
      if (err instanceof WebhookTargetError) reject(new UnrecoverableError(`webhook URL refused: ${err.message}`));
      else reject(new Error(`webhook POST failed: ${err.name === 'AbortError' ? `no answer within ${opts.timeoutMs} ms` : err.message}`));
    });
    req.end(body);
  });
}

/**
 * POSTs the task (see webhookPayload), signed with the institution's secret, to a public
 * address only (or one in WEBHOOK_ALLOWED_HOSTS). A non-2xx answer or a timeout throws, and the
 * job is retried with exponential backoff and jitter; a refused address fails it at once.
 */
export function webhookAdapter(opts: WebhookOptions): Adapter {
  return {
    async deliver(task, institution) {
      if (!institution.webhookUrl) throw new UnrecoverableError('the institution has no webhook URL');
      if (!institution.webhookSecret) throw new UnrecoverableError('the institution has no webhook secret to sign with');
      const { body, contentType } = webhookPayload(task, institution, opts.centerName ?? '');
      const status = await postSigned(institution.webhookUrl, Buffer.from(body, 'utf8'), {
        'content-type': contentType,
        [TASK_ID_HEADER]: task.id,
      }, institution.webhookSecret, opts);
      if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`);
    },
  };
}
