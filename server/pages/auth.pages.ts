import { Router } from 'express';
import type { Deps } from '../wiring';
import { LoginBody } from '../auth/auth.schemas';
import { clearAuthCookie, setAuthCookie } from '../auth/cookies';
import { credentialLimits } from '../auth/rate-limits';
import { AppError } from '../errors';
import { isLanguage, LANG_COOKIE } from '../i18n/i18n';
import { rotateSid } from './csrf';
import { field, formBody, homeOf, localsOf, render, safeNext } from './shell';
import { fieldErrors, zodProblems } from './messages';
import { servedOverHttps } from '../http/https';

/** Sign-in, sign-out and the language switch. */
export function authPages(deps: Deps): Router {
  const r = Router();
  // The same budgets as POST /api/v1/auth/login: a guess by form or by API costs the same.
  const limits = credentialLimits(deps);

  r.get('/', (req, res) => {
    res.redirect(303, req.user?.type === 'user' ? homeOf(req.user.role) : '/login');
  });

  r.get('/login', (req, res) => {
    if (req.user?.type === 'user') return res.redirect(303, safeNext(req.query.next) ?? homeOf(req.user.role));
    render(res, 'pages/auth/login', 'login.title', { next: safeNext(req.query.next) ?? '', username: '' });
  });

  r.post('/login', async (req, res) => {
    const body = formBody(req);
    const next = safeNext(field(body, 'next'));
    const parsed = LoginBody.safeParse({ username: field(body, 'username'), password: field(body, 'password') });
    const again = (status: number, errorKey: string, errors: Record<string, string> = {}) =>
      render(res, 'pages/auth/login', 'login.title', { next: next ?? '', username: field(body, 'username'), errorKey, errors }, status);
    if (!parsed.success) return again(400, 'login.missing', fieldErrors(zodProblems(parsed.error, localsOf(res))));
    try {
      const { username, password } = parsed.data;
      const { token, expiresAt, user } = await limits.login.attempt(req, res, username, () => deps.services.auth.login(username, password));
      setAuthCookie(res, deps.config, token, expiresAt);
      rotateSid(deps.config, res);
      res.redirect(303, next ?? homeOf(user.role));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_credentials') return again(401, 'login.failed');
      throw err;
    }
  });

  r.post('/logout', async (req, res) => {
    // Signing out ends the token itself, not only this browser's copy of it.
    if (req.user?.type === 'user') await deps.services.auth.logout(req.user);
    clearAuthCookie(res);
    rotateSid(deps.config, res);
    res.redirect(303, '/login');
  });

  r.post('/lang', (req, res) => {
    const body = formBody(req);
    const lang = field(body, 'lang');
    if (isLanguage(lang)) {
      res.cookie(LANG_COOKIE, lang, { httpOnly: true, sameSite: 'lax', secure: servedOverHttps(deps.config, req), path: '/', maxAge: 365 * 24 * 3600 * 1000 });
    }
    res.redirect(303, safeNext(field(body, 'next')) ?? '/');
  });

  return r;
}
