import type { ErrorDetail } from '../errors';
import { INDICATOR_KINDS, INSTITUTION_KINDS, INTEGRATIONS, MESSAGE_FORMATS, ROLES } from '../domain/kinds';
import type { PageLocals } from '../pages/shell';
import { formatDateTime } from '../pages/format';

type Option = { value: string; label: string; selected: boolean };
const options = (values: readonly string[], selected: string, prefix: string, l: PageLocals): Option[] =>
  values.map((v) => ({ value: v, label: l.t(`${prefix}.${v}`), selected: v === selected }));

/** "bank_account 622202" per line → routes; a line that names no kind is reported at its path. */
export function parseRoutes(text: string): { routes: { indicatorKind: string; prefix: string }[]; problems: ErrorDetail[] } {
  const routes: { indicatorKind: string; prefix: string }[] = [];
  const problems: ErrorDetail[] = [];
  text.split(/\r?\n/).forEach((line) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    const [kind = '', ...rest] = trimmed.split(/\s+/);
    if (!(INDICATOR_KINDS as readonly string[]).includes(kind)) {
      problems.push({ path: `routes.${routes.length}.indicatorKind`, message: `"${kind}" is not one of ${INDICATOR_KINDS.join(', ')}` });
    }
    routes.push({ indicatorKind: kind, prefix: rest.join('') });
  });
  return { routes, problems };
}

/** Each field's problems; a route's name the line of the routes box it is on. */
const firstErrors = (details: ErrorDetail[], l: PageLocals) => {
  const out: Record<string, string> = {};
  for (const d of details) {
    const key = d.path.startsWith('routes') ? 'routes' : d.path;
    const line = /^routes\.(\d+)\./.exec(d.path);
    const text = line ? l.t('validation.line', { n: String(Number(line[1]) + 1), message: d.message }) : d.message;
    out[key] = out[key] ? `${out[key]} ${text}` : text;
  }
  return out;
};

export type InstitutionForm = { id: string; name: string; kind: string; integration: string; messageFormat: string; webhookUrl: string; routes: string };

export function presentInstitutionForm(form: InstitutionForm, l: PageLocals, details: ErrorDetail[] = []) {
  return {
    form,
    kinds: options(INSTITUTION_KINDS, form.kind, 'institutionKind', l),
    integrations: options(INTEGRATIONS, form.integration, 'integration', l),
    messageFormats: options(MESSAGE_FORMATS, form.messageFormat, 'messageFormat', l),
    errors: firstErrors(details, l),
    hasErrors: details.length > 0,
  };
}

export type UserForm = { username: string; displayName: string; role: string; institutionId: string };

export function presentUserForm(form: UserForm, institutions: { id: string; name: string }[], l: PageLocals, details: ErrorDetail[] = []) {
  return {
    form,
    roles: options(ROLES.filter((r) => r !== 'partner_system'), form.role, 'role', l),
    institutions: institutions.map((i) => ({ value: i.id, label: `${i.name} (${i.id})`, selected: i.id === form.institutionId })),
    errors: firstErrors(details, l),
    hasErrors: details.length > 0,
  };
}

export const presentDate = (iso: string, l: PageLocals) => formatDateTime(iso, l.lang, l.timeZone);
