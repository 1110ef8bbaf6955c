import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type passport from 'passport';
import type { Role } from '../domain/kinds';
import type { Actor } from '../auth/actor';
import { ForbiddenError, UnauthorizedError } from '../errors';

/** Authenticates by JWT when one is present; routes then decide with requireAuth/requireRole. */
export function authenticate(pp: passport.PassportStatic): RequestHandler {
  return (req, res, next) => {
    pp.authenticate('jwt', { session: false }, (err: unknown, user: Actor | false) => {
      if (err) return next(err);
      if (user) req.user = user;
      next();
    })(req, res, next);
  };
}

export function actorOf(req: Request): Actor {
  if (!req.user) throw new UnauthorizedError();
  return req.user;
}

export function requireAuth(req: Request, _res: Response, next: NextFunction): void {
  next(req.user ? undefined : new UnauthorizedError());
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) return next(new UnauthorizedError());
    next(roles.includes(req.user.role) ? undefined : new ForbiddenError());
  };
}
