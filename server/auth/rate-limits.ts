import type { Request, Response } from 'express';
import { ipKeyGenerator, type Options, type Store } from 'express-rate-limit';
import { perDeps, type Deps } from '../wiring';
import { AppError } from '../errors';

const WINDOW_MS = 15 * 60 * 1000;

/**
 * The center's officers and the partners' liaisons sit in one building behind one address, so the
 * per-address budget is a few accounts' worth of typos rather than one account's.
 */
const ADDRESS_FACTOR = 5;

/** One budget of failures: a shared counter per key, read before an attempt, counted after a failed one. */
class FailureBudget {
  constructor(private readonly store: Store, readonly limit: number) {
    void store.init?.({ windowMs: WINDOW_MS } as Options);
  }

  /** Seconds until the key may try again, or undefined while it is within its budget. */
  async exhausted(key: string): Promise<number | undefined> {
    const info = await this.store.get?.(key);
    if (!info || info.totalHits < this.limit) return undefined;
    return Math.max(1, Math.ceil(((info.resetTime?.getTime() ?? Date.now() + WINDOW_MS) - Date.now()) / 1000));
  }

  async failed(key: string): Promise<void> {
    await this.store.increment(key);
  }
}

/**
 * Guessing limits for one kind of credential (a person's password, a partner system's secret):
 * failures per name and address together, and per address. A stranger guessing at an account
 * spends only their own address's budget, so the right password from anywhere else still works;
 * one address sweeping many names runs into its own budget. Only failures count, and an attempt
 * only reads the counters before it runs, so however many correct attempts run at once none is
 * ever refused. The counters are the shared rate-limit store's (Redis or PostgreSQL): every web
 * process counts against the same budget.
 */
export class CredentialLimits {
  private readonly perNameAndAddress: FailureBudget;
  private readonly perAddress: FailureBudget;

  constructor(deps: Deps, kind: 'login' | 'token', limit: number, private readonly message: string) {
    this.perNameAndAddress = new FailureBudget(deps.rateLimitStores(`${kind}-name-address`), limit);
    this.perAddress = new FailureBudget(deps.rateLimitStores(`${kind}-address`), limit * ADDRESS_FACTOR);
  }

  private static address(req: Request): string {
    return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');
  }

  private static nameKey(name: string, req: Request): string {
    return `${name.trim().toLowerCase()}|${CredentialLimits.address(req)}`;
  }

  /**
   * Refuses the attempt (429 rate_limited, with Retry-After) when its address, or its name from its
   * address, has no failures left; `name` is undefined when the request names none.
   */
  async check(req: Request, res: Response, name: string | undefined): Promise<void> {
    const waits = await Promise.all([
      this.perAddress.exhausted(CredentialLimits.address(req)),
      name === undefined ? undefined : this.perNameAndAddress.exhausted(CredentialLimits.nameKey(name, req)),
    ]);
    const wait = Math.max(...waits.map((w) => w ?? 0));
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw new AppError('rate_limited', 429, this.message);
    }
  }

  /** Counts a failed attempt, before it is answered: the next attempt already sees it. */
  async failed(req: Request, name: string | undefined): Promise<void> {
    await Promise.all([
      this.perAddress.failed(CredentialLimits.address(req)),
      name === undefined ? undefined : this.perNameAndAddress.failed(CredentialLimits.nameKey(name, req)),
    ]);
  }

  /** Runs an attempt within the limits: checked first, counted when it fails with `failure`. */
  async attempt<T>(req: Request, res: Response, name: string | undefined, run: () => Promise<T>, failure = 'invalid_credentials'): Promise<T> {
    await this.check(req, res, name);
    try {
      return await run();
    } catch (err) {
      if (err instanceof AppError && err.code === failure) await this.failed(req, name);
      throw err;
    }
  }
}

/**
 * Password logins (API and page alike: one set per app) and client-credential exchanges (a failed
 * secret costs an scrypt run): LOGIN_RATE_LIMIT failures per name and address per 15 minutes, and
 * ADDRESS_FACTOR times that per address.
 */
export const credentialLimits = perDeps((deps) => ({
  login: new CredentialLimits(deps, 'login', deps.config.loginRateLimit, 'Too many failed logins; wait a few minutes and try again.'),
  token: new CredentialLimits(deps, 'token', deps.config.loginRateLimit, 'Too many failed token requests; wait a few minutes and try again.'),
}));

/** A body's name field, when it is a string. */
export function nameIn(body: unknown, field: 'username' | 'clientId'): string | undefined {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  return typeof v === 'string' ? v : undefined;
}

