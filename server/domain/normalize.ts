import { domainToASCII } from 'node:url';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { INDICATOR_KINDS, type IndicatorKind } from './kinds';

// One canonical spelling per indicator so that the same fraud number, site or account reported
// by two victims, or flagged by a carrier feed, lands on one row and links the reports.

export type Normalized = { ok: true; value: string } | { ok: false; message: string };

const ok = (value: string): Normalized => ({ ok: true, value });
const fail = (message: string): Normalized => ({ ok: false, message });

/**
 * Query parameters that only say who shared a link or which campaign sent it. Two victims who got
 * the same phishing page through different shares must still match, so these are dropped.
 * Keys are compared lower-cased; entries ending in "*" are prefixes.
 */
export const TRACKING_QUERY_PARAMS: readonly string[] = [
  'utm_*', 'fbclid', 'gclid', 'dclid', 'gbraid', 'wbraid', 'msclkid', 'yclid', 'ttclid', 'twclid',
  'igshid', 'mc_cid', 'mc_eid', '_hsenc', '_hsmi', 'mkt_tok', 'spm', 'spm_id_from', 'scm', 'from',
  'isappinstalled', 'share_*', 'shareid', 'share', 'vd_source', 'xhsshare', 'si',
];

const trackingExact = new Set(TRACKING_QUERY_PARAMS.filter((p) => !p.endsWith('*')));
const trackingPrefixes = TRACKING_QUERY_PARAMS.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));

function isTrackingParam(rawKey: string): boolean {
  let key: string;
  try {
    key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
  } catch {
    key = rawKey;
  }
  key = key.toLowerCase();
  return trackingExact.has(key) || trackingPrefixes.some((p) => key.startsWith(p));
}

// Victims read numbers off chat apps and type on Chinese input methods: NFKC folds fullwidth
// digits, letters and punctuation to ASCII before any rule looks at them.
function fold(raw: string): string {
  return String(raw ?? '').normalize('NFKC').trim();
}

function phone(raw: string, region: CountryCode): Normalized {
  const text = fold(raw);
  if (text === '') return fail('Enter a phone number.');
  // Fraud numbers are often unallocated or spoofed, so "possible" (a plausible length for the
  // country) is the bar, not "valid" (inside an allocated range).
  const parsed = parsePhoneNumberFromString(text, region);
  if (!parsed || !parsed.isPossible()) return fail(`"${text}" is not a possible phone number.`);
  return ok(parsed.number);
}

const SENDER_ID = /^[\p{L}\p{N}\p{M}\-_.&@']{1,20}$/u;

function smsSender(raw: string, region: CountryCode): Normalized {
  const text = fold(raw);
  if (text === '') return fail('Enter the SMS sender.');
  const parsed = parsePhoneNumberFromString(text, region);
  if (parsed?.isPossible()) return ok(parsed.number);
  // Chinese messages name their sender in a 【signature】; the brackets are not part of the name.
  const id = text.replace(/\s+/g, '').replace(/^[【\[](.*)[】\]]$/u, '$1').toUpperCase();
  if (!SENDER_ID.test(id)) {
    return fail('An SMS sender is a phone number, a short code or a sender name of 1–20 letters and digits.');
  }
  return ok(id);
}

const MAX_URL_LENGTH = 2048;
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

function url(raw: string): Normalized {
  let text = fold(raw);
  if (text === '') return fail('Enter a URL.');
  const scheme = SCHEME.exec(text);
  // "example.com:8080/x" looks like a scheme followed by a port; only a non-digit after the
  // colon means a real scheme (so "mailto:" or "javascript:" are refused, not prefixed).
  const hasScheme = scheme !== null && !/^\d/.test(text.slice(scheme[0].length));
  if (!hasScheme) text = text.startsWith('//') ? `http:${text}` : `http://${text}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return fail(`"${fold(raw)}" is not a URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail('Only http and https URLs can be taken down.');
  // A trailing dot names the same host; keep one spelling so both forms match.
  const host = u.hostname.replace(/\.$/, '');
  if (!host.includes('.') && !host.startsWith('[')) return fail(`"${u.hostname}" is not a site on the internet.`);
  if (host !== u.hostname) u.hostname = host;
  // Credentials in a link ("http://bank.com@evil.example/") are a disguise, not part of the site.
  u.username = '';
  u.password = '';
  u.hash = '';
  // Filter the raw query rather than going through URLSearchParams, which would re-encode the
  // parameters that stay ("%20" → "+") and so change the value.
  const kept = u.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !isTrackingParam(pair.split('=', 1)[0]!));
  u.search = kept.length ? `?${kept.join('&')}` : '';
  // One page, one indicator: "/login/" and "/login" are the same page, and so are its http and
  // https addresses (phishing sites answer on both), so the value names one scheme (http) and no
  // trailing slash. Migration 20261202040000 brought stored values to this spelling; keep the two
  // in step (urlIdentity).
  const value = urlIdentity(u.href);
  if (value.length > MAX_URL_LENGTH) return fail(`A URL may be at most ${MAX_URL_LENGTH} characters.`);
  return ok(value);
}

