import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { perDeps, type Deps } from '../wiring';
import { AppError } from '../errors';
import { actorOf } from './auth';
import { rateLimitLogger } from './rate-limit-store';

export type QuotaAction = 'reports' | 'lookups' | 'screening' | 'feeds';

const WHAT: Record<QuotaAction, string> = {
  reports: 'reports filed',
  lookups: 'indicator lookups',
  screening: 'screening requests',
  feeds: 'feeds submitted',
};


/**
 * A per-caller quota on one use case: requests per QUOTA_WINDOW_SECONDS by one person (a user)
 * or one machine client (partner_system), each with its own allowance (QUOTA_<ACTION>_USER,
 * QUOTA_<ACTION>_CLIENT). It is what keeps one runaway script or stolen token from taking the
 * center's capacity, not a guessing limit, so every request counts. The counters are the shared
 * rate-limit store's: every web process counts against the same quota. Mounted after the route's
 * role check, so the caller is known; a page and its API share one quota.
 */
export function quota(deps: Deps, action: QuotaAction): RequestHandler {
  return quotaLimiters(deps)[action];
}

const quotaLimiters = perDeps((deps) => {
  const { windowSeconds } = deps.config.quotas;
  const limiter = (action: QuotaAction): RequestHandler => {
    const allowance = deps.config.quotas[action];
    return rateLimit({
      windowMs: windowSeconds * 1000,
      limit: (req) => (actorOf(req).role === 'partner_system' ? allowance.client : allowance.user),
      keyGenerator: (req) => {
        const actor = actorOf(req);
        return `${actor.type}:${actor.id ?? actor.name}`;
      },
      store: deps.rateLimitStores(`quota-${action}`),
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      // A quota is capacity policy: with its store unreachable the request goes on rather than failing.
      passOnStoreError: true,
      logger: rateLimitLogger(deps),
      validate: { keyGeneratorIpFallback: false },
      handler: (_req, _res, next) => next(new AppError(
        'rate_limited', 429, `Too many ${WHAT[action]} by this account in ${windowSeconds} s; wait and try again (Retry-After says how long).`,
      )),
    });
  };
  return { reports: limiter('reports'), lookups: limiter('lookups'), screening: limiter('screening'), feeds: limiter('feeds') };
});

/**
 * Spends one request of a quota from inside a handler: for a form that reaches the use case only on
 * some of its posts (a report form's "add a row" files nothing). Throws 429 rate_limited when spent.
 */
export function spendQuota(deps: Deps, action: QuotaAction, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void quota(deps, action)(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  });
}
