import type { Language } from '../i18n/i18n';
import type { Translate } from '../i18n/i18n';

const formatters = new Map<string, Intl.DateTimeFormat>();

function fmt(lang: Language, timeZone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, { timeZone, ...opts });
    formatters.set(key, f);
  }
  return f;
}

/** "28 Nov 2026, 09:12" / "2026年11月28日 09:12", in the center's time zone. */
export function formatDateTime(iso: string | null | undefined, lang: Language, timeZone: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return fmt(lang, timeZone, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(d);
}

/** "28 Nov 2026, 09:12:05": a timeline's time, to the second, in the center's time zone. */
export function formatDateTimeSeconds(iso: string | null | undefined, lang: Language, timeZone: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return fmt(lang, timeZone, { dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' }).format(d);
}

function partsIn(date: Date, timeZone: string): Record<string, string> {
  const f = fmt('en', timeZone, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  return Object.fromEntries(f.formatToParts(date).map((p) => [p.type, p.value]));
}

/** The zone's offset from UTC at an instant, in minutes. */
function offsetMinutes(date: Date, timeZone: string): number {
  const p = partsIn(date, timeZone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

export { localDate } from '../domain/dates';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Reads a datetime-local (or date) value typed in the center's zone as an ISO instant; undefined if
 * it is not one. The offset is looked up for that wall-clock time, so zones with DST work too.
 */
export function localToIso(value: string, timeZone: string): string | undefined {
  const m = LOCAL.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(wall)) return undefined;
  let instant = wall - offsetMinutes(new Date(wall), timeZone) * 60000;
  instant = wall - offsetMinutes(new Date(instant), timeZone) * 60000;
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** "due in 23 min" / "overdue by 1 h 5 min": the text the countdown script keeps updating. */
export function countdownText(dueAt: string, now: Date, t: Translate): string {
  const diff = Date.parse(dueAt) - now.getTime();
  const total = Math.floor(Math.abs(diff) / 60000);
  const h = Math.floor(total / 60);
  const m = total % 60;
  const span = h > 0 ? t('time.hoursMinutes', { h, m }) : t('time.minutes', { m });
  return diff >= 0 ? t('time.dueIn', { span }) : t('time.overdueBy', { span });
}
