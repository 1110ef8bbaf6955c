import type { Request, RequestHandler, Response } from 'express';
import type { Role } from '../domain/kinds';
import type { Config } from '../config';
import { isLanguage, LANG_COOKIE, pickLanguage, translator, type Language, type Translate } from '../i18n/i18n';
import { servedOverHttps } from '../http/https';

type NavItem = { href: string; label: string };

/** What each role works with, in the order they reach for it. */
const NAV: Record<Role, NavItem[]> = {
  desk_officer: [
    { href: '/reports/new', label: 'nav.newReport' },
    { href: '/reports', label: 'nav.reports' },
    { href: '/tasks', label: 'nav.allTasks' },
    { href: '/holds', label: 'holds.nav' },
  ],
  liaison: [{ href: '/tasks', label: 'nav.tasks' }, { href: '/holds', label: 'holds.nav' }],
  supervisor: [
    { href: '/dashboard', label: 'nav.dashboard' },
    { href: '/escalations', label: 'nav.escalations' },
    { href: '/reports', label: 'nav.reports' },
    { href: '/tasks', label: 'nav.allTasks' },
    { href: '/holds', label: 'holds.nav' },
    { href: '/reports/new', label: 'nav.newReport' },
  ],
  admin: [
    { href: '/admin/institutions', label: 'nav.institutions' },
    { href: '/admin/users', label: 'nav.users' },
    { href: '/admin/api-clients', label: 'nav.apiClients' },
    { href: '/admin/queues', label: 'nav.queues' },
    { href: '/dashboard', label: 'nav.dashboard' },
    { href: '/reports', label: 'nav.reports' },
    { href: '/tasks', label: 'nav.allTasks' },
  ],
  partner_system: [],
};

export function homeOf(role: Role): string {
  return NAV[role][0]?.href ?? '/login';
}

/** Only same-site paths may be a post-login destination (no open redirect to //evil.example). */
export function safeNext(next: unknown): string | undefined {
  return typeof next === 'string' && /^\/(?!\/)[^\\\s]*$/.test(next) && !next.startsWith('/login') ? next : undefined;
}

export type PageLocals = { lang: Language; t: Translate; timeZone: string; currency: string };

/** Per request: language, the signed-in person, their navigation, the CSRF token for every form. */
export function pageLocals(config: Config): RequestHandler {
  return (req, res, next) => {
    // The header's language button on a refused form sends that form itself (with _lang): the page
    // comes back in the chosen language with what was typed and its problems, and nothing is saved.
    const switchTo = req.method === 'POST' ? (req.body as Record<string, unknown> | undefined)?._lang : undefined;
    if (isLanguage(switchTo)) {
      res.cookie(LANG_COOKIE, switchTo, { httpOnly: true, sameSite: 'lax', secure: servedOverHttps(config, req), path: '/', maxAge: 365 * 24 * 3600 * 1000 });
      req.cookies = { ...(req.cookies as Record<string, string> | undefined), [LANG_COOKIE]: switchTo };
    }
    res.locals.languageSwitch = isLanguage(switchTo);
    const lang = pickLanguage(req);
    const t = translator(lang);
    const user = req.user && req.user.type === 'user' ? req.user : undefined;
    const path = req.path;
    res.locals.lang = lang;
    res.locals.otherLang = lang === 'en' ? 'zh-CN' : 'en';
    res.locals.timeZone = config.timeZone;
    res.locals.currency = config.defaultCurrency;
    res.locals.currentPath = req.originalUrl;
    res.locals.csrfToken = req.csrfToken ? req.csrfToken() : '';
    res.locals.user = user && { name: user.name, role: user.role, institutionId: user.institutionId };
    res.locals.nav = user
      ? NAV[user.role].map((n) => ({ ...n, current: path === n.href || (n.href !== '/reports' && path.startsWith(`${n.href}/`)) }))
      : [];
    res.locals.pageT = t;
    next();
  };
}

export function localsOf(res: Response): PageLocals {
  return { lang: res.locals.lang as Language, t: res.locals.pageT as Translate, timeZone: res.locals.timeZone as string, currency: res.locals.currency as string };
}

/** Renders a page with its title translated; view models come from presenters. */
export function render(res: Response, view: string, titleKey: string, model: Record<string, unknown> = {}, status = 200): void {
  const { t } = localsOf(res);
  res.status(status).render(view, { title: t(titleKey), ...model });
}

export function formBody(req: Request): Record<string, string | string[]> {
  const body = req.body as Record<string, unknown> | undefined;
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body ?? {})) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

export const field = (body: Record<string, string | string[]>, name: string): string => {
  const v = body[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

export const fieldList = (body: Record<string, string | string[]>, name: string): string[] => {
  const v = body[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** Rows are named like the API's paths (transfers.2.toAccount), so error paths map back onto the fields. */
export function formRows<T extends Record<string, string>>(body: Record<string, string | string[]>, group: string, blank: () => T): T[] {
  const rows = new Map<number, T>();
  const re = new RegExp(`^${group}\\.(\\d{1,3})\\.(\\w+)$`);
  for (const [name, raw] of Object.entries(body)) {
    const m = re.exec(name);
    if (!m) continue;
    const index = Number(m[1]);
    const key = m[2]!;
    const row = rows.get(index) ?? blank();
    if (key in row) (row as Record<string, string>)[key] = Array.isArray(raw) ? (raw[0] ?? '') : raw;
    rows.set(index, row);
  }
  return [...rows.keys()].sort((a, b) => a - b).map((i) => rows.get(i)!);
}

/** This POST is the header's language switch on a refused form: show the form again, never act on it. */
export const switchingLanguage = (res: Response): boolean => res.locals.languageSwitch === true;