/**
 * The spelling two links to the same page share: http for https, and the path without trailing
 * slashes (the root stays "/"). Takes a WHATWG href; string-wise, so the port and the rest stay
 * exactly as they were written.
 */
export function urlIdentity(href: string): string {
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)(.*)$/s.exec(href);
  if (!m) return href;
  const path = m[3]!.replace(/\/+$/, '') || '/';
  return `http://${m[2]}${path}${m[4]}`;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function domain(raw: string): Normalized {
  let text = fold(raw).toLowerCase();
  if (text === '') return fail('Enter a domain.');
  // Someone pasted a whole URL: keep only its host.
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\/\//, '');
  text = text.split(/[/?#]/, 1)[0]!;
  text = text.slice(text.lastIndexOf('@') + 1).replace(/:\d*$/, '').replace(/\.$/, '');
  const ascii = domainToASCII(text);
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    return fail(`"${fold(raw)}" is not a domain name.`);
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) {
    return fail('That is an IP address; report it as a URL.');
  }
  return ok(ascii);
}

export function normalizeAccount(raw: string): Normalized {
  const text = fold(raw);
  if (text === '') return fail('Enter an account number.');
  const digits = text.replace(/[\s-]+/g, '');
  if (!/^\d+$/.test(digits)) return fail('An account number has digits only.');
  if (digits.length < 8 || digits.length > 30) return fail('An account number has 8 to 30 digits.');
  return ok(digits);
}

const PHONE_LOOKING = /^\+?[\d\s-]+$/;

function handle(raw: string, region: CountryCode, what: string): Normalized {
  const text = fold(raw).replace(/\s+/g, ' ').toLowerCase();
  if (text === '') return fail(`Enter the ${what}.`);
  let value = text;
  if (PHONE_LOOKING.test(text) && text.replace(/\D/g, '').length >= 11) {
    // Wallets and chat apps key accounts on the owner's phone number: one spelling for both.
    const parsed = parsePhoneNumberFromString(text, region);
    // Digit ids read out in groups ("6222 0212 …") are the same id without the separators.
    value = parsed?.isPossible() ? parsed.number : text.replace(/[\s-]/g, '');
  }
  if (value.length > 128) return fail(`A ${what} may be at most 128 characters.`);
  return ok(value);
}

export function normalizeIndicator(kind: IndicatorKind, raw: string, region: CountryCode): Normalized {
  switch (kind) {
    case 'phone':
      return phone(raw, region);
    case 'sms_sender':
      return smsSender(raw, region);
    case 'url':
      return url(raw);
    case 'domain':
      return domain(raw);
    case 'bank_account':
      return normalizeAccount(raw);
    case 'payment_account':
      return handle(raw, region, 'payment account');
    case 'im_account':
      return handle(raw, region, 'chat account');
    default: {
      const never: never = kind;
      return fail(`Unknown indicator kind ${String(never)}.`);
    }
  }
}

/**
 * What a person typing `raw` into a search box may mean, spelled the way indicators are stored:
 * "13900001234" is the phone (and wallet, and SMS sender) +8613900001234, "6222 0212 3456 7890"
 * the account 6222021234567890. Only the kinds it can be (`kinds`, default all) are tried; the
 * spellings that are not possible are left out.
 */
export function searchSpellings(
  raw: string, region: CountryCode, kinds: readonly IndicatorKind[] = INDICATOR_KINDS,
): { kind: IndicatorKind; value: string }[] {
  const out: { kind: IndicatorKind; value: string }[] = [];
  for (const kind of kinds) {
    const n = normalizeIndicator(kind, raw, region);
    if (n.ok) out.push({ kind, value: n.value });
  }
  return out;
}
