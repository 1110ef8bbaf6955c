import type { z } from 'zod';
import { ValidationError } from '../errors';
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from '../domain/json-depth';

/** Parses a request part with its schema; a failure is a 400 with every dotted field path. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: (string | number)[] = []): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data;
}

/**
 * body-parser's `verify` hook for JSON bodies: a body nested deeper than MAX_JSON_DEPTH is refused
 * before it is parsed, as a 400 rather than a stack overflow somewhere after.
 */
export function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer): void {
  if (nestsDeeperThan(body)) throw new ValidationError([], TOO_DEEP_MESSAGE);
}
