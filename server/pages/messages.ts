import type { MoneyFormatError } from '../domain/money';
import type { Translate } from '../i18n/i18n';

/**
 * The amount parser's messages, in the reader's language. The parser speaks English for the API;
 * each of its sentences is recognised here and told again from the i18n strings, and one this list
 * does not know is shown as it is rather than lost.
 */
const MONEY: [RegExp, string, (m: RegExpExecArray) => Record<string, string>][] = [
  [/^Enter an amount/, 'money.empty', () => ({})],
  [/cannot be negative/, 'money.negative', () => ({})],
  [/^"([\s\S]*)" is not an amount/, 'money.notAmount', (m) => ({ text: m[1]! })],
  [/^(\w{3}) has no decimal places/, 'money.noDecimals', (m) => ({ code: m[1]! })],
  [/^(\w{3}) allows at most (\d+) decimal/, 'money.maxDecimals', (m) => ({ code: m[1]!, digits: m[2]! })],
  [/too large/, 'money.tooLarge', () => ({})],
];

export function moneyMessage(err: MoneyFormatError, t?: Translate): string {
  if (!t) return err.message;
  for (const [re, key, vars] of MONEY) {
    const m = re.exec(err.message);
    if (m) return t(key, vars(m));
  }
  return err.message;
}

/** A date-and-time field the form could not read. */
export const notDateTime = (t?: Translate): string => (t ? t('form.notDateTime') : 'is not a date and time');
