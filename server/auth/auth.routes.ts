import { Router } from 'express';
import type { Deps } from '../wiring';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { actorOf, requireAuth } from '../http/auth';
import { clearAuthCookie } from './cookies';
import { LoginBody, LoginResponse, TokenBody, TokenResponse } from './auth.schemas';
import { credentialLimits, nameIn } from './rate-limits';

describeRoute({
  method: 'post', path: '/auth/login', tags: ['auth'], public: true,
  summary: 'Log in with username and password; answers a bearer token (sets no cookie).',
  request: { body: jsonBody(LoginBody) }, ok: LoginResponse,
  errors: { 429: 'rate_limited: too many failed logins for this username from this address, or from this address; Retry-After says when to try again' },
});
describeRoute({
  method: 'post', path: '/auth/token', tags: ['auth'], public: true,
  summary: 'Exchange a partner system\'s client credentials for a bearer token.',
  request: { body: jsonBody(TokenBody) }, ok: TokenResponse,
  errors: { 429: 'rate_limited: too many failed exchanges for this clientId from this address, or from this address; Retry-After says when to try again' },
});

describeRoute({
  method: 'post', path: '/auth/logout', tags: ['auth'],
  summary: 'End every token of the signed-in user (bearer or cookie) within 5 seconds; log in again for a new one.',
  okStatus: 204,
});

export function authRoutes(deps: Deps): Router {
  const r = Router();
  const limits = credentialLimits(deps);

  r.post('/login', async (req, res) => {
    const { token, expiresAt, user } = await limits.login.attempt(req, res, nameIn(req.body, 'username'), () => {
      const body = parse(LoginBody, req.body);
      return deps.services.auth.login(body.username, body.password);
    });
    res.json({ token, expiresAt: expiresAt.toISOString(), user });
  });

  r.post('/logout', requireAuth, async (req, res) => {
    await deps.services.auth.logout(actorOf(req));
    clearAuthCookie(res);
    res.status(204).end();
  });

  r.post('/token', async (req, res) => {
    res.json(await limits.token.attempt(req, res, nameIn(req.body, 'clientId'), () => {
      const body = parse(TokenBody, req.body);
      return deps.services.auth.exchangeClientCredentials(body.clientId, body.clientSecret);
    }));
  });

  return r;
}
