import type { Response } from 'express';
import type { Config } from '../config';
import { AUTH_COOKIE } from './passport';
import { servedOverHttps } from '../http/https';

/**
 * The page login form keeps the JWT in an httpOnly cookie, so page scripts never see it;
 * SameSite=Lax keeps it off cross-site form posts (CSRF tokens cover the rest).
 */
export function setAuthCookie(res: Response, config: Config, token: string, expiresAt: Date): void {
  res.cookie(AUTH_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: servedOverHttps(config, res.req),
    path: '/',
    expires: expiresAt,
  });
}

export function clearAuthCookie(res: Response): void {
  res.clearCookie(AUTH_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/' });
}
