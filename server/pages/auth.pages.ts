import { Router, type Request, type Response } from 'express';
import type { Deps } from '../wiring';
import { LoginBody } from '../auth/auth.schemas';
import { clearAuthCookie, setAuthCookie } from '../auth/cookies';
import { credentialLimits } from '../auth/rate-limits';
import { AppError } from '../errors';
import { isLanguage, LANG_COOKIE } from '../i18n/i18n';
import { rotateSid } from './csrf';
import { field, formBody, homeOf, localsOf, render, safeNext, switchingLanguage } from './shell';
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
    // A form sent after the session ended rides along, so signing in again sends it on (resumeForm).
    const kept = readKeptForm(field(body, 'resume'));
    const again = (status: number, errorKey: string, errors: Record<string, string> = {}) =>
      render(res, 'pages/auth/login', 'login.title', {
        next: next ?? '', username: field(body, 'username'), errorKey, errors, resume: kept ? field(body, 'resume') : '', refusedForm: 'login-form',
      }, status);
    // The language button of a refused sign-in sends the form again: shown in the other language with
    // the username (a password is never shown again), and never a sign-in attempt.
    if (switchingLanguage(res)) return again(200, '');
    if (!parsed.success) return again(400, 'login.missing', fieldErrors(zodProblems(parsed.error, localsOf(res))));
    try {
      const { username, password } = parsed.data;
      const { token, expiresAt, user } = await limits.login.attempt(req, res, username, () => deps.services.auth.login(username, password));
      setAuthCookie(res, deps.config, token, expiresAt);
      rotateSid(deps.config, res);
      if (kept) {
        // The kept form, posted again with a token of the new session: with JavaScript at once, without it by one click.
        res.setHeader('Cache-Control', 'no-store');
        return render(res, 'pages/auth/resume', 'resume.title', { action: kept.action, fields: kept.fields, csrfToken: req.csrfToken?.() ?? '' });
      }
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

type KeptForm = { action: string; fields: { name: string; value: string }[] };

const MAX_KEPT_FIELDS = 2000;

/** The kept form of a login page: a same-site action and its fields, or nothing if it is not one. */
function readKeptForm(raw: string): KeptForm | undefined {
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as { action?: unknown; fields?: unknown };
    const action = safeNext(parsed.action);
    if (!action || !Array.isArray(parsed.fields) || parsed.fields.length > MAX_KEPT_FIELDS) return undefined;
    const fields = parsed.fields.filter((f): f is [string, string] => Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'string')
      .filter(([name]) => name !== '_csrf' && name !== '_lang')
      .map(([name, value]) => ({ name, value }));
    return { action, fields };
  } catch {
    return undefined;
  }
}

/**
 * A form posted after the session ended (the token expired while a long report was typed): instead
 * of a redirect that would drop it, the sign-in page, carrying the form. Only forms of the pages,
 * and only when the shell's locals are there to render with; false means "redirect as usual".
 */
export function signInToResume(req: Request, res: Response): boolean {
  if (req.method !== 'POST' || !res.locals.pageT || !req.is('application/x-www-form-urlencoded')) return false;
  const action = safeNext(req.originalUrl);
  if (!action) return false;
  const fields: [string, string][] = [];
  for (const [name, value] of Object.entries(formBody(req))) {
    if (name === '_csrf' || name === '_lang') continue;
    for (const one of Array.isArray(value) ? value : [value]) fields.push([name, one]);
  }
  if (!fields.length || fields.length > MAX_KEPT_FIELDS) return false;
  render(res, 'pages/auth/login', 'login.title', {
    next: action, username: '', errorKey: 'resume.expired', errors: {}, resume: JSON.stringify({ action, fields }), refusedForm: 'login-form',
  }, 401);
  return true;
}
