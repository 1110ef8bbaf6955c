import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { perDeps } from '../wiring';
import { AppError } from '../errors';
import { rateLimitLogger } from '../http/rate-limit-store';

const WINDOW_MS = 15 * 60 * 1000;

/**
 * Guessing limit for case-status checks: CASE_STATUS_RATE_LIMIT failed checks per address per 15
 * minutes, shared by the API and the /status page, and by every web process (the counters live in
 * the shared rate-limit store). A victim checking their own case never spends it: only failures count.
 */
export const caseStatusLimiter = perDeps((deps): RequestHandler => rateLimit({
  windowMs: WINDOW_MS,
  limit: deps.config.caseStatusRateLimit,
  store: deps.rateLimitStores('case-status'),
  skipSuccessfulRequests: true,
  standardHeaders: 'draft-7',
  legacyHeaders: false,
  logger: rateLimitLogger(deps),
  handler: (_req, _res, next) => next(new AppError('rate_limited', 429, 'Too many case-status checks from this address; wait a few minutes and try again.')),
}));
