import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CURRENCIES, TASK_KINDS, type TaskKind } from './domain/kinds';
import { TASK_KIND_TABLE } from './domain/task-kinds';
import { parseBlockingRule } from './domain/indicator-rules';
import { parseAllowedHosts } from './domain/webhook-target';

// The only reader of process.env. Everything else receives a frozen, typed Config.

const DEV_JWT_SECRET = 'afrc-development-secret-do-not-use-in-production';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

// The legal basis printed on a money task's request to the bank. The defaults cite the PRC laws a
// center acts under; a center elsewhere sets its own (LEGAL_BASIS_TEXT for every language, or
// LEGAL_BASIS_TEXT_EN / LEGAL_BASIS_TEXT_ZH_CN per language).
const LEGAL_BASIS_DEFAULTS = {
  en: 'Under the Anti-Telecom and Online Fraud Law of the People\'s Republic of China and the Criminal Procedure Law of the '
    + 'People\'s Republic of China, the institution named below is requested to stop payment on, or freeze, the funds in the '
    + 'account below up to the amount stated, and to report the measures taken to this center without delay.',
  'zh-CN': '根据《中华人民共和国反电信网络诈骗法》《中华人民共和国刑事诉讼法》的有关规定，请贵单位对下列账户内的涉案资金'
    + '在所列金额内采取紧急止付或冻结措施，并将处理结果及时反馈本中心。',
} as const;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const dueShape = Object.fromEntries(
  TASK_KINDS.map((kind) => [`DUE_MINUTES_${kind.toUpperCase()}`, positiveInt(TASK_KIND_TABLE[kind].dueMinutes)]),
) as Record<string, z.ZodDefault<z.ZodCoercedNumber<unknown>>>;

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/postgres'),
    DATABASE_POOL_MAX: positiveInt(10),
    // Token checks and indicator lookups (screening, called inline with payments) have connections
    // of their own, so they never queue behind a burst of reports for the main pool.
    DATABASE_READ_POOL_MAX: positiveInt(4),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    // Where the queues live. Redis is the production default; without REDIS_URL they run on
    // BullMQ's PostgreSQL backend in DATABASE_URL's database (schema bullmq), so nothing but
    // PostgreSQL is needed. Set explicitly, `redis` without REDIS_URL means the local Redis.
    QUEUE_BACKEND: z.enum(['redis', 'postgres']).optional(),
    // Connections each worker's queue may open on the PostgreSQL backend (beside its one
    // LISTEN connection); the producers of a process share a pool of this size too.
    QUEUE_POSTGRES_POOL_MAX: positiveInt(2),
    // Without one, the prefix is derived from the database (databaseQueuePrefix): two deployments
    // sharing a Redis but not a database must never take each other's jobs.
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_{}-]{1,64}$/, 'letters, digits, : _ - { } only').optional(),
    // Where browsers reach the center. An https: address (or a trusted proxy saying
    // X-Forwarded-Proto: https) turns on HSTS, upgrade-insecure-requests and Secure cookies;
    // without either the pages work over plain http (a demo opened by address from another PC).
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    // Express's "trust proxy": true, a hop count, or addresses/subnets (loopback, 10.0.0.0/8, …).
    TRUST_PROXY: z.string().min(1).optional().transform((v, ctx) => {
      if (v === undefined || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      if (/^[\w.:/, -]+$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: 'true, false, a number of hops, or a comma-separated list of addresses or subnets' });
      return z.NEVER;
    }),
    // Stop when the process that started this one goes away (npm killed with SIGKILL by a timeout or
    // an IDE), instead of running on orphaned. On by default under an npm script.
    STOP_WITH_PARENT: z.enum(['true', 'false']).optional(),
    npm_lifecycle_event: z.string().optional(),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_ISSUER: z.string().min(1).default('afrc'),
    JWT_AUDIENCE: z.string().min(1).default('afrc'),
    JWT_TTL_SECONDS: positiveInt(8 * 3600),
    DEFAULT_CURRENCY: z.string().refine((c) => CURRENCIES.has(c), 'an active ISO 4217 code such as CNY').default('CNY'),
    DEFAULT_REGION: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 country code such as CN').default('CN'),
    TIME_ZONE: z.string().default('Asia/Shanghai'),
    // How the center names itself to other systems: the STIX identity of its exports, the
    // originator of its ISO 20022 recall requests.
    CENTER_NAME: z.string().trim().min(1).max(140).default('Anti-Fraud Joint Response Center'),
    ADMIN_USERNAME: z.string().min(3).optional(),
    ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    JSON_BODY_LIMIT: z.string().default('5mb'),
    FEED_BODY_LIMIT: z.string().default('50mb'),
    // How long a request body may take to arrive in full, and how long it may stall mid-way; past
    // either a feed is answered 408 request_timeout (nothing of it stored). A 50 MiB feed needs
    // about 0.5 MiB/s to make it in the default 120 s.
    BODY_TIMEOUT_MS: positiveInt(120_000),
    BODY_IDLE_TIMEOUT_MS: positiveInt(20_000),
    // How long a client may take to send a request's headers.
    HEADERS_TIMEOUT_MS: positiveInt(20_000),
    // Per lane transaction. A million-line feed (bench/feed-ingest.ts) took 42–51 s at 20000
    // against 50–62 s at 5000: each transaction, and each run's wait for its slower lane, costs.
    FEED_CHUNK_SIZE: positiveInt(20000),
    FEED_SEGMENT_SIZE: positiveInt(20000),
    INDICATOR_BLOCKING_RULE: z.string().default('confirmed,institutions:2,reported').transform((spec, ctx) => {
      try {
        return Object.freeze(parseBlockingRule(spec));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'a comma-separated list of confirmed, institutions:N, reported' });
        return z.NEVER;
      }
    }),
    LOGIN_RATE_LIMIT: positiveInt(10),
    // Failed case-status checks (API and /status page together) per address per 15 minutes.
    CASE_STATUS_RATE_LIMIT: positiveInt(10),
    // Quotas per caller, per QUOTA_WINDOW_SECONDS: requests by one person (USER) or one partner
    // system's client (CLIENT), counted across every web process. Far above what a desk or a
    // partner's integration does; they stop a runaway script or a stolen token, nothing else.
    QUOTA_WINDOW_SECONDS: positiveInt(60),
    QUOTA_REPORTS_USER: positiveInt(120),
    QUOTA_LOOKUPS_USER: positiveInt(600),
    QUOTA_LOOKUPS_CLIENT: positiveInt(6000),
    QUOTA_SCREENING_USER: positiveInt(600),
    QUOTA_SCREENING_CLIENT: positiveInt(6000),
    QUOTA_FEEDS_USER: positiveInt(60),
    QUOTA_FEEDS_CLIENT: positiveInt(300),
    // The partner workers coalesce their task reads and dispatch marks across the jobs running
    // at once (task-lifecycle.service.ts): more jobs at once make bigger, cheaper batches. Over
    // 10 manual partners, 30,000 tasks were dispatched at about 1,500/s with 5, 3,700/s with 20.
    WORKER_CONCURRENCY: positiveInt(20),
    WORKER_RATE_MAX: positiveInt(1000),
    WORKER_RATE_DURATION_MS: positiveInt(1000),
    JOB_ATTEMPTS: positiveInt(8),
    JOB_BACKOFF_MS: positiveInt(1000),
    // A task whose deliveries ran out is offered again on its own: first one task as a probe of its
    // institution, after DELIVERY_RETRY_MS, doubling each failed round up to DELIVERY_RETRY_MAX_MS;
    // once a delivery to that institution succeeds, all its failed tasks go again.
    DELIVERY_RETRY_MS: positiveInt(60_000),
    DELIVERY_RETRY_MAX_MS: positiveInt(30 * 60_000),
    WEBHOOK_TIMEOUT_MS: positiveInt(10000),
    // Hosts or addresses a webhook may point to although they are not public (loopback, private):
    // comma-separated, for demos and tests. Production leaves it empty.
    WEBHOOK_ALLOWED_HOSTS: z.string().default(''),
    RECONCILE_INTERVAL_MS: positiveInt(5000),
    RECONCILE_MIN_AGE_MS: positiveInt(3000),
    INSTITUTION_POLL_MS: positiveInt(5000),
    OVERDUE_SCAN_MS: positiveInt(30000),
    SIMULATED_DELAY_MS: z.coerce.number().int().min(0).default(4000),
    // A simulated bank pays an ordered return after this long (the demo shows money coming back).
    SIMULATED_RETURN_DELAY_MS: z.coerce.number().int().min(0).default(20000),
    // Legal clocks of holds (PRC defaults): an emergency stop-payment lasts 48 h and may be renewed
    // once; a freeze lasts six months (180 days) and may be renewed any number of times, each renewal
    // a new term from the old expiry. Holds within the warning window show as expiring soon.
    HOLD_STOP_PAYMENT_SECONDS: positiveInt(172800),
    HOLD_STOP_PAYMENT_RENEWALS: z.coerce.number().int().min(0).default(1),
    HOLD_FREEZE_SECONDS: positiveInt(15552000),
    HOLD_WARNING_SECONDS: positiveInt(604800),
    HOLD_SCAN_MS: positiveInt(30000),
    // An account holder's dispute is decided within 3 days.
    DISPUTE_DUE_SECONDS: positiveInt(259200),
    MAX_TRAIL_DEPTH: positiveInt(6),
    // The language of the center's own documents (a money task's printable request), whatever the
    // language of the page that shows it.
    CENTER_LANGUAGE: z.enum(['en', 'zh-CN']).default('zh-CN'),
    LEGAL_BASIS_TEXT: z.string().trim().min(1).max(4000).optional(),
    LEGAL_BASIS_TEXT_EN: z.string().trim().min(1).max(4000).optional(),
    LEGAL_BASIS_TEXT_ZH_CN: z.string().trim().min(1).max(4000).optional(),
    // Per transfer (and onward transfer): 10^12 fen is ten billion yuan, far above any transfer a
    // victim makes. At most 2^53 - 1, so each amount is an exact JSON number; statistics add them up
    // as exact big integers, so no number of them can break or round a total.
    MAX_AMOUNT_MINOR: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1_000_000_000_000),
    // How far ahead of this server's clock a reported time (occurredAt, transferredAt, observedAt) may be.
    MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).default(300),
    SHUTDOWN_TIMEOUT_MS: positiveInt(10000),
    ...dueShape,
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
  });

