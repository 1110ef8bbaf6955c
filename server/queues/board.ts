import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { JobQueue, QueueConnection } from './connection';
import type { RequestHandler, Router } from 'express';
import { FEEDS_QUEUE, MAINTENANCE_QUEUE, partnerQueueName } from './names';

/** Where the board is mounted, for admins only. */
export const QUEUE_BOARD_PATH = '/admin/queues';

const REFRESH_MS = 10_000;

/**
 * Bull Board over every queue: one per partner institution plus the system queues. Institutions
 * are data, so the list is rebuilt from them (at most every few seconds, on request) and a new
 * institution's queue shows up without a restart. Queues share the producer connection. It reads
 * either backend: on PostgreSQL its store panel shows the database instead of Redis.
 */
export function queueBoard(opts: {
  basePath: string; queues: QueueConnection; institutionIds: () => Promise<string[]>;
}): { refresh: RequestHandler; router: Router; close(): Promise<void> } {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(opts.basePath);
  const queues = new Map<string, JobQueue>();
  const board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'AFRC queues' } } });

  const queue = (name: string): JobQueue => {
    let q = queues.get(name);
    if (!q) {
      q = opts.queues.queue(name);
      queues.set(name, q);
    }
    return q;
  };

  let refreshedAt = 0;
  const refresh: RequestHandler = async (_req, _res, next) => {
    try {
      if (Date.now() - refreshedAt > REFRESH_MS) {
        const names = [...(await opts.institutionIds()).map(partnerQueueName), FEEDS_QUEUE, MAINTENANCE_QUEUE];
        // The adapter's Queue type is the Redis one; it reads either backend through the queue's own API.
        board.replaceQueues(names.map((n) => new BullMQAdapter(queue(n) as ConstructorParameters<typeof BullMQAdapter>[0])));
        refreshedAt = Date.now();
      }
      next();
    } catch (err) {
      next(err);
    }
  };

  return {
    refresh,
    router: serverAdapter.getRouter() as Router,
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
    },
  };
}
