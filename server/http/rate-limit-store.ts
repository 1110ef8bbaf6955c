import type { ClientRateLimitInfo, IncrementResponse, Logger as RateLimitLogger, Options, Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Config } from '../config';
import type { DependencyWatch } from '../dependencies';
import type { Logger } from '../logger';
import type { Db } from '../db';
import type { QueueConnection } from '../queues/connection';
import { countHit, forgetEndedWindows, forgetKey, readHits, uncountHit } from './rate-limit-counters.repo';

/**
 * Makes the store of one rate limiter (express-rate-limit's `store` option), shared by every web
 * process: in Redis on the Redis queue backend (rate-limit-redis), in PostgreSQL on the PostgreSQL
 * backend, where there is no Redis. `name` keeps each limiter's counters apart ("login-user",
 * "case-status", a quota…).
 */
export type RateLimitStores = (name: string) => Store;

/** The window of a store read before express-rate-limit has initialised it. */
const DEFAULT_WINDOW_MS = 60_000;

export function createRateLimitStores(queues: QueueConnection, db: Db, config: Config): RateLimitStores {
  const redis = queues.redis;
  if (redis) {
    return (name) => {
      const prefix = `${config.queuePrefix}:rate-limit:${name}:`;
      return new RedisRateLimitStore(prefix, () => new RedisStore({
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
        prefix,
      }));
    };
  }
  return (name) => new PostgresRateLimitStore(db, `${name}:`);
}

/**
 * express-rate-limit's `logger` for every limiter of ours. A store that cannot be reached is the
 * DependencyWatch's to say, once per outage, in the JSON log (the library's own logger writes a
 * plain-text stack to the console for every request meanwhile); any other store error is logged.
 */
export function rateLimitLogger(deps: { health: DependencyWatch; logger: Logger; queues: QueueConnection }): RateLimitLogger {
  const source = deps.queues.redis ? 'redis' : undefined;
  const log = (level: 'warn' | 'error') => (err: unknown, message?: string) => {
    if (deps.health.failed(err, source)) return;
    deps.logger[level]({ err }, message ?? 'rate limiter store error');
  };
  return { warn: log('warn'), error: log('error') };
}

/**
 * rate-limit-redis (which does the counting) loads its scripts once, when it is initialised: with
 * Redis down at that moment, it would fail every later call, Redis back or not. This starts it on
 * first use instead, and starts it again on the next use after a failed start.
 */
class RedisRateLimitStore implements Store {
  readonly localKeys = false;
  private options: Options | undefined;
  private started: Promise<RedisStore> | undefined;

  constructor(readonly prefix: string, private readonly make: () => RedisStore) {}

  init(options: Options): void {
    this.options = options;
  }

  private store(): Promise<RedisStore> {
    if (!this.started) {
      const starting = (async () => {
        const store = this.make();
        // Its window, once express-rate-limit has said (a store read before that only reads).
        await store.init(this.options ?? ({ windowMs: DEFAULT_WINDOW_MS } as Options));
        return store;
      })();
      starting.catch(() => {
        if (this.started === starting) this.started = undefined;
      });
      this.started = starting;
    }
    return this.started;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const info = await (await this.store()).get(key);
    // A key with no window running reads as no hits at all (rate-limit-redis answers NaN hits).
    return info && Number.isFinite(info.totalHits) ? info : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    return (await this.store()).increment(key);
  }

  async decrement(key: string): Promise<void> {
    await (await this.store()).decrement(key);
  }

  async resetKey(key: string): Promise<void> {
    await (await this.store()).resetKey(key);
  }
}

/** How often a store sweeps the rows of its ended windows, at most. */
const SWEEP_EVERY_MS = 60_000;

/** Counters in the rate_limit_counters table: one atomic upsert per hit. */
export class PostgresRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = DEFAULT_WINDOW_MS;
  private sweptAt = 0;

  constructor(private readonly db: Db, readonly prefix: string) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const counted = await readHits(this.db, this.prefix + key);
    return counted ? { totalHits: counted.hits, resetTime: counted.resetAt } : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const counted = await countHit(this.db, this.prefix + key, this.windowMs);
    if (Date.now() - this.sweptAt > SWEEP_EVERY_MS) {
      this.sweptAt = Date.now();
      void forgetEndedWindows(this.db, this.prefix).catch(() => undefined);
    }
    return { totalHits: counted.hits, resetTime: counted.resetAt };
  }

  async decrement(key: string): Promise<void> {
    await uncountHit(this.db, this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await forgetKey(this.db, this.prefix + key);
  }
}
