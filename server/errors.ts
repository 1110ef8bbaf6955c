import { KnexTimeoutError } from 'knex';
import type { ZodError } from 'zod';

export type ErrorDetail = { path: string; message: string };

/** A failure the caller can act on: answered in API.md's error shape with its status. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(details: ErrorDetail[], message = 'The request does not match the schema.') {
    super('validation_failed', 400, message, details);
  }

  static fromZod(err: ZodError, prefix: (string | number)[] = []): ValidationError {
    return new ValidationError(
      err.issues.map((i) => ({ path: [...prefix, ...i.path].map(String).join('.'), message: i.message })),
    );
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication is required.', code = 'unauthorized') {
    super(code, 401, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role may not do this.') {
    super('forbidden', 403, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'No such resource.') {
    super('not_found', 404, message);
  }
}

export class ConflictError extends AppError {
  constructor(code = 'conflict', message = 'The request conflicts with the current state.', details: ErrorDetail[] = []) {
    super(code, 409, message, details);
  }
}

export class UnavailableError extends AppError {
  constructor(message = 'A backing service is unavailable; nothing was written.') {
    super('unavailable', 503, message);
  }
}

/** PostgreSQL SQLSTATE codes we translate; never match on message text. */
const PG_UNIQUE_VIOLATION = '23505';
const PG_FOREIGN_KEY_VIOLATION = '23503';
const PG_CHECK_VIOLATION = '23514';
const PG_CONNECTION_CLASS = '08';
/**
 * Data exceptions that only input can cause: text with NUL (22021, 22P05), a value of the wrong
 * form or range for its column (22P02, 22007, 22008, 22003). Schemas catch most of these first;
 * this is the net under them, so odd input is a 400 and never a 500.
 */
const PG_BAD_INPUT = new Set(['22021', '22P05', '22P02', '22007', '22008', '22003']);
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '3D000']);
/** A table or column the code expects is missing: the database is behind this build's migrations. */
const PG_NOT_MIGRATED = new Set(['42P01', '42703']);
const NODE_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
/**
 * node-postgres says a connection was lost in words only, with no SQLSTATE or errno code (knex puts
 * the statement in front): the one place these errors are matched on their text.
 */
const PG_CLIENT_LOST = /Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/;

export function translatePgError(err: unknown): AppError | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') {
    if (err instanceof KnexTimeoutError) return new UnavailableError();
    if (err instanceof Error && PG_CLIENT_LOST.test(err.message)) return new UnavailableError();
    return undefined;
  }
  if (code === PG_UNIQUE_VIOLATION) {
    const constraint = (err as { constraint?: string }).constraint;
    return new ConflictError('conflict', 'A record with the same unique value already exists.', constraint ? [{ path: constraint, message: 'already exists' }] : []);
  }
  if (code === PG_FOREIGN_KEY_VIOLATION) {
    return new ValidationError([{ path: (err as { constraint?: string }).constraint ?? '', message: 'refers to something that does not exist' }]);
  }
  if (code === PG_CHECK_VIOLATION) {
    return new ValidationError([{ path: (err as { constraint?: string }).constraint ?? '', message: 'violates a rule of the data model' }]);
  }
  if (PG_BAD_INPUT.has(code)) {
    return new ValidationError([{ path: '', message: 'a value is not in a form or range the center can store (for example a NUL character or an impossible date)' }]);
  }
  if (PG_NOT_MIGRATED.has(code)) return new UnavailableError(NOT_MIGRATED_MESSAGE);
  if (code.startsWith(PG_CONNECTION_CLASS) || PG_UNAVAILABLE.has(code) || NODE_CONNECTION_ERRORS.has(code)) {
    return new UnavailableError();
  }
  return undefined;
}

export const NOT_MIGRATED_MESSAGE = 'The database is not migrated yet; nothing was written. An operator must run npm run db:migrate.';

/** The part of the system an error says is missing: PostgreSQL, its schema, or Redis. */
export type Dependency = 'postgres' | 'redis' | 'migrations';

/** ioredis and BullMQ connection failures, by the words they use (they carry no codes of their own). */
const REDIS_CONNECTION_MESSAGE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|connection ended|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|Reached the max retries|LOADING/i;

/**
 * Which dependency an error says is unavailable, if any. `source: 'redis'` marks an error raised by a
 * Redis connection (an ioredis or BullMQ error event), whose socket errors name no service.
 */
export function dependencyOf(err: unknown, source?: 'redis'): Dependency | undefined {
  if (source === 'redis') {
    const message = err instanceof Error ? `${err.name} ${err.message}` : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    return (typeof code === 'string' && NODE_CONNECTION_ERRORS.has(code)) || REDIS_CONNECTION_MESSAGE.test(message) ? 'redis' : undefined;
  }
  if (err instanceof AppError) return undefined;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PG_NOT_MIGRATED.has(code)) return 'migrations';
  return translatePgError(err) instanceof UnavailableError ? 'postgres' : undefined;
}
