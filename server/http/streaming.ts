import { once } from 'node:events';
import type { Response } from 'express';

/**
 * Answers a JSON document with one long array, written as its pages are read: `head`, the items
 * joined by commas, `tail`. Memory holds a page, not the document. The first page is read before
 * anything is sent, so a failure there (the database is down) is still an ordinary error answer; a
 * later one cuts the connection, and the client sees a broken document rather than a short one
 * that looks whole. PostgreSQL's pace and the client's set the pace.
 */
export async function streamJsonArray<T>(
  res: Response, contentType: string, head: string, pages: AsyncIterable<T[]>, toJson: (item: T) => unknown, tail: string,
  /** `head` already ends inside the array after an element of its own: the first item needs a comma. */
  afterAnElement = false,
): Promise<void> {
  const iterator = pages[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(200).setHeader('Content-Type', contentType);
  let first = !afterAnElement;
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  await write(head);
  while (!next.done && !res.destroyed) {
    const parts = next.value.map((item) => JSON.stringify(toJson(item)));
    if (parts.length > 0) {
      await write(`${first ? '' : ','}${parts.join(',')}`);
      first = false;
    }
    next = await iterator.next();
  }
  if (!next.done) await iterator.return?.();
  res.end(tail);
}
