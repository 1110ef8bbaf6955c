import type { ErrorDetail } from '../errors';
import { MoneyFormatError, parseMajorToMinor } from '../domain/money';
import type { Translate } from '../i18n/i18n';

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
