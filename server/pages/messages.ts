import type { MoneyFormatError } from '../domain/money';
import type { Translate } from '../i18n/i18n';

/** The amount parser's problem, in the reader's language (English without a translator). */
export function moneyMessage(err: MoneyFormatError, t?: Translate): string {
  return t ? t(`money.${err.problem}`, err.params) : err.message;
}

/** A date-and-time field the form could not read. */
export const notDateTime = (t?: Translate): string => (t ? t('form.notDateTime') : 'is not a date and time');
