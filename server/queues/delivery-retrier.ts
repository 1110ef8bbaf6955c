import type { Db } from '../db';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { failedDeliveries } from '../tasks/task-lifecycle.repo';
import type { TaskLifecycleService } from '../tasks/task-lifecycle.service';

export type RetryReport = { institutions: number; probed: string[] };

/**
 * Sends failed deliveries again on their own, paced per institution so that a partner that is
 * down is not flooded: DELIVERY_RETRY_MS after its last failure one task goes alone, as a probe
 * (one delivery, no retries). If it fails, the next probe waits twice as long, up to
 * DELIVERY_RETRY_MAX_MS; once it (or any delivery to that institution) succeeds, the partner
 * worker sends all the institution's failed tasks again.
 */
export class DeliveryRetrier {
  /** Per institution with failed deliveries: the wait before its next probe, and its earliest time. */
  private readonly pace = new Map<string, { delayMs: number; notBefore: number }>();

  constructor(
    private readonly db: Db,
    private readonly lifecycle: TaskLifecycleService,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  async runOnce(now = Date.now()): Promise<RetryReport> {
    const { deliveryRetryMs, deliveryRetryMaxMs } = this.config.workers;
    const failing = await failedDeliveries(this.db);
    const report: RetryReport = { institutions: failing.length, probed: [] };
    // An institution with nothing failed starts from the first wait again next time.
    const seen = new Set(failing.map((f) => f.institutionId));
    for (const id of [...this.pace.keys()]) if (!seen.has(id)) this.pace.delete(id);
    for (const f of failing) {
      const pace = this.pace.get(f.institutionId) ?? { delayMs: Math.min(deliveryRetryMs, deliveryRetryMaxMs), notBefore: 0 };
      this.pace.set(f.institutionId, pace);
      if (now < Math.max(f.lastFailedAt.getTime() + pace.delayMs, pace.notBefore)) continue;
      const moved = await this.lifecycle.retryInstitution(f.institutionId, 'probe');
      if (moved === 0) continue;
      report.probed.push(f.institutionId);
      this.logger.info({ institutionId: f.institutionId, failedTasks: f.tasks, waitedMs: pace.delayMs }, 'probing a partner whose deliveries failed');
      pace.notBefore = now + pace.delayMs;
      pace.delayMs = Math.min(pace.delayMs * 2, deliveryRetryMaxMs);
    }
    return report;
  }
}
