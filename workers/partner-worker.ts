import { UnrecoverableError, type Job } from 'bullmq';
import { TaskJob } from '../server/queues/jobs';
import { partnerQueueName } from '../server/queues/names';
import type { Deps } from '../server/wiring';
import type { Adapters } from './adapters/adapter';

export type PartnerJobResult = 'missing' | 'skipped' | 'dispatched' | 'raced';

/**
 * At-least-once delivery, exactly-once effect: reload the task, skip what is no longer queued,
 * hand it to the adapter of the institution's integration, and mark it dispatched only while it is
 * still queued there, so a second copy of the job (a retry, a stalled job picked up elsewhere) changes nothing.
 */
export function partnerProcessor(deps: Deps, adapters: Adapters, institutionId: string) {
  const { logger, metrics, services } = deps;
  const queue = partnerQueueName(institutionId);
  // Set by a failed attempt here: the next delivery that succeeds sends the institution's failed
  // deliveries again, without waiting for the next probe (DeliveryRetrier).
  let failing = false;
  return async (job: Job): Promise<PartnerJobResult> => {
    const parsed = TaskJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('job data is not a task job');
    const { taskId, probe } = parsed.data;

    const found = await services.taskLifecycle.forDispatch(taskId);
    if (!found) return done('missing');
    const { task, institution } = found;
    if (task.status !== 'queued' || task.institutionId !== institutionId) return done('skipped');
    if (!institution) throw new UnrecoverableError(`institution ${institutionId} does not exist`);

    try {
      await adapters[institution.integration].deliver(task, institution);
    } catch (err) {
      const attempt = job.attemptsMade + 1;
      const last = err instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      const message = err instanceof Error ? err.message : String(err);
      logger.warn({ taskId, institutionId, attempt, last, probe, err: message }, 'delivery failed');
      failing = true;
      // Never a silent drop: after the last attempt the task itself shows the failure.
      if (last) await services.taskLifecycle.recordDeliveryFailure(taskId, institutionId, message, attempt);
      metrics.jobsProcessed.inc({ queue, result: last ? 'failed' : 'retry' });
      throw err;
    }
    const won = await services.taskLifecycle.markDispatched(taskId, institutionId, institution.integration);
    if (probe || failing) {
      failing = false;
      // The partner answers again: its failed deliveries go now, each once (a task moves back to
      // queued once, whichever process gets there first).
      try {
        const resent = await services.taskLifecycle.retryInstitution(institutionId, 'all');
        if (resent > 0) logger.info({ institutionId, tasks: resent }, 'partner answers again; failed deliveries sent again');
      } catch (err) {
        // This task is delivered; the others wait for the next success or probe.
        failing = true;
        logger.warn({ institutionId, err: err instanceof Error ? err.message : String(err) }, 'could not send failed deliveries again');
      }
    }
    return done(won ? 'dispatched' : 'raced');
  };

  function done(result: PartnerJobResult): PartnerJobResult {
    metrics.jobsProcessed.inc({ queue, result });
    return result;
  }
}
