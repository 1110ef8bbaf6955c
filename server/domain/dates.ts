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
