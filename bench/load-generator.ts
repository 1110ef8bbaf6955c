/**
 * Load generation, always from a child process of its own so that the process under test (and the
 * orchestrator) never pays for it. The child makes up every request body first, says it is ready,
 * and starts autocannon only when told to: making up inputs is never on the clock, and two loads
 * prepared apart can start together.
 */
import autocannon from 'autocannon';
import { lookupBody, reportBody, screeningBody, type HotSpot, type LookupItem } from './inputs';
import { forkReady, goAndAnswer } from './processes';

export type BodySpec =
  /** Reports firstIndex, firstIndex + 1, …: distinct unless `hot`. */
  | { kind: 'reports'; firstIndex: number; count: number; hot?: HotSpot }
  /** `count` different screening batches, sent in turn. */
  | { kind: 'lookups'; count: number; itemsPerRequest: number; known: LookupItem[] }
  /** `count` different batches of payments to screen, `flaggedPerRequest` of each paying a known payee. */
  | { kind: 'screenings'; count: number; itemsPerRequest: number; known: LookupItem[]; flaggedPerRequest: number; refPrefix: string };

export type LoadSpec = {
  title: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Fixed rate over all connections (open loop); without it every connection sends as fast as it is answered. */
  overallRate?: number;
  bodies?: BodySpec;
};

export type LoadResult = {
  title: string;
  connections: number;
  durationSeconds: number;
  /** 2xx answers per second over the run. */
  rate: number;
  ok: number;
  non2xx: number;
  status5xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  /** Over every answer (any status), from the moment a request was sent. */
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number; mean: number };
  answers: number;
  startedAt: number;
  finishedAt: number;
  /** Bodies sent more than once, because the run outlasted the bodies made up for it. */
  bodiesReused: number;
};

// ---- the child ------------------------------------------------------------------------------------

function makeBodies(spec: BodySpec | undefined): string[] {
  if (!spec) return [];
  const now = Date.now();
  const bodies: string[] = new Array(spec.count);
  for (let k = 0; k < spec.count; k++) {
    bodies[k] = spec.kind === 'reports' ? reportBody(spec.firstIndex + k, now, spec.hot)
      : spec.kind === 'lookups' ? lookupBody(k, spec.itemsPerRequest, spec.known)
        : screeningBody(k, spec.itemsPerRequest, spec.known, spec.flaggedPerRequest, spec.refPrefix);
  }
  return bodies;
}

async function child(): Promise<void> {
  const spec = await new Promise<LoadSpec>((resolve) => process.once('message', (m) => resolve(m as LoadSpec)));
  const bodies = makeBodies(spec.bodies);
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!('ready');
  });

  let next = 0;
  const target = new URL(spec.url);
  // Every answer's time, kept whole: percentiles (p95 included) are computed from all of them,
  // not read off autocannon's histogram, which has no p95 and whole milliseconds only.
  const times: number[] = [];
  const startedAt = Date.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: target.origin,
      connections: spec.connections,
      duration: spec.durationSeconds,
      overallRate: spec.overallRate,
      // autocannon's coordinated-omission correction takes the expected interval as ceil(1 / rate)
      // milliseconds (rate per second per connection), i.e. 1 ms, and so adds made-up samples for
      // every millisecond of every answer. The fixed-rate phases measure what they need elsewhere
      // (the database) and check that the rate was held; their HTTP latencies are taken as measured.
      ignoreCoordinatedOmission: spec.overallRate !== undefined,
      timeout: 30,
      requests: [{
        method: spec.method,
        path: `${target.pathname}${target.search}`,
        headers: { ...spec.headers, ...(bodies.length ? { 'content-type': 'application/json' } : {}) },
        ...(bodies.length ? {
          setupRequest: (req: autocannon.Request) => {
            req.body = bodies[next % bodies.length];
            next++;
            return req;
          },
        } : {}),
      }],
    }, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, _status, _bytes, responseTime) => { times.push(responseTime); });
  });
  const finishedAt = Date.now();
  times.sort((a, b) => a - b);
  const at = (q: number) => (times.length ? times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]! : NaN);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number((s as { count: number }).count)]));
  const out: LoadResult = {
    title: spec.title,
    connections: spec.connections,
    durationSeconds: result.duration,
    rate: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    status5xx: result['5xx'],
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      p50: r2(at(0.5)), p90: r2(at(0.9)), p95: r2(at(0.95)), p99: r2(at(0.99)), max: r2(times[times.length - 1] ?? NaN),
      mean: r2(times.reduce((a, b) => a + b, 0) / Math.max(1, times.length)),
    },
    answers: times.length,
    startedAt,
    finishedAt,
    // Screening batches are meant to repeat; only reports are meant to be distinct.
    bodiesReused: spec.bodies?.kind === 'reports' ? Math.max(0, next - bodies.length) : 0,
  };
  process.send!(out);
}

// ---- the orchestrator's side ------------------------------------------------------------------------

export type PreparedLoad = { go(): Promise<LoadResult> };

/** Forks a load generator and waits until it has made up its inputs. */
export async function prepareLoad(spec: LoadSpec): Promise<PreparedLoad> {
  const child = await forkReady(__filename, '--load-generator', spec, `load generator "${spec.title}"`);
  return {
    async go() {
      const r = await goAndAnswer<LoadResult>(child);
      child.proc.disconnect();
      return r;
    },
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return (await prepareLoad(spec)).go();
}

if (process.argv[2] === '--load-generator') {
  // Without the orchestrator there is nobody to report to: stop.
  process.once('disconnect', () => process.exit(0));
  child().then(
    () => undefined,
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
