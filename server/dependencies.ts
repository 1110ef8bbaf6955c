import type { QueueConnection } from './queues/connection';
import type { Db } from './db';
import { dependencyOf, type Dependency } from './errors';
import type { Logger } from './logger';

export type { Dependency };

const PROBE_TIMEOUT_MS = 1500;
const FIRST_PROBE_MS = 500;
const MAX_PROBE_MS = 30_000;

/** What each missing dependency means to an operator, and what to do about it. */
const ADVICE: Record<Dependency, string> = {
  postgres: 'PostgreSQL is unreachable: requests that need it answer 503 and background work waits',
  redis: 'Redis is unreachable: reports are still taken and their tasks wait in PostgreSQL until it is back',
  migrations: 'the database is not migrated: run npm run db:migrate (or npm run db:migrate:dist), then restart',
};

export type Readiness = {
  status: 'ready' | 'unavailable';
  postgres: boolean;
  /** Only on the Redis queue backend: on the PostgreSQL one there is no Redis to ask. */
  redis?: boolean;
  queueBackend: QueueConnection['backend'];
  migrations: boolean;
  reasons: string[];
};

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * The one place that decides what a process does when PostgreSQL, Redis or the schema is missing:
 * it logs one line when a dependency goes and one when it is back (never a line per failed call),
 * probes it meanwhile with a growing backoff, and tells readiness and the background loops the
 * truth. Everything that meets a failure hands it here (`failed`) instead of logging it.
 */
export class DependencyWatch {
  private readonly down = new Map<Dependency, { since: Date; reason: string }>();
  private readonly probes = new Map<Dependency, NodeJS.Timeout>();
  private migrated = false;
  private closed = false;
  private markMigrated!: () => void;
  /** Settles once the schema is seen complete; never, if the process closes first. */
  readonly schemaReady = new Promise<void>((resolve) => {
    this.markMigrated = resolve;
  });

  constructor(
    private readonly db: Db,
    private readonly queues: QueueConnection,
    private readonly logger: Logger,
    /** Migrations this build has, and whether the database has applied them (`db.migrate.list`). */
    private readonly pendingMigrations: () => Promise<string[]> = async () => {
      const [, pending] = (await db.migrate.list()) as [unknown[], unknown[]];
      return pending.map((m) => (typeof m === 'string' ? m : String((m as { file?: string; name?: string }).file ?? (m as { name?: string }).name)));
    },
  ) {
    // On the Redis backend the producer connection tells of Redis; on the PostgreSQL one the queue
    // store is PostgreSQL itself, watched as such.
    queues.redis?.on('ready', () => this.ok('redis'));
    queues.redis?.on('error', (err) => this.failed(err, 'redis'));
    queues.redis?.on('end', () => this.fail('redis', 'connection ended'));
  }

  /** Checks the schema once at start: an unmigrated database is said at once, in one line. */
  async start(): Promise<void> {
    await this.checkMigrations().catch((err) => this.failed(err));
  }

  /** True while `dep` (or, without one, every dependency) answers, as far as this process knows. */
  isUp(dep?: Dependency): boolean {
    return dep ? !this.down.has(dep) : this.down.size === 0;
  }

  /**
   * Takes any failure: a dependency being unavailable is recorded (one line per outage) and true is
   * answered; anything else is left to the caller (false). `source` names where an error event came
   * from when the error itself cannot say (an ioredis or BullMQ connection).
   */
  failed(err: unknown, source?: 'redis'): boolean {
    const dep = dependencyOf(err, source);
    if (!dep) return false;
    this.fail(dep, err instanceof Error ? err.message : String(err));
    return true;
  }

  fail(dep: Dependency, reason: string): void {
    if (this.closed) return;
    if (this.down.has(dep)) return;
    this.down.set(dep, { since: new Date(), reason });
    this.logger.error({ dependency: dep, reason }, ADVICE[dep]);
    if (dep !== 'redis') this.probe(dep, FIRST_PROBE_MS);
    // Redis is probed by ioredis itself: it reconnects with a backoff and says 'ready' when back.
  }

  ok(dep: Dependency): void {
    const was = this.down.get(dep);
    if (!was) return;
    this.down.delete(dep);
    clearTimeout(this.probes.get(dep));
    this.probes.delete(dep);
    this.logger.info({ dependency: dep, downForMs: Date.now() - was.since.getTime() }, `${dep} is back`);
  }

  /** Probes a lost dependency with a doubling delay until it answers. */
  private probe(dep: Dependency, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(async () => {
      try {
        if (dep === 'postgres') {
          await within(this.db.raw('select 1'), PROBE_TIMEOUT_MS);
          this.ok('postgres');
        } else if (dep === 'migrations') {
          await this.checkMigrations();
        }
      } catch (err) {
        this.failed(err);
      }
      if (this.down.has(dep)) this.probe(dep, Math.min(delayMs * 2, MAX_PROBE_MS));
    }, delayMs);
    timer.unref();
    this.probes.set(dep, timer);
  }

  private async checkMigrations(): Promise<void> {
    if (this.migrated) return;
    const pending = await within(this.pendingMigrations(), PROBE_TIMEOUT_MS * 2);
    this.ok('postgres');
    if (pending.length === 0) {
      this.migrated = true;
      this.markMigrated();
      this.ok('migrations');
    } else {
      this.fail('migrations', `${pending.length} migration(s) not applied, the first ${pending[0]}`);
    }
  }

  /** Readiness as /readyz tells it: asks PostgreSQL, Redis and the schema now, under a short timeout. */
  async readiness(): Promise<Readiness> {
    const [postgres, store] = await Promise.all([
      within(this.db.raw('select 1'), PROBE_TIMEOUT_MS).then(() => true, () => false),
      within(this.queues.ping(), PROBE_TIMEOUT_MS).then(() => true, () => false),
    ]);
    const onRedis = this.queues.backend === 'redis';
    if (postgres) {
      this.ok('postgres');
      await this.checkMigrations().catch((err) => this.failed(err));
    } else {
      this.fail('postgres', 'no answer to select 1');
    }
    if (store && onRedis) this.ok('redis');
    const migrations = postgres && this.migrated;
    const reasons: string[] = [];
    if (!postgres) reasons.push(ADVICE.postgres);
    if (!store) reasons.push(onRedis ? ADVICE.redis : 'the queue tables in PostgreSQL do not answer');
    if (postgres && !migrations) reasons.push(`${ADVICE.migrations} (${this.down.get('migrations')?.reason ?? 'pending migrations'})`);
    const ready = postgres && store && migrations;
    return {
      status: ready ? 'ready' : 'unavailable',
      postgres,
      ...(onRedis ? { redis: store } : {}),
      queueBackend: this.queues.backend,
      migrations,
      reasons,
    };
  }

  close(): void {
    this.closed = true;
    for (const timer of this.probes.values()) clearTimeout(timer);
    this.probes.clear();
  }
}
