import { createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import type { Config } from '../config';
import { AppError } from '../errors';
import { AUTH_COOKIE } from '../auth/passport';
import { QUEUE_BOARD_PATH } from '../queues/board';
import { servedOverHttps } from '../http/https';

/** Random per-browser id the CSRF token is bound to; it exists before login, so the login form is covered too. */
export const SID_COOKIE = 'afrc_sid';
export const CSRF_FIELD = '_csrf';

const onQueueBoard = (path: string) => path === QUEUE_BOARD_PATH || path.startsWith(`${QUEUE_BOARD_PATH}/`);

export class CsrfError extends AppError {
  constructor() {
    super('csrf_invalid', 403, 'The form has expired or did not come from this site. Reload the page and try again.');
  }
}

/**
 * Double-submit CSRF (csrf-csrf): the token in the form must equal the one in the cookie and carry
 * an HMAC bound to this browser's sid. API calls authenticated by a bearer header (or carrying no
 * cookie at all) are not forgeable by another site and are left alone; the API already refuses
 * form-encoded bodies. Bull Board's own XHR calls (JSON PUTs and POSTs without our token) must come
 * from this origin by Sec-Fetch-Site or Origin.
 */
export function csrfProtection(config: Config): RequestHandler {
  const secret = createHmac('sha256', config.jwt.secret).update('afrc-csrf').digest('hex');
  // Over https the cookie is Secure and __Host- bound to this origin; over plain http (a demo opened
  // by address) a browser would drop such a cookie, so it is a plain one there.
  const csrfFor = (https: boolean) => doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => String(req.cookies?.[SID_COOKIE] ?? ''),
    cookieName: https ? '__Host-afrc.csrf' : 'afrc_csrf',
    cookieOptions: { sameSite: 'lax', path: '/', secure: https, httpOnly: true },
    getCsrfTokenFromRequest: (req) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      return typeof fromBody === 'string' ? fromBody : req.get('x-csrf-token');
    },
  });
  const overHttps = csrfFor(true);
  const overHttp = csrfFor(false);

  const exempt = (req: Request): boolean => {
    // The public API (a victim's case status) acts for no signed-in person: nothing to forge.
    if (req.path.startsWith('/api/v1/public/')) return true;
    if (req.path.startsWith('/api/') || req.path === '/api') {
      return Boolean(req.get('authorization')) || !req.cookies?.[AUTH_COOKIE];
    }
    return false;
  };

  return (req, res, next) => {
    const https = servedOverHttps(config, req);
    const { generateCsrfToken, validateRequest } = https ? overHttps : overHttp;
    if (!req.cookies) req.cookies = {};
    if (!req.path.startsWith('/api/') && !req.cookies[SID_COOKIE]) {
      const sid = randomBytes(18).toString('base64url');
      res.cookie(SID_COOKIE, sid, { httpOnly: true, sameSite: 'lax', secure: https, path: '/' });
      req.cookies[SID_COOKIE] = sid;
    }
    req.csrfToken = () => generateCsrfToken(req, res);
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    // Bull Board's XHRs cannot carry our form token, so its state changes must prove they come from this origin.
    if (onQueueBoard(req.path)) return sameOrigin(req) ? next() : next(new CsrfError());
    if (exempt(req)) return next();
    if (!req.cookies[SID_COOKIE] || !validateRequest(req)) return next(new CsrfError());
    next();
  };
}

/**
 * The browser's own word on where a request came from: Sec-Fetch-Site when it sends it (every current
 * browser does), otherwise an Origin that must be this server's origin. Neither header: refused.
 */
function sameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = req.get('origin');
  return Boolean(origin) && origin === `${req.protocol}://${req.get('host') ?? ''}`;
}

/** A fresh sid at login and logout, so a token planted before sign-in is worthless after it. */
export function rotateSid(config: Config, res: import('express').Response): void {
  const sid = randomBytes(18).toString('base64url');
  res.cookie(SID_COOKIE, sid, {
    httpOnly: true, sameSite: 'lax', secure: servedOverHttps(config, res.req), path: '/',
  });
  // A form this same response renders (a kept form sent on after sign-in) carries a token of the new sid.
  if (res.req.cookies) res.req.cookies[SID_COOKIE] = sid;
}
