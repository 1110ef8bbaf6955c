// Money is an integer count of minor units beside an ISO 4217 code. Nothing here ever turns an
// amount into a binary float fraction: a fen lost to rounding is a fen the victim never gets back.

export type MoneyProblem = 'empty' | 'negative' | 'notAmount' | 'noDecimals' | 'maxDecimals' | 'tooLarge';

/**
 * A typed amount that cannot be read as money. `message` is English, fit to show beside the form
 * field; `problem` and `params` let a page say the same in the reader's language.
 */
export class MoneyFormatError extends Error {
  override readonly name = 'MoneyFormatError';
  constructor(
    message: string,
    readonly problem: MoneyProblem,
    readonly params: Record<string, string> = {},
  ) {
    super(message);
  }
}

const CURRENCY_CODE = /^[A-Za-z]{3}$/;
const digitsCache = new Map<string, number>();

function currencyKey(currency: string): string {
  if (!CURRENCY_CODE.test(currency)) {
    throw new RangeError(`Not an ISO 4217 currency code: ${JSON.stringify(currency)}`);
  }
  return currency.toUpperCase();
}

export function minorDigits(currency: string): number {
  const key = currencyKey(currency);
  let digits = digitsCache.get(key);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency: key }).resolvedOptions()
      .maximumFractionDigits ?? 2;
    digitsCache.set(key, digits);
  }
  return digits;
}

export function isMinor(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function checkedNumber(value: bigint, what: string): number {
  if (value > MAX_SAFE || value < MIN_SAFE) {
    throw new RangeError(`${what} ${value} is beyond the safe integer range`);
  }
  return Number(value);
}

// "1,234.56": strict thousands grouping, so a European "12,34" (meaning 12.34) is refused
// rather than silently read as 1234 — a factor-of-100 error in a freeze order.
const AMOUNT = /^(?<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?<frac>\d*))?$/;

/**
 * Reads an amount as a desk officer types it ("1,234.56", "¥1,234.56", fullwidth "１２３") into
 * exact integer minor units by string arithmetic.
 */
export function parseMajorToMinor(text: string, currency: string): number {
  const code = currencyKey(currency);
  const digits = minorDigits(code);
  // NFKC folds what Chinese input methods produce (fullwidth digits, "，", "．", "￥") to ASCII.
  let s = String(text ?? '').normalize('NFKC').replace(/\s+/g, '');
  if (s === '') throw new MoneyFormatError('Enter an amount, for example 1,234.56.', 'empty');

  const aliases = code === 'CNY' ? `${code}|RMB` : code;
  // Optional code, then an optional symbol that may carry a country prefix ("CN¥", "US$").
  const prefix = new RegExp(`^(?:${aliases})?(?:[A-Z]{0,2}\\p{Sc})?`, 'iu');
  const suffix = new RegExp(`(?:\\p{Sc}|${aliases}${code === 'CNY' ? '|元' : ''})$`, 'iu');
  const negative = /^[-\u2212(]/.test(s);
  s = s.replace(prefix, '');
  if (negative || /^[-\u2212(]/.test(s)) throw new MoneyFormatError('The amount cannot be negative.', 'negative');
  s = s.replace(suffix, '');

  const m = AMOUNT.exec(s);
  const intText = m?.groups?.int;
  const fracText = m?.groups?.frac ?? '';
  if (!m || (intText === undefined && fracText === '')) {
    throw new MoneyFormatError(`"${String(text).trim()}" is not an amount; write it like 1,234.56.`, 'notAmount', { text: String(text).trim() });
  }
  if (fracText.length > digits) {
    throw digits === 0
      ? new MoneyFormatError(`${code} has no decimal places; enter a whole amount.`, 'noDecimals', { code })
      : new MoneyFormatError(`${code} allows at most ${digits} decimal place${digits === 1 ? '' : 's'}.`, 'maxDecimals', { code, digits: String(digits) });
  }
  const whole = (intText ?? '0').replace(/,/g, '');
  const minor = BigInt(whole + fracText.padEnd(digits, '0'));
  if (minor > MAX_SAFE) throw new MoneyFormatError('The amount is too large.', 'tooLarge');
  return Number(minor);
}

/** Decimal string of a minor amount built from its digits: 123456, 2 → "1234.56". */
function toDecimalString(minor: number | bigint, digits: number): string {
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) {
    throw new RangeError(`Minor units must be a safe integer, got ${minor}`);
  }
  const whole = BigInt(minor);
  const sign = whole < 0n ? '-' : '';
  const abs = String(whole < 0n ? -whole : whole);
  if (digits === 0) return sign + abs;
  const padded = abs.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

// Node 20 formats a decimal string exactly, but TypeScript's lib only declares that overload
// from es2023; this keeps the call typed whatever lib the project compiles with.
type DecimalFormatter = { format(value: string): string };
const formatterCache = new Map<string, DecimalFormatter>();

function currencyFormatter(locale: string, code: string, digits: number): DecimalFormatter {
  const key = `${locale}\u0000${code}`;
  let f = formatterCache.get(key);
  if (!f) {
    // narrowSymbol: "¥1,234.56" in both en and zh-CN; the default symbol shows "CN¥" in en.
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: code,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }) as unknown as DecimalFormatter;
    formatterCache.set(key, f);
  }
  return f;
}

