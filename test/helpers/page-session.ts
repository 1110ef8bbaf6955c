import request from 'supertest';
import type { Express } from 'express';

/** The hidden CSRF field of the first form on a page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

/**
 * A browser-like client for the pages: keeps cookies, reads the CSRF token from the page it
 * last loaded and sends it with each form post, as a browser submitting that form would.
 */
export function pageSession(app: Express, lang = 'en') {
  const agent = request.agent(app);
  let token = '';
  const session = {
    agent,
    async get(url: string) {
      const res = await agent.get(url).set('Accept', 'text/html').set('Accept-Language', lang);
      const m = /name="_csrf" value="([^"]+)"/.exec(res.text ?? '');
      if (m) token = m[1]!;
      return res;
    },
    /** Posts a form from the page at `from` (loaded first, for its token). */
    async submit(from: string, action: string, fields: Record<string, string | string[]>) {
      await session.get(from);
      return session.post(action, fields);
    },
    post(action: string, fields: Record<string, string | string[]>, withToken = true) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      if (withToken) body.set('_csrf', token);
      return agent.post(action).type('form').set('Accept', 'text/html').set('Accept-Language', lang).send(body.toString());
    },
    async login(username: string, password: string) {
      const res = await session.submit('/login', '/login', { username, password });
      if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
      return res;
    },
  };
  return session;
}
