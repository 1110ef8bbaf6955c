import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Config } from '../config';
import { AppError } from '../errors';

const WINDOW_MS = 15 * 60 * 1000;
const limiters = new WeakMap<Config, RequestHandler>();

/**
 * Guessing limit for case-status checks: CASE_STATUS_RATE_LIMIT failed checks per address per 15
 * minutes, shared by the API and the /status page (one limiter per app, as the login limits are;
 * in each process's memory). A victim checking their own case never spends it: only failures count.
 */
export function caseStatusLimiter(config: Config): RequestHandler {
  let limiter = limiters.get(config);
  if (!limiter) {
    limiter = rateLimit({
      windowMs: WINDOW_MS,
      limit: config.caseStatusRateLimit,
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_req, _res, next) => next(new AppError('rate_limited', 429, 'Too many case-status checks from this address; wait a few minutes and try again.')),
    });
    limiters.set(config, limiter);
  }
  return limiter;
}
