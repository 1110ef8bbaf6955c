import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { createQueue } from './connection';
import type { RequestHandler, Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { FEEDS_QUEUE, MAINTENANCE_QUEUE, partnerQueueName } from './names';

/** Where the board is mounted, for admins only. */
export const QUEUE_BOARD_PATH = '/admin/queues';

const REFRESH_MS = 10_000;

/**
 * Bull Board over every queue: one per partner institution plus the system queues. Institutions
 * are data, so the list is rebuilt from them (at most every few seconds, on request) and a new
 * institution's queue shows up without a restart. Queues share the producer connection.
 */
export function queueBoard(opts: {
  basePath: string; redis: Redis; config: Config; logger: Logger; institutionIds: () => Promise<string[]>;
}): { refresh: RequestHandler; router: Router; close(): Promise<void> } {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(opts.basePath);
  const queues = new Map<string, Queue>();
  const board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'AFRC queues' } } });

  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = createQueue(name, opts.redis, opts.config.queuePrefix, opts.logger);
      queues.set(name, q);
    }
    return q;
  };

  let refreshedAt = 0;
  const refresh: RequestHandler = async (_req, _res, next) => {
    try {
      if (Date.now() - refreshedAt > REFRESH_MS) {
        const names = [...(await opts.institutionIds()).map(partnerQueueName), FEEDS_QUEUE, MAINTENANCE_QUEUE];
        board.replaceQueues(names.map((n) => new BullMQAdapter(queue(n))));
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
