import type { HelperOptions } from 'handlebars';
import { formatMinor } from '../domain/money';
import { isLanguage, translator, type Language } from '../i18n/i18n';

type Root = { lang?: string };

const langOf = (options: HelperOptions): Language => {
  const lang = (options.data?.root as Root | undefined)?.lang;
  return isLanguage(lang) ? lang : 'en';
};

/**
 * Helpers return plain strings, so Handlebars escapes them like any other value; none of them
 * returns a SafeString, which keeps user text out of raw HTML whatever a template does.
 */
export const viewHelpers = {
  /** {{t "key" name=value}}: the string in the page's language. */
  t(key: string, options: HelperOptions): string {
    return translator(langOf(options))(String(key), { ...(options.hash as object) });
  },
  /** {{tk "status" task.status}}: a vocabulary word, e.g. status.queued. */
  tk(prefix: string, value: unknown, options: HelperOptions): string {
    if (value === null || value === undefined || value === '') return '';
    return translator(langOf(options))(`${prefix}.${String(value)}`, { defaultValue: String(value) });
  },
  /** {{money amountMinor currency}} → ¥1,234.56 in the page's language. */
  money(minor: unknown, currency: unknown, options: HelperOptions): string {
    if (typeof minor !== 'number' || !Number.isSafeInteger(minor)) return '—';
    return formatMinor(minor, typeof currency === 'string' ? currency : 'CNY', langOf(options));
  },
  eq(a: unknown, b: unknown): boolean {
    return a === b;
  },
  includes(list: unknown, value: unknown): boolean {
    return Array.isArray(list) && list.includes(value);
  },
};
