import type { z } from 'zod';
import { ValidationError } from '../errors';

/** Parses a request part with its schema; a failure is a 400 with every dotted field path. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: (string | number)[] = []): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data;
}
