import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Config } from '../config';
import { AppError } from '../errors';

const WINDOW_MS = 15 * 60 * 1000;

const limited = () => new AppError('rate_limited', 429, 'Too many login attempts; wait a few minutes and try again.');

/**
 * The center's officers and the partners' liaisons sit in one building behind one address, so the
 * per-address budget is a few accounts' worth of typos rather than one account's.
 */
const ADDRESS_FACTOR = 5;

/**
 * Guessing limits for password logins: per username (one account cannot be brute-forced from many
 * addresses), LOGIN_RATE_LIMIT failures per 15 minutes, and per client address (one address cannot
 * sweep many accounts), ADDRESS_FACTOR times that. Only failed attempts count, so a busy shift
 * logging in is never locked out by its own successes.
 * Each call makes fresh counters: one set per app instance, in memory — a deployment with several
 * web processes multiplies the budget by their number, which still bounds guessing.
 * The page login form mounts the same pair in front of its handler.
 */
export function createLoginLimiters(config: Config): RequestHandler[] {
  const common = {
    windowMs: WINDOW_MS,
    limit: config.loginRateLimit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7' as const,
    legacyHeaders: false,
    handler: (_req: unknown, _res: unknown, next: (err: unknown) => void) => next(limited()),
  };
  const perAddress = rateLimit({ ...common, limit: config.loginRateLimit * ADDRESS_FACTOR });
  const perUsername = rateLimit({
    ...common,
    keyGenerator: (req) => `user:${String((req.body as { username?: unknown } | undefined)?.username).trim().toLowerCase()}`,
    skip: (req) => typeof (req.body as { username?: unknown } | undefined)?.username !== 'string',
    validate: { keyGeneratorIpFallback: false },
  });
  return [perAddress, perUsername];
}

/** Client-credential exchange: a failed secret costs an scrypt run, so failures per address are bounded too. */
export function createTokenLimiter(config: Config): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: config.loginRateLimit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError('rate_limited', 429, 'Too many failed token requests; wait a few minutes and try again.')),
  });
}