export function parseConfig(env: Record<string, string | undefined>) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  const dueMinutes = Object.fromEntries(
    TASK_KINDS.map((kind) => [kind, (e as Record<string, unknown>)[`DUE_MINUTES_${kind.toUpperCase()}`] as number]),
  ) as Record<TaskKind, number>;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReadPoolMax: e.DATABASE_READ_POOL_MAX,
    queueBackend: e.QUEUE_BACKEND ?? (e.REDIS_URL ? 'redis' : 'postgres'),
    redisUrl: e.REDIS_URL ?? DEFAULT_REDIS_URL,
    queuePostgresPoolMax: e.QUEUE_POSTGRES_POOL_MAX,
    queuePrefix: e.QUEUE_PREFIX ?? databaseQueuePrefix(e.DATABASE_URL),
    publicUrl: e.PUBLIC_URL,
    /** Served over https by the deployment's own word (PUBLIC_URL); a trusted proxy may also say so per request. */
    httpsByDeployment: e.PUBLIC_URL?.startsWith('https:') ?? false,
    trustProxy: e.TRUST_PROXY,
    stopWithParent: e.STOP_WITH_PARENT ? e.STOP_WITH_PARENT === 'true' : Boolean(e.npm_lifecycle_event),
    jwt: Object.freeze({
      secret: e.JWT_SECRET ?? DEV_JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      ttlSeconds: e.JWT_TTL_SECONDS,
    }),
    defaultCurrency: e.DEFAULT_CURRENCY,
    defaultRegion: e.DEFAULT_REGION,
    timeZone: e.TIME_ZONE,
    centerName: e.CENTER_NAME,
    admin: e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    logLevel: e.NODE_ENV === 'test' && !env.LOG_LEVEL ? 'silent' : e.LOG_LEVEL,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    feedBodyLimit: e.FEED_BODY_LIMIT,
    feedChunkSize: e.FEED_CHUNK_SIZE,
    http: Object.freeze({
      bodyTimeoutMs: e.BODY_TIMEOUT_MS,
      bodyIdleTimeoutMs: e.BODY_IDLE_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    }),
    feedSegmentSize: e.FEED_SEGMENT_SIZE,
    blockingRule: e.INDICATOR_BLOCKING_RULE,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    caseStatusRateLimit: e.CASE_STATUS_RATE_LIMIT,
    quotas: Object.freeze({
      windowSeconds: e.QUOTA_WINDOW_SECONDS,
      // Only people file reports: a partner system's client has no report quota to spend.
      reports: Object.freeze({ user: e.QUOTA_REPORTS_USER, client: e.QUOTA_REPORTS_USER }),
      lookups: Object.freeze({ user: e.QUOTA_LOOKUPS_USER, client: e.QUOTA_LOOKUPS_CLIENT }),
      screening: Object.freeze({ user: e.QUOTA_SCREENING_USER, client: e.QUOTA_SCREENING_CLIENT }),
      feeds: Object.freeze({ user: e.QUOTA_FEEDS_USER, client: e.QUOTA_FEEDS_CLIENT }),
    }),
    workers: Object.freeze({
      concurrency: e.WORKER_CONCURRENCY,
      rateMax: e.WORKER_RATE_MAX,
      rateDurationMs: e.WORKER_RATE_DURATION_MS,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      deliveryRetryMs: e.DELIVERY_RETRY_MS,
      deliveryRetryMaxMs: e.DELIVERY_RETRY_MAX_MS,
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
      webhookAllowedHosts: parseAllowedHosts(e.WEBHOOK_ALLOWED_HOSTS),
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      reconcileMinAgeMs: e.RECONCILE_MIN_AGE_MS,
      institutionPollMs: e.INSTITUTION_POLL_MS,
      overdueScanMs: e.OVERDUE_SCAN_MS,
      simulatedDelayMs: e.SIMULATED_DELAY_MS,
      simulatedReturnDelayMs: e.SIMULATED_RETURN_DELAY_MS,
      holdScanMs: e.HOLD_SCAN_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    }),
    maxTrailDepth: e.MAX_TRAIL_DEPTH,
    holds: Object.freeze({
      stopPaymentSeconds: e.HOLD_STOP_PAYMENT_SECONDS,
      stopPaymentRenewals: e.HOLD_STOP_PAYMENT_RENEWALS,
      freezeSeconds: e.HOLD_FREEZE_SECONDS,
      warningSeconds: e.HOLD_WARNING_SECONDS,
      disputeDueSeconds: e.DISPUTE_DUE_SECONDS,
    }),
    centerLanguage: e.CENTER_LANGUAGE,
    legalBasis: Object.freeze({
      en: e.LEGAL_BASIS_TEXT_EN ?? e.LEGAL_BASIS_TEXT ?? LEGAL_BASIS_DEFAULTS.en,
      'zh-CN': e.LEGAL_BASIS_TEXT_ZH_CN ?? e.LEGAL_BASIS_TEXT ?? LEGAL_BASIS_DEFAULTS['zh-CN'],
    }),
    inputLimits: Object.freeze({ maxAmountMinor: e.MAX_AMOUNT_MINOR, maxClockSkewMs: e.MAX_CLOCK_SKEW_SECONDS * 1000 }),
    dueMinutes: Object.freeze(dueMinutes),
    usingDevJwtSecret: !e.JWT_SECRET,
  });
}

export type Config = ReturnType<typeof parseConfig>;

/**
 * The default queue prefix: "afrc-" and a short hash of the database's host, port and name, so
 * deployments on different databases never share queues on one Redis. Credentials and options do
 * not count: the same database reached with another password is the same deployment.
 */
export function databaseQueuePrefix(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const identity = `${url.hostname.toLowerCase()}:${url.port || '5432'}/${decodeURIComponent(url.pathname.replace(/^\//, '')) || url.username || 'postgres'}`;
  return `afrc-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
  }
}

/** Reads the environment, or prints one line per problem and exits 1. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`config error: ${p}\n`);
      process.exit(1);
    }
    throw err;
  }
}
