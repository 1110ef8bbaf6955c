import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/** Marks a bigint inside JSON.stringify's output; random per process, so no submitted text can pose as one. */
const MARK = `\u0000bigint-${randomBytes(6).toString('hex')}:`;
const MARKED = new RegExp(`"${JSON.stringify(MARK).slice(1, -1).replace(/\\/g, '\\\\')}(-?\\d+)"`, 'g');

/**
 * JSON text in which a bigint is written as an integer number, digit for digit: money totals past
 * 2^53 - 1 stay exact numbers (API.md: money is a JSON number, never a string, never a float).
 */
export function stringifyExact(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v));
  return text.replace(MARKED, '$1');
}

/** res.json for a body that may hold bigints. */
export function sendExactJson(res: Response, body: unknown): void {
  res.type('application/json').send(stringifyExact(body));
}
