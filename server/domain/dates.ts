import { z } from 'zod';

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-28": the calendar day of an instant in the center's zone, the day its figures count on. */
export function localDate(date: Date, timeZone: string): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(date).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a calendar day "YYYY-MM-DD", for counting and comparing days. */
export const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;

/** The calendar day with that day number. */
export const dayText = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** The calendar day `n` days after (or before, for negative n) `day`. */
export const addDays = (day: string, n: number): string => dayText(dayNumber(day) + n);

/** Nothing this center handles happened before this year: earlier years (0000, 0001) are typing slips or probes. */
export const EARLIEST_YEAR = 1970;

/**
 * When something happened (a fraud, a transfer, a sighting): an ISO 8601 timestamp with a zone, not
 * before EARLIEST_YEAR. How far ahead of the server's clock it may be is a setting
 * (MAX_CLOCK_SKEW_SECONDS), checked by the use case with `aheadOfClock`.
 */
export const EventTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 timestamp with a zone' })
  .refine((v) => new Date(v).getUTCFullYear() >= EARLIEST_YEAR, `must not be before ${EARLIEST_YEAR}`);

/** The problem of an event time further ahead of `nowMs` than the allowed clock skew, if it is. */
export function aheadOfClock(path: string, at: string | undefined, maxSkewMs: number, nowMs = Date.now()): { path: string; message: string }[] {
  if (at === undefined) return [];
  return Date.parse(at) > nowMs + maxSkewMs
    ? [{ path, message: `is in the future (more than ${Math.round(maxSkewMs / 1000)} s ahead of the server clock)` }]
    : [];
}
