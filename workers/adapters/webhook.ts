import { createHmac } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { InstitutionWithSecret } from '../../server/admin/institutions.repo';
import { buildCamt056 } from '../../server/standards/iso20022';
import type { Task } from '../../server/tasks/tasks.repo';
import type { Adapter } from './adapter';

export const SIGNATURE_HEADER = 'X-AFRC-Signature';
export const TASK_ID_HEADER = 'X-AFRC-Task-Id';

export function signBody(rawBody: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
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

/**
 * POSTs the task (see webhookPayload), signed with the institution's secret. Admin-configured
 * URLs are trusted, loopback included. A non-2xx answer or a timeout throws, and the job is retried
 * with exponential backoff and jitter.
 */
export function webhookAdapter(timeoutMs: number, centerName: string): Adapter {
  return {
    async deliver(task, institution) {
      if (!institution.webhookUrl) throw new UnrecoverableError('the institution has no webhook URL');
      if (!institution.webhookSecret) throw new UnrecoverableError('the institution has no webhook secret to sign with');
      const { body, contentType } = webhookPayload(task, institution, centerName);
      let res: Response;
      try {
        res = await fetch(institution.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': contentType,
            [TASK_ID_HEADER]: task.id,
            [SIGNATURE_HEADER]: signBody(body, institution.webhookSecret),
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        throw new Error(`webhook POST failed: ${reason}`);
      }
      // Drain the body so the connection is released; its content is not ours to keep.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
    },
  };
}
