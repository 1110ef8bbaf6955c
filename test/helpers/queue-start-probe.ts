/**
 * A process with one queue and one worker of BullMQ's PostgreSQL backend, both made while
 * DATABASE_URL may refuse connections (queue-store-start.test.ts). It says `tick` on a timer, so a
 * test sees whether its event loop still turns, and `processed <n>` for each job its worker runs.
 */
import { parseConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createQueueConnection } from '../../server/queues/connection';

const config = parseConfig(process.env);
const connection = createQueueConnection(config, createLogger('silent'));
const queue = connection.queue('start-probe');
const worker = connection.worker('start-probe', async (job) => {
  console.log(`processed ${String(job.data.n)}`);
  return job.data.n;
}, {});
worker.on('error', () => undefined);

let ticks = 0;
setInterval(() => console.log(`tick ${++ticks}`), 100);

// The queue made while PostgreSQL refused it enqueues once it answers.
const added = setInterval(() => {
  queue.add('probe', { n: 42 }).then(() => {
    clearInterval(added);
    console.log('added');
  }, () => undefined);
}, 300);

process.on('SIGTERM', () => {
  void Promise.allSettled([worker.close(), queue.close()]).then(() => connection.close()).finally(() => process.exit(0));
});
