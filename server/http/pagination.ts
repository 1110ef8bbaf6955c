import { z } from 'zod';
import { ValidationError } from '../errors';

export const ListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Cursors are opaque to clients: base64url of the last row's sort keys. */
export function encodeCursor(keys: (string | number)[]): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const keys: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(keys) && keys.length === arity && keys.every((k) => typeof k === 'string' || typeof k === 'number')) {
      return keys as (string | number)[];
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError([{ path: 'cursor', message: 'is not a cursor this server issued' }]);
}

/** Takes limit+1 rows to know whether there is a next page without a count query. */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, keysOf: (r: R) => (string | number)[]): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { items: pageRows.map(map), nextCursor: more && last ? encodeCursor(keysOf(last)) : null };
}
