import { z } from 'zod';
import type { Translate } from '../i18n/i18n';

const Day = z.iso.date();

export type FilterErrors = Record<string, string | undefined>;

/**
 * A from–to filter of the center's local days, as typed in a list or dashboard filter. A bad date
 * or a range that runs backwards becomes a translated message beside its field, and that part of the
 * filter is dropped so the page still shows its default range instead of an error page.
 */
export function dayRange(rawFrom: string, rawTo: string, t: Translate): { from?: string; to?: string; errors: FilterErrors } {
  const errors: FilterErrors = {};
  const day = (value: string, key: 'from' | 'to') => {
    if (!value) return undefined;
    if (Day.safeParse(value).success) return value;
    errors[key] = t('form.badDate');
    return undefined;
  };
  const from = day(rawFrom, 'from');
  const to = day(rawTo, 'to');
  if (from && to && from > to) {
    errors.to = t('form.fromAfterTo');
    return { errors };
  }
  return { from, to, errors };
}

export const hasErrors = (errors: FilterErrors) => Object.values(errors).some(Boolean);
