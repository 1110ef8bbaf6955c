import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import type { Request, Response } from 'express';
import { AppError } from '../errors';

export class RequestTimeoutError extends AppError {
  constructor(message: string) {
    super('request_timeout', 408, message);
  }
}

export class BodyTooLargeError extends AppError {
  constructor(limit: string) {
    super('payload_too_large', 413, `The body is larger than the configured limit of ${limit}.`);
  }
}

export type BodyLimits = {
  /** Most bytes the body may have, and the setting as the operator wrote it (for the message). */
  limitBytes: number;
  limitLabel: string;
  /** How long the whole body may take to arrive. */
  timeoutMs: number;
  /** How long the client may send nothing at all, mid-body. */
  idleMs: number;
  /** Kept in memory up to this many bytes; past it the body goes to a private temporary file. */
  memoryBytes: number;
};

/** A request body received in full, before anything of it reaches the database. */
export type StagedBody = {
  readonly length: number;
  /** The body again, from memory or its file; once. */
  stream(): Readable;
  /** The whole body in memory (bodies kept in memory only). */
  buffer(): Buffer;
  /** Removes the temporary file, if there is one. */
  dispose(): Promise<void>;
};

/**
 * Receives a whole request body within its limits of size and time. A client that sends slowly
 * holds only its own socket and at most `memoryBytes` of memory here, never a database
 * connection: the use case that stores the body starts once it is all in. Fails with 408
 * request_timeout (the body took too long, or stopped coming), 413 payload_too_large or
 * 400 bad_request (the client gave up); on a failure the rest of the body is discarded.
 */
export async function stageBody(req: Request, limits: BodyLimits): Promise<StagedBody> {
  const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
  if (declared !== undefined && declared > limits.limitBytes) {
    req.resume();
    throw new BodyTooLargeError(limits.limitLabel);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  let file: { path: string; out: WriteStream } | undefined;

  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(idle);
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onAborted);
        req.off('close', onClose);
        if (err) {
          // The answer goes out at once; whatever the client still sends is read and dropped.
          req.resume();
          reject(err);
        } else resolve();
      };
      const deadline = setTimeout(
        () => finish(new RequestTimeoutError(`The body did not arrive within ${limits.timeoutMs} ms; send it faster or in smaller batches.`)),
        limits.timeoutMs,
      );
      const idleError = () => new RequestTimeoutError(`Nothing of the body arrived for ${limits.idleMs} ms; the request was given up.`);
      let idle = setTimeout(() => finish(idleError()), limits.idleMs);
      const onData = (chunk: Buffer) => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(idleError()), limits.idleMs);
        length += chunk.length;
        if (length > limits.limitBytes) return finish(new BodyTooLargeError(limits.limitLabel));
        if (!file && length > limits.memoryBytes) {
          const at = path.join(tmpdir(), `afrc-body-${randomUUID()}`);
          file = { path: at, out: createWriteStream(at, { flags: 'wx', mode: 0o600 }) };
          file.out.on('error', (err) => finish(err));
          for (const c of chunks) file.out.write(c);
          chunks.length = 0;
        }
        if (file) {
          if (!file.out.write(chunk)) {
            req.pause();
            file.out.once('drain', () => {
              if (!settled) req.resume();
            });
          }
        } else chunks.push(chunk);
      };
      const onEnd = () => finish();
      const onError = (err: Error) => finish(err);
      const onAborted = () => finish(new AppError('bad_request', 400, 'The request was aborted.'));
      const onClose = () => {
        if (!req.complete) onAborted();
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onAborted);
      req.on('close', onClose);
    });
    if (file) {
      file.out.end();
      await once(file.out, 'finish');
    }
  } catch (err) {
    if (file) {
      file.out.destroy();
      await rm(file.path, { force: true });
    }
    throw err;
  }

  const staged = file;
  return {
    length,
    stream: () => (staged ? createReadStream(staged.path) : Readable.from(chunks.length ? chunks : [], { objectMode: false })),
    buffer: () => {
      if (staged) throw new Error('a body staged to a file is read as a stream');
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    },
    dispose: async () => {
      if (staged) await rm(staged.path, { force: true });
    },
  };
}

/**
 * After a body failed on its way in, the connection ends with the answer: the client may still be
 * sending, and reading the rest of a slow or oversized body would hold the socket for nothing.
 */
export function closeAfterAnswer(res: Response, err: unknown): void {
  if (err instanceof RequestTimeoutError || err instanceof BodyTooLargeError) res.setHeader('Connection', 'close');
}