export function formatMinor(minor: number | bigint, currency: string, locale: string): string {
  const code = currencyKey(currency);
  const digits = minorDigits(code);
  return currencyFormatter(locale, code, digits).format(toDecimalString(minor, digits));
}

/** "1234.56": what goes back into a form input so parseMajorToMinor reads it unchanged. */
export function formatMinorPlain(minor: number | bigint, currency: string): string {
  return toDecimalString(minor, minorDigits(currency));
}

/**
 * `part` as a share of `whole` in basis points (1/100 of a percent), rounded down, by integer
 * arithmetic; null when `whole` is 0 (no share of nothing). A bigint: money frozen earlier and
 * returned in a period of little new freezing makes a share of any size, still exact.
 */
export function basisPoints(part: number | bigint, whole: number | bigint): bigint | null {
  if ((typeof part === 'number' && !Number.isSafeInteger(part)) || (typeof whole === 'number' && !Number.isSafeInteger(whole))) {
    throw new RangeError('basisPoints takes safe integers');
  }
  if (BigInt(whole) === 0n) return null;
  return (BigInt(part) * 10000n) / BigInt(whole);
}

export function sumMinor(values: number[]): number {
  let total = 0n;
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`Minor units must be a safe integer, got ${v}`);
    total += BigInt(v);
  }
  return checkedNumber(total, 'Sum');
}

/**
 * A total of minor amounts (statistics): exact whatever its size, so a bigint. Many large amounts add
 * up past 2^53 - 1, where a JS number would round; the API still writes it as a JSON number, digit
 * for digit (server/http/json.ts), and pages and CSVs format its digits.
 */
export type MinorTotal = bigint;

/** The exact sum of minor amounts or totals. */
export function sumTotals(values: readonly (number | bigint)[]): MinorTotal {
  let total = 0n;
  for (const v of values) {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`Minor units must be a safe integer, got ${v}`);
    total += BigInt(v);
  }
  return total;
}

const INTEGER_TEXT = /^(-?\d+)(?:\.0*)?$/;

/** An integer from pg (int8 and numeric, every SUM, arrive as strings), exactly; null reads as 0. */
function toBigInteger(v: string | number | bigint | null): bigint {
  if (v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`Amount ${v} is not a safe integer`);
    return BigInt(v);
  }
  const m = INTEGER_TEXT.exec(v.trim());
  if (!m) throw new RangeError(`Amount ${JSON.stringify(v)} is not an integer`);
  return BigInt(m[1]!);
}

/**
 * pg returns int8 and numeric (every SUM) as strings. An empty SUM is NULL, which for an amount
 * means nothing was booked, so null reads as 0.
 */
export function toMinorNumber(v: string | number | bigint | null): number {
  return checkedNumber(toBigInteger(v), 'Amount');
}

/** A SUM from PostgreSQL (numeric, as text) as an exact total; 0 for an empty SUM. */
export function toTotal(v: string | number | bigint | null): MinorTotal {
  return toBigInteger(v);
}

/** The problem of an amount above the largest one transfer may carry (MAX_AMOUNT_MINOR), if it is. */
export function amountAboveLimit(path: string, amountMinor: number, maxAmountMinor: number): { path: string; message: string }[] {
  return amountMinor > maxAmountMinor ? [{ path, message: `must be at most ${maxAmountMinor} minor units (MAX_AMOUNT_MINOR)` }] : [];
}
