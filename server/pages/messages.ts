import type { ErrorDetail } from '../errors';
import { MoneyFormatError, parseMajorToMinor } from '../domain/money';
import type { ZodError, ZodIssue } from 'zod';
import type { Language, Translate } from '../i18n/i18n';

/** The amount parser's problem, in the reader's language (English without a translator). */
export function moneyMessage(err: MoneyFormatError, t?: Translate): string {
  return t ? t(`money.${err.problem}`, err.params) : err.message;
}

/** A date-and-time field the form could not read. */
export const notDateTime = (t?: Translate): string => (t ? t('form.notDateTime') : 'is not a date and time');

/** An amount typed in major units as exact minor units; a typo becomes a problem at `path` instead. */
export function amountOrProblem(text: string, currency: string, path: string, problems: ErrorDetail[], t?: Translate): number | undefined {
  try {
    return parseMajorToMinor(text, currency);
  } catch (err) {
    if (!(err instanceof MoneyFormatError)) throw err;
    problems.push({ path, message: moneyMessage(err, t) });
    return undefined;
  }
}

type Locals = { lang: Language; t: Translate };

/**
 * The sentences of the use cases and schemas a form can meet, by their English text, each with
 * the key of its translation. A problem's text is the API's (English); a page shows the reader's
 * language. Unknown English never reaches a Chinese page: it becomes a general sentence.
 */
const KNOWN: [RegExp, string, ((m: RegExpExecArray) => Record<string, string>)?][] = [
  [/^Enter a phone number\.$/, 'validation.enterPhone'],
  [/^"(.*)" is not a possible phone number\.$/s, 'validation.notPhone', (m) => ({ text: m[1]! })],
  [/^Enter the SMS sender\.$/, 'validation.enterSender'],
  [/^An SMS sender is a phone number/, 'validation.sender'],
  [/^Enter a URL\.$/, 'validation.enterUrl'],
  [/^(?:"(.*)" )?is not a URL\.?$/s, 'validation.notUrl'],
  [/^Only http and https URLs/, 'validation.httpOnly'],
  [/^(?:an http or https URL|must be an http or https URL)$/, 'validation.httpUrl'],
  [/^"(.*)" is not a site on the internet\.$/s, 'validation.notSite', (m) => ({ text: m[1]! })],
  [/may be at most (\d+) characters/, 'validation.maxChars', (m) => ({ max: m[1]! })],
  [/^Enter a domain\.$/, 'validation.enterDomain'],
  [/^"(.*)" is not a domain name\.$/s, 'validation.notDomain', (m) => ({ text: m[1]! })],
  [/^That is an IP address/, 'validation.ipAsDomain'],
  [/^Enter an account number\.$/, 'validation.enterAccount'],
  [/^An account number has digits only\.$/, 'validation.accountDigits'],
  [/^An account number has 8 to 30 digits\.$/, 'validation.accountLength'],
  [/^Enter the .*\.$/, 'validation.required'],
  [/^a slug of 2–40/, 'validation.slug'],
  [/^letters, digits and \. _ @ - only$/, 'validation.usernameChars'],
  [/^partner_system is the role/, 'validation.personRole'],
  [/^is required for webhook integration$/, 'validation.webhookUrlRequired'],
  [/^must not carry credentials$/, 'validation.noCredentials'],
  [/must point to a public address/, 'validation.webhookPublic'],
  [/^an account prefix has digits only$/, 'validation.routeAccount'],
  [/^a (?:phone|number) prefix is the start of an E\.164 number/, 'validation.routePhone'],
  [/^is listed twice for this indicator kind$/, 'validation.routeTwice'],
  [/^"(.*)" is not one of /s, 'validation.routeKind', (m) => ({ kind: m[1]! })],
  [/^\w+ prefix "(.*)" already routes to (.*)$/s, 'validation.routeTaken', (m) => ({ prefix: m[1]!, institution: m[2]! })],
  [/^already exists$/, 'validation.taken'],
  [/^is required for role/, 'validation.institutionForRole'],
  [/^no such institution$/, 'validation.noInstitution'],
  [/belongs to a partner institution, not the police center$/, 'validation.partnerInstitution'],
  [/belongs to the police center, not a partner institution$/, 'validation.policeInstitution'],
  [/^API clients are for partner institutions$/, 'validation.clientPartner'],
  [/^is not an active partner institution$/, 'validation.notActivePartner'],
  [/^the amounts add up to more than can be recorded$/, 'validation.totalTooLarge'],
  [/^must be at most \d+ minor units/, 'money.tooLarge'],
  [/^must be an ISO 8601 timestamp with a zone$/, 'form.notDateTime'],
  [/^must not be before (\d{4})$/, 'validation.tooEarly', (m) => ({ year: m[1]! })],
  [/^is in the future/, 'validation.future'],
  [/^you cannot deactivate your own account$/, 'validation.ownAccount'],
  [/task cannot end as/, 'validation.outcomeNotAllowed'],
  [/^The frozen amount must be a whole number/, 'validation.amountWhole'],
  [/needs the frozen amount, more than 0\.$/, 'validation.frozenNeeded'],
  [/cannot carry a frozen amount\.$/, 'validation.frozenNotAllowed'],
  [/^The frozen amount cannot be more than the amount of the task\.$/, 'validation.frozenAboveTask'],
  [/^Onward transfers go with/, 'validation.onwardNotAllowed'],
  [/needs the amount paid back, more than 0\.$/, 'validation.returnedNeeded'],
  [/^must be greater than 0$/, 'validation.positive'],
  [/^must be a whole number of minor units$/, 'validation.wholeAmount'],
  // zod's own sentences, when a use case passes them on as they are.
  [/^Too small: expected string to have >=?1 characters?$/, 'validation.required'],
  [/^Too small: expected string to have >=?(\d+) characters/, 'validation.minChars', (m) => ({ min: m[1]! })],
  [/^Too small: expected array to have >=?(\d+) items?/, 'validation.minItems', (m) => ({ min: m[1]! })],
  [/^Too small: expected \w+ to be >=?(\S+)/, 'validation.minNumber', (m) => ({ min: m[1]! })],
  [/^Too big: expected string to have <=?(\d+) characters/, 'validation.maxChars', (m) => ({ max: m[1]! })],
  [/^Too big: expected array to have <=?(\d+) items?/, 'validation.maxItems', (m) => ({ max: m[1]! })],
  [/^Too big: expected \w+ to be <=?(\S+)/, 'validation.maxNumber', (m) => ({ max: m[1]! })],
  [/^Invalid input: expected \w+, received (?:undefined|null)$/, 'validation.required'],
  [/^Invalid option/, 'validation.choose'],
  [/^Invalid URL/, 'validation.httpUrl'],
  [/^Invalid ISO datetime/, 'form.notDateTime'],
  [/^(?:Invalid|Unrecognized key)/, 'validation.invalid'],
];

