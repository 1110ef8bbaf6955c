import { UnrecoverableError, type Job } from 'bullmq';
import { findInstitution, loadRoutes } from '../server/admin/institutions.repo';
import { AppError } from '../server/errors';
import { HOLD_EXPIRY_SCAN_JOB, OVERDUE_SCAN_JOB, SIMULATED_RESULT_JOB, SimulatedResultJob } from '../server/queues/maintenance';
import type { Deps } from '../server/wiring';
import { simulatedAnswer, type OnwardBank } from './adapters/simulated';

export const SIMULATED_PARTNER = { id: null, type: 'system', name: 'simulated partner' } as const;

async function onwardBanks(deps: Deps): Promise<OnwardBank[]> {
  const routes = (await loadRoutes(deps.db)).filter((r) => r.indicatorKind === 'bank_account');
  const byBank = new Map<string, string>();
  for (const r of routes.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1))) {
    if (!byBank.has(r.institutionId)) byBank.set(r.institutionId, r.prefix);
  }
  return [...byBank].map(([institutionId, prefix]) => ({ institutionId, prefix }));
}

/** The system queue's jobs: simulated partners' answers, the overdue scan and the hold expiry scan. */
export function maintenanceProcessor(deps: Deps) {
  const { db, config, logger, metrics, services } = deps;
  return async (job: Job): Promise<string> => {
    if (job.name === OVERDUE_SCAN_JOB) {
      const marked = await services.taskLifecycle.escalateOverdue();
      if (marked > 0) logger.info({ marked }, 'tasks escalated as overdue');
      metrics.jobsProcessed.inc({ queue: 'maintenance', result: 'overdue-scan' });
      return `escalated ${marked}`;
    }
    if (job.name === HOLD_EXPIRY_SCAN_JOB) {
      const expired = await services.holds.expireDue();
      if (expired > 0) logger.info({ expired }, 'holds expired');
      metrics.jobsProcessed.inc({ queue: 'maintenance', result: 'hold-expiry-scan' });
      return `expired ${expired}`;
    }
    if (job.name !== SIMULATED_RESULT_JOB) throw new UnrecoverableError(`unknown maintenance job ${job.name}`);

    const parsed = SimulatedResultJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('job data is not a simulated result job');
    const task = await services.tasks.find(parsed.data.taskId);
    if (!task || !['queued', 'dispatched'].includes(task.status) || !task.institutionId) return 'skipped';
    const institution = await findInstitution(db, task.institutionId);
    // The admin may have switched the institution to a real integration meanwhile: then its people answer.
    if (!institution || institution.integration !== 'simulated') return 'skipped';

    const body = simulatedAnswer(task, await onwardBanks(deps), config.maxTrailDepth);
    try {
      await services.taskResults.record(SIMULATED_PARTNER, task.id, body, 'simulated');
    } catch (err) {
      if (err instanceof AppError && err.code === 'task_closed') return 'skipped';
      if (err instanceof AppError && err.status < 500) throw new UnrecoverableError(`simulated answer refused: ${err.code} ${err.message}`);
      throw err;
    }
    metrics.jobsProcessed.inc({ queue: 'maintenance', result: `simulated-${body.outcome}` });
    return body.outcome;
  };
}
