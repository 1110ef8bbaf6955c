import type { Db } from '../db';

export type Counted = { hits: number; resetAt: Date };

/**
 * Counts one hit for `key` in its current window, atomically however many processes count at
 * once: a window that has ended starts again at 1.
 */
export async function countHit(db: Db, key: string, windowMs: number): Promise<Counted> {
  const { rows } = await db.raw<{ rows: { hits: number; reset_at: Date }[] }>(
    `INSERT INTO rate_limit_counters AS c (key, hits, reset_at)
     VALUES (?, 1, now() + make_interval(secs => ? / 1000.0))
     ON CONFLICT (key) DO UPDATE SET
       hits = CASE WHEN c.reset_at <= now() THEN 1 ELSE c.hits + 1 END,
       reset_at = CASE WHEN c.reset_at <= now() THEN excluded.reset_at ELSE c.reset_at END
     RETURNING hits, reset_at`,
    [key, windowMs],
  );
  return { hits: rows[0]!.hits, resetAt: rows[0]!.reset_at };
}

/** The current window's count, if the key has one. */
export async function readHits(db: Db, key: string): Promise<Counted | undefined> {
  const row = await db('rate_limit_counters').where({ key }).andWhere('reset_at', '>', db.fn.now()).first('hits', 'reset_at');
  return row ? { hits: row.hits, resetAt: row.reset_at } : undefined;
}

/** Takes one hit back (a request that turned out not to count), never below zero. */
export async function uncountHit(db: Db, key: string): Promise<void> {
  await db('rate_limit_counters').where({ key }).andWhere('reset_at', '>', db.fn.now()).update({ hits: db.raw('greatest(hits - 1, 0)') });
}

export async function forgetKey(db: Db, key: string): Promise<void> {
  await db('rate_limit_counters').where({ key }).delete();
}

/** Removes the rows of windows that have ended (they would start again at 1 anyway). */
export async function forgetEndedWindows(db: Db, keyPrefix: string): Promise<number> {
  return db('rate_limit_counters').where('key', 'like', `${keyPrefix.replace(/[\\%_]/g, '\\$&')}%`).andWhere('reset_at', '<=', db.fn.now()).delete();
}