/** A problem written by a use case or a schema (English), as the page's reader reads it. */
export function problemText(message: string, l: Locals): string {
  for (const [re, key, params] of KNOWN) {
    const m = re.exec(message);
    if (m) return l.t(key, params ? params(m) : undefined);
  }
  return l.lang === 'en' ? message : l.t('validation.invalid');
}

/** A schema's issue by its code and bounds: zod's own sentences ("Too small: expected…") never reach a page. */
function issueText(issue: ZodIssue, l: Locals): string {
  const i = issue as ZodIssue & { minimum?: number | bigint; maximum?: number | bigint; origin?: string; input?: unknown; format?: string; values?: unknown[] };
  // A schema's own sentence (a custom message) is looked up first; zod's defaults by their code below.
  const known = KNOWN.find(([re]) => re.test(issue.message));
  if (known && !/^(?:Too small|Too big|Invalid|Unrecognized)/.test(issue.message)) return problemText(issue.message, l);
  switch (issue.code) {
    case 'too_small':
      if (i.origin === 'string') return Number(i.minimum) <= 1 ? l.t('validation.required') : l.t('validation.minChars', { min: String(i.minimum) });
      if (i.origin === 'array') return l.t('validation.minItems', { min: String(i.minimum) });
      return l.t('validation.minNumber', { min: String(i.minimum) });
    case 'too_big':
      if (i.origin === 'string') return l.t('validation.maxChars', { max: String(i.maximum) });
      if (i.origin === 'array') return l.t('validation.maxItems', { max: String(i.maximum) });
      return l.t('validation.maxNumber', { max: String(i.maximum) });
    case 'invalid_type':
      return i.input === undefined || i.input === null || i.input === '' ? l.t('validation.required') : l.t('validation.invalid');
    case 'invalid_value':
      return l.t('validation.choose');
    case 'invalid_format':
      if (i.format === 'url') return l.t('validation.httpUrl');
      if (i.format === 'datetime') return l.t('form.notDateTime');
      if (i.format === 'uuid') return l.t('validation.invalid');
      return l.t('validation.invalid');
    default:
      return l.t('validation.invalid');
  }
}

/** A schema's refusal as problems beside the form's fields, in the page's language. */
export function zodProblems(err: ZodError, l: Locals, prefix: (string | number)[] = []): ErrorDetail[] {
  return err.issues.map((issue) => ({ path: [...prefix, ...issue.path].map(String).join('.'), message: issueText(issue, l) }));
}

/** A use case's problems (ValidationError details) in the page's language. */
export function pageProblems(details: ErrorDetail[], l: Locals): ErrorDetail[] {
  return details.map((d) => ({ ...d, message: problemText(d.message, l) }));
}

/** The first problem of each field, by the field's path: what a form shows beside each input. */
export function fieldErrors(details: ErrorDetail[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of details) out[d.path] ??= d.message;
  return out;
}
