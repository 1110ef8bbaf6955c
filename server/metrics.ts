import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process wiring, so parallel test apps never collide on metric names. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'afrc_' });
  const httpRequests = new Counter({
    name: 'afrc_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'afrc_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const tasksCreated = new Counter({
    name: 'afrc_tasks_created_total',
    help: 'Tasks created by kind and routing status',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
  });
  const tasksClosed = new Counter({
    name: 'afrc_task_results_total',
    help: 'Task results by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const jobsProcessed = new Counter({
    name: 'afrc_jobs_processed_total',
    help: 'Queue jobs processed by queue and result',
    labelNames: ['queue', 'result'] as const,
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, tasksCreated, tasksClosed, jobsProcessed };
}

export type Metrics = ReturnType<typeof createMetrics>;
