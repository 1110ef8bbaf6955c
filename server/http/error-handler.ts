import type { ErrorRequestHandler, Request } from 'express';
import { AppError, translatePgError } from '../errors';
import type { Logger } from '../logger';
import { signInToResume } from '../pages/auth.pages';
import type { DependencyWatch } from '../dependencies';

/** body-parser / raw-body error types, mapped to the contract's codes. */
function fromBodyParser(err: { type?: string; status?: number }): AppError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new AppError('malformed_json', 400, 'The body is not valid JSON.');
    case 'entity.too.large':
      return new AppError('payload_too_large', 413, 'The body is larger than the configured limit.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 415, 'The body encoding is not supported.');
    case 'request.aborted':
      return new AppError('bad_request', 400, 'The request was aborted.');
    default:
      return undefined;
  }
}

export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err && typeof err === 'object') {
    const fromBody = fromBodyParser(err as { type?: string });
    if (fromBody) return fromBody;
  }
  return translatePgError(err);
}

export function wantsHtml(req: Request): boolean {
  return !req.path.startsWith('/api/') && req.accepts(['json', 'html']) === 'html';
}

export function errorHandler(logger: Logger, health: DependencyWatch): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    const log = (req as { log?: Logger }).log ?? logger;
    // A missing PostgreSQL or schema is said once per outage by the DependencyWatch, not per request.
    const dependencyDown = health.failed(err);
    if (!appError && !dependencyDown) log.error({ err }, 'unhandled error');
    else if (appError && appError.status >= 500 && !dependencyDown) log.warn({ err }, appError.message);
    const status = appError?.status ?? 500;
    const body = {
      error: {
        code: appError?.code ?? 'internal_error',
        message: appError?.message ?? 'Something went wrong; it has been logged.',
        details: appError?.details ?? [],
      },
    };
    if (res.headersSent) return req.socket.destroy();
    if (wantsHtml(req)) {
      if (status === 401) {
        if (signInToResume(req, res)) return;
        return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      }
      return res.status(status).render('errors/error', { status, ...body.error });
    }
    res.status(status).json(body);
  };
}
