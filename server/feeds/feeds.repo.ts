import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import type { Db, DbOrTrx } from '../db';
import type { IndicatorKind, IndicatorStatus, Role } from '../domain/kinds';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import type { BlockingRule } from '../domain/indicator-rules';
import type { SightingFacts } from '../domain/task-planning';
import { escalateStatusSql } from '../tasks/task-writer.repo';
import type { FeedBlock } from './feed-items';

export type BatchActor = {
  type: 'user' | 'api_client';
  id: string;
  name: string;
  role: Role;
  institutionId: string;
};

export type FeedBatch = {
  id: string;
  institutionId: string;
  actor: BatchActor;
  contentType: string;
  status: 'processing' | 'done';
  received: number;
  processed: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  cursor: number;
  /** Every item at or below this index is checked: in feed_items, or feed_errors, or a duplicate. */
  checkCursor: number;
  /** Where each processing lane stands (see LANES). */
  laneCursors: number[];
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
};

type BatchRow = {
  id: string; institution_id: string; actor_type: 'user' | 'api_client'; actor_id: string; actor_name: string;
  actor_role: Role; content_type: string; status: 'processing' | 'done'; received: number;
  processed: number; accepted: number; duplicates: number; rejected: number; cursor: number; check_cursor: number; lane_cursors: number[];
  created_at: Date; updated_at: Date; completed_at: Date | null;
};

const toBatch = (r: BatchRow): FeedBatch => ({
  id: r.id,
  institutionId: r.institution_id,
  actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name, role: r.actor_role, institutionId: r.institution_id },
  contentType: r.content_type,
  status: r.status,
  received: r.received,
  processed: r.processed,
  accepted: r.accepted,
  duplicates: r.duplicates,
  rejected: r.rejected,
  cursor: r.cursor,
  checkCursor: r.check_cursor,
  laneCursors: r.lane_cursors,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  completedAt: r.completed_at,
});

/** One item as it goes into staging: either a valid, normalized item or a rejection. */
export type StagedItem = {
  idx: number;
  externalId: string | null;
  type: 'fraud_indicator' | 'task_result' | null;
  kind?: IndicatorKind;
  value?: string;
  confidence?: 'suspected' | 'confirmed';
  observedAt?: string;
  note?: string | null;
  taskId?: string;
  body?: string;
  errorCode?: string;
  errorMessage?: string;
};

// COPY text format: backslash escapes for the four characters that would break a row.
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function copyField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  return v.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]!);
}

function copyLine(i: StagedItem): string {
  return `${i.idx}\t${copyField(i.externalId)}\t${copyField(i.type)}\t${copyField(i.kind)}\t${copyField(i.value)}\t${copyField(i.confidence)}\t${copyField(i.observedAt)}\t${copyField(i.note)}\t${copyField(i.taskId)}\t${copyField(i.body)}\t${copyField(i.errorCode)}\t${copyField(i.errorMessage)}\n`;
}

/** Resolves once a COPY stream can take more (PostgreSQL sets the pace). */
async function writeCopy(copy: Writable, chunk: Buffer | string): Promise<void> {
  if (copy.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => { copy.off('error', onError); resolve(); };
    const onError = (err: Error) => { copy.off('drain', onDrain); reject(err); };
    copy.once('drain', onDrain);
    copy.once('error', onError);
  });
}

/** A COPY into `sql` on `conn`, with its end (or failure) as a promise that never goes unhandled. */
function startCopy(conn: PoolClient, sql: string): { copy: Writable; done: Promise<void> } {
  const copy = conn.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    copy.on('finish', resolve);
    copy.on('error', reject);
  });
  done.catch(() => undefined);
  return { copy, done };
}

async function rollbackAndRelease(db: Db, conn: PoolClient): Promise<void> {
  try {
    await conn.query('ROLLBACK');
  } catch (err) {
    // A connection that cannot roll back is not put back into service.
    (conn as unknown as { __knex__disposed: unknown }).__knex__disposed = err;
  }
  db.client.releaseConnection(conn);
}

/**
 * The SET clauses that count `added` more of a batch's items as processed (the statement adds them
 * to accepted, rejected or duplicates too) and close the batch once every item it received is.
 */
function countProcessed(added: string): string {
  return `processed = processed + ${added},
          status = CASE WHEN processed + ${added} >= received THEN 'done' ELSE status END,
          completed_at = CASE WHEN processed + ${added} >= received THEN now() ELSE completed_at END,
          updated_at = now()`;
}

// A staging table has no statistics, so the move's estimate can cross the JIT thresholds, and
// compiling costs more than the move itself.
const NO_JIT = 'SET LOCAL jit = off';

// ---- storing: the feed as it arrived --------------------------------------------------------

// PostgreSQL's binary COPY framing: the signature, flags and header extension length, then per
// row a field count and each field as length + bytes, then -1.
const BINARY_COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const BINARY_COPY_HEADER = Buffer.concat([BINARY_COPY_SIGNATURE, Buffer.alloc(8)]);
const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);
const BLOCK_ROW_HEAD_BYTES = 2 + (4 + 16) + (4 + 4) + (4 + 4) + 4;

/**
 * Stores one submitted feed on one connection, in one transaction: the batch row, its blocks
 * through a binary COPY (the bytes reach PostgreSQL as they came: nothing to escape, nothing to
 * parse), then the item count. Nothing is visible, nothing is half-written, before the commit.
 */
export class FeedStore {
  private readonly copy: Writable;
  private readonly copyDone: Promise<void>;
  private readonly batchKey: Buffer;
  private closed = false;

  private constructor(private readonly db: Db, private readonly conn: PoolClient, readonly batchId: string) {
    ({ copy: this.copy, done: this.copyDone } = startCopy(conn, 'COPY feed_blocks (batch_id, first_idx, item_count, body) FROM STDIN (FORMAT binary)'));
    this.batchKey = Buffer.from(batchId.replace(/-/g, ''), 'hex');
    this.copy.write(BINARY_COPY_HEADER);
  }

  static async open(db: Db, actor: BatchActor, contentType: string): Promise<FeedStore> {
    const conn = (await db.client.acquireConnection()) as PoolClient;
    try {
      await conn.query('BEGIN');
      const { rows } = await conn.query<{ id: string }>(
        `INSERT INTO feed_batches (institution_id, actor_type, actor_id, actor_name, actor_role, content_type)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [actor.institutionId, actor.type, actor.id, actor.name, actor.role, contentType],
      );
      return new FeedStore(db, conn, rows[0]!.id);
    } catch (err) {
      await rollbackAndRelease(db, conn);
      throw err;
    }
  }

  /** Queues one block; resolves when the stream can take more. */
  async write(block: FeedBlock): Promise<void> {
    const head = Buffer.allocUnsafe(BLOCK_ROW_HEAD_BYTES);
    let at = head.writeInt16BE(4, 0);
    at = head.writeInt32BE(16, at);
    at += this.batchKey.copy(head, at);
    at = head.writeInt32BE(4, at);
    at = head.writeInt32BE(block.firstIdx, at);
    at = head.writeInt32BE(4, at);
    at = head.writeInt32BE(block.itemCount, at);
    head.writeInt32BE(block.body.length, at);
    this.copy.write(head);
    await writeCopy(this.copy, block.body);
  }

  /** Ends the COPY, records how many items came, commits. An empty feed is done at once. */
  async commit(received: number): Promise<FeedBatch> {
    try {
      this.copy.end(BINARY_COPY_TRAILER);
      await this.copyDone;
      const { rows } = await this.conn.query<BatchRow>(
        `UPDATE feed_batches
            SET received = $2::int,
                status = CASE WHEN $2::int = 0 THEN 'done' ELSE status END,
                completed_at = CASE WHEN $2::int = 0 THEN now() END
          WHERE id = $1 RETURNING *`,
        [this.batchId, received],
      );
      await this.conn.query('COMMIT');
      this.closed = true;
      this.db.client.releaseConnection(this.conn);
      return toBatch(rows[0]!);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Gives up: nothing of this submission remains. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.copy.writableFinished) this.copy.destroy(new Error('feed submission aborted'));
    await this.copyDone.catch(() => undefined);
    await rollbackAndRelease(this.db, this.conn);
  }
}

// ---- checking: each stored item parsed, checked and de-duplicated ---------------------------

function sqlInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n);
}

/** The (first_idx, item_count, body) rows of a binary COPY of feed_blocks. */
function blockRows(data: Buffer): FeedBlock[] {
  if (data.length === 0) return [];
  let at = BINARY_COPY_SIGNATURE.length + 4;
  at += 4 + data.readInt32BE(at);
  const blocks: FeedBlock[] = [];
  for (;;) {
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) return blocks;
    const firstIdx = data.readInt32BE(at + 4);
    const itemCount = data.readInt32BE(at + 12);
    at += 16;
    const length = data.readInt32BE(at);
    at += 4;
    blocks.push({ firstIdx, itemCount, body: data.subarray(at, at + length) });
    at += length;
  }
}

/** Advisory lock class taken while a batch's next items are checked. */
const CHECK_LOCK_CLASS = 7_204_120;

/**
 * The stored blocks after item `after`, whole, until they hold at least `items` items. Blocks never
 * change once stored, so this needs no lock. Read through a binary COPY, the bodies arrive as the
 * bytes they are; a query's answer would bring them as hex text, twice the size, to decode. COPY
 * takes no parameters: the values are a quoted uuid and two checked integers.
 */
export async function readBlocks(db: Db, batchId: string, after: number, items: number): Promise<FeedBlock[]> {
  const conn = (await db.client.acquireConnection()) as PoolClient;
  try {
    const batch = conn.escapeLiteral(batchId);
    const sql = `COPY (
      SELECT first_idx, item_count, body FROM feed_blocks
       WHERE batch_id = ${batch} AND first_idx IN (
         SELECT first_idx FROM (
           SELECT first_idx, sum(item_count) OVER (ORDER BY first_idx) - item_count AS before
             FROM feed_blocks WHERE batch_id = ${batch} AND first_idx > ${sqlInt(after)}) b
          WHERE before < ${sqlInt(items)})
       ORDER BY first_idx
    ) TO STDOUT (FORMAT binary)`;
    const chunks: Buffer[] = [];
    for await (const chunk of conn.query(copyTo(sql)) as AsyncIterable<Buffer>) chunks.push(chunk);
    return blockRows(Buffer.concat(chunks));
  } finally {
    db.client.releaseConnection(conn);
  }
}

/** Where a batch's checks stand: every item at or below `checkCursor` is checked, of `received`. */
export async function checkProgress(db: DbOrTrx, batchId: string): Promise<{ checkCursor: number; received: number } | undefined> {
  const row: { check_cursor: number; received: number } | undefined = await db('feed_batches')
    .where({ id: batchId }).first('check_cursor', 'received');
  return row && { checkCursor: row.check_cursor, received: row.received };
}

/** Checked items (after, upto], as rows for the staging COPY. */
export type CheckedSegment = { after: number; upto: number; items: number; rows: Buffer };

/**
 * Builds a CheckedSegment's rows one item at a time, straight into one buffer: each row's string
 * is garbage at once, where tens of thousands of strings kept until the segment is done would
 * outlive the young generation and swell the heap.
 */
export class CheckedRows {
  private buffer = Buffer.allocUnsafe(1024 * 1024);
  private length = 0;
  private items = 0;

  add(item: StagedItem): void {
    const row = copyLine(item);
    // UTF-8 takes at most three bytes per UTF-16 unit; cheaper than measuring each row.
    const most = row.length * 3;
    if (this.length + most > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + most));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    this.length += this.buffer.write(row, this.length);
    this.items++;
  }

  segment(after: number, upto: number): CheckedSegment {
    return { after, upto, items: this.items, rows: this.buffer.subarray(0, this.length) };
  }
}

const STAGE_TABLE = `
  CREATE TEMP TABLE feed_stage (
    idx integer NOT NULL, external_id text, type text, indicator_kind text, indicator_value text,
    confidence text, observed_at timestamptz, note text, task_id uuid, body jsonb,
    error_code text, error_message text
  ) ON COMMIT DROP`;

const STAGE_COPY = 'COPY feed_stage (idx, external_id, type, indicator_kind, indicator_value, confidence, observed_at, note, task_id, body, error_code, error_message) FROM STDIN';

/**
 * Puts a checked segment in place, in one transaction on one connection: its rows are COPYed into
 * a temporary staging table (no WAL), then moved into feed_items with ON CONFLICT DO NOTHING (a
 * repeat of an (institution, externalId) is a duplicate) and the rejected ones into feed_errors;
 * the counts and the check cursor move in the same transaction. Two runners of one batch take
 * turns (an advisory lock); a segment that no longer starts at the batch's check cursor (the other
 * runner got there first) changes nothing, and the cursor comes back instead.
 *
 * Rows go in by externalId (then index, so the first copy in a feed wins): two batches of one
 * institution checked at once then take the key locks in one order.
 */
export async function commitChecked(
  db: Db, batchId: string, segment: CheckedSegment,
): Promise<{ committed: true } | { committed: false; cursor: number | undefined }> {
  const conn = (await db.client.acquireConnection()) as PoolClient;
  try {
    await conn.query('BEGIN');
    // What is checked can be checked again from the stored blocks: a crash before the WAL flush
    // loses only work that is redone.
    await conn.query(`${NO_JIT}; SET LOCAL synchronous_commit = off`);
    await conn.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHECK_LOCK_CLASS, batchId]);
    const { rows: found } = await conn.query<{ institution_id: string; check_cursor: number }>(
      'SELECT institution_id, check_cursor FROM feed_batches WHERE id = $1', [batchId],
    );
    const batch = found[0];
    if (!batch || batch.check_cursor !== segment.after) {
      await rollbackAndRelease(db, conn);
      return { committed: false, cursor: batch?.check_cursor };
    }
    await conn.query(STAGE_TABLE);
    const stage = startCopy(conn, STAGE_COPY);
    await writeCopy(stage.copy, segment.rows);
    stage.copy.end();
    await stage.done;
    const stored = await conn.query(
      `INSERT INTO feed_items (institution_id, external_id, batch_id, idx, type, indicator_kind, indicator_value,
                               confidence, observed_at, note, task_id, body)
       SELECT $1, external_id, $2, idx, type, indicator_kind, indicator_value, confidence, observed_at, note, task_id, body
         FROM feed_stage WHERE error_code IS NULL ORDER BY external_id, idx
       ON CONFLICT (institution_id, external_id) DO NOTHING`,
      [batch.institution_id, batchId],
    );
    const rejected = await conn.query(
      `INSERT INTO feed_errors (batch_id, idx, external_id, code, message)
       SELECT $1, idx, external_id, error_code, error_message FROM feed_stage WHERE error_code IS NOT NULL`,
      [batchId],
    );
    const rejectedCount = rejected.rowCount ?? 0;
    // What is not stored is settled here, as a duplicate or a rejection; the rest is applied later.
    const settled = segment.items - (stored.rowCount ?? 0);
    await conn.query(
      `UPDATE feed_batches
          SET check_cursor = $2::int, duplicates = duplicates + $3::int, rejected = rejected + $4::int,
              ${countProcessed('$5::int')}
        WHERE id = $1`,
      [batchId, segment.upto, settled - rejectedCount, rejectedCount, settled],
    );
    await conn.query('COMMIT');
    db.client.releaseConnection(conn);
    return { committed: true };
  } catch (err) {
    await rollbackAndRelease(db, conn);
    throw err;
  }
}

// ---- processing ----------------------------------------------------------------------------

export async function lockBatch(trx: DbOrTrx, batchId: string): Promise<FeedBatch | undefined> {
  const row: BatchRow | undefined = await trx('feed_batches').where({ id: batchId }).forUpdate().first();
  return row && toBatch(row);
}

/** Advisory lock class taken while a batch's task-result item is applied. */
const RESULT_ITEM_LOCK_CLASS = 7_204_122;

/**
 * Serializes the task-result steps of one batch for the rest of the transaction, without holding
 * the batch row (checks keep committing), and answers the batch cursor as it stands once the
 * lock is held: a second runner of the same batch waits, then sees the item already applied.
 */
export async function enterResultItem(trx: DbOrTrx, batchId: string): Promise<number | undefined> {
  await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [RESULT_ITEM_LOCK_CLASS, batchId]);
  const row: { cursor: number } | undefined = await trx('feed_batches').where({ id: batchId }).first('cursor');
  return row?.cursor;
}

/**
 * What comes next after `after`, looking at most `limit` items ahead: nothing, a task result, or
 * a run of indicator items ending at `upto` (the last one before the next task result). One row
 * comes back, however long the run.
 */
export async function nextStep(
  trx: DbOrTrx, batchId: string, after: number, limit: number,
): Promise<{ kind: 'none' } | { kind: 'task_result'; idx: number } | { kind: 'indicators'; upto: number }> {
  const { rows } = await trx.raw(
    `WITH n AS MATERIALIZED (
       SELECT idx, type FROM feed_items WHERE batch_id = :batch AND idx > :after ORDER BY idx LIMIT :limit
     ), r AS (
       SELECT min(idx) AS first, min(idx) FILTER (WHERE type = 'task_result') AS first_result FROM n
     )
     SELECT r.first, r.first_result,
            (SELECT max(idx) FROM n WHERE idx < coalesce(r.first_result, 2147483647)) AS upto
       FROM r`,
    { batch: batchId, after, limit },
  );
  const row = (rows as { first: number | null; first_result: number | null; upto: number | null }[])[0];
  if (!row || row.first === null) return { kind: 'none' };
  if (row.first === row.first_result) return { kind: 'task_result', idx: row.first };
  return { kind: 'indicators', upto: row.upto! };
}

/** What the blocking rule needs to know of each indicator a run of items touched. */
export type IndicatorFactsRow = SightingFacts & { id: string };

/**
 * Settings for one processing transaction only. Its commit need not wait for the WAL flush: the
 * chunk's effects and the batch cursor commit together, so a crash loses only a chunk that is
 * done again (the store before the 202 keeps the synchronous commit). No JIT:
 * once autoanalyze has seen the growing tables, the chunk statement's estimated cost crosses the
 * JIT thresholds and compiling it costs more (about a second) than running it.
 */
export async function tuneProcessing(trx: DbOrTrx): Promise<void> {
  await trx.raw('SET LOCAL synchronous_commit = off; SET LOCAL jit = off');
}

/**
 * Whether a feed item's `confirmed` (columns of feed_items; :inst the submitter) stands: only for
 * what the submitter holds, or once someone else backs it (API.md, Feeds). It holds when the
 * indicator routes to the submitter — the same longest-prefix choice among active partners'
 * routes as buildRouter (domain/routing.ts), a URL matched whole or by its host, a tie going to
 * the smaller institution id — or when a report cites it (a bank account: a report's transfer
 * went to it), or another institution has confirmed it too. Any other `confirmed` is kept on the
 * sighting as it was said, and counts as `suspected`: no one partner makes an indicator confirmed
 * for everyone, or sends a blocking task to another institution, on its own word.
 */
// The host of a normalized URL ("https://host/..."); written without a question mark, which the
// query builder would take for a binding.
const URL_HOST_RE = '^[a-z][a-z0-9+.-]*://([^/:#@\\x3f]+)';

const VOUCHED_SQL = `(CASE WHEN confidence <> 'confirmed' THEN false
  WHEN (SELECT r.institution_id
          FROM institution_routes r JOIN institutions ins ON ins.id = r.institution_id AND ins.active AND ins.kind <> 'police'
         WHERE r.indicator_kind = indicator_kind
           AND (starts_with(indicator_value, r.prefix)
                OR (indicator_kind = 'url' AND starts_with(substring(indicator_value FROM '${URL_HOST_RE}'), r.prefix)))
         ORDER BY length(r.prefix) DESC, r.institution_id
         LIMIT 1) IS NOT DISTINCT FROM :inst THEN true
  ELSE EXISTS (SELECT 1 FROM indicators k
                WHERE k.kind = indicator_kind AND k.value = indicator_value
                  AND (k.report_count > 0
                       OR EXISTS (SELECT 1 FROM report_indicators ri WHERE ri.indicator_id = k.id)
                       OR EXISTS (SELECT 1 FROM indicator_sightings s
                                   WHERE s.indicator_id = k.id AND s.institution_id <> :inst AND s.confidence = 'confirmed')))
       OR (indicator_kind = 'bank_account' AND EXISTS (SELECT 1 FROM transfers t WHERE t.to_account = indicator_value))
  END)`;

/**
 * Applies the fraud_indicator items of (after, upto]: upserts each distinct indicator once (status
 * only escalates; 'blocked' stays) and returns the facts the blocking rule needs for each one, then
 * records every sighting. Only the indicators `rule` could act on come back.
 */
export async function applyIndicatorItems(
  trx: DbOrTrx, batch: Pick<FeedBatch, 'id' | 'institutionId'>, after: number, upto: number,
  part: { lane: number; lanes: number },
  rule: BlockingRule,
): Promise<{ facts: IndicatorFactsRow[]; items: number }> {
  const range = {
    batch: batch.id, inst: batch.institutionId, after, upto, lane: part.lane, lanes: part.lanes,
    onConfirmed: rule.onConfirmed, minInst: rule.minInstitutions, onReport: rule.onReport,
  };
  const open = OPEN_TASK_STATUSES.map((st) => `'${st}'`).join(',');
  // One statement: the chunk's items are read once, each distinct indicator upserted once, and
  // every sighting joined to the upsert's RETURNING rows (no second look-up of the indicator).
  // The facts are read in the same statement, which sees the tables as they were before it: this
  // chunk's sightings are not visible yet, so this institution counts as one more.
  // The sightings join is hashed, whatever the row estimates of a freshly loaded feed say.
  await trx.raw('SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off');
  const { rows } = await trx.raw(
    `WITH items AS MATERIALIZED (
       SELECT idx, external_id, indicator_kind, indicator_value, confidence, observed_at, note,
              ${VOUCHED_SQL} AS vouched
         FROM feed_items
        WHERE batch_id = :batch AND idx > :after AND idx <= :upto AND type = 'fraud_indicator'
          AND (:lanes::int = 1 OR abs(hashtext(indicator_kind || ':' || indicator_value) % :lanes::int) = :lane::int)
     ), up AS (
       INSERT INTO indicators AS i (kind, value, status, first_seen_at, last_seen_at)
       SELECT indicator_kind, indicator_value,
              CASE WHEN bool_or(vouched) THEN 'confirmed' ELSE 'suspected' END,
              min(observed_at), max(observed_at)
         FROM items
        GROUP BY indicator_kind, indicator_value
        ORDER BY indicator_kind, indicator_value
       ON CONFLICT (kind, value) DO UPDATE SET
         status = ${escalateStatusSql('i.status', 'excluded.status')},
         first_seen_at = LEAST(i.first_seen_at, excluded.first_seen_at),
         last_seen_at = GREATEST(i.last_seen_at, excluded.last_seen_at)
       RETURNING i.id, i.kind, i.value, i.status, i.report_count, (i.xmax = 0) AS created
     ), seen AS (
       INSERT INTO indicator_sightings (indicator_id, institution_id, batch_id, external_id, confidence, observed_at, note)
       SELECT up.id, :inst, :batch, it.external_id, it.confidence, it.observed_at, it.note
         FROM items it JOIN up ON up.kind = it.indicator_kind AND up.value = it.indicator_value
        ORDER BY it.idx
     ), facts AS (
     SELECT up.id, up.kind, up.value, up.status,
            CASE WHEN up.created THEN 1 ELSE
              1 + (SELECT count(DISTINCT s.institution_id) FROM indicator_sightings s
                    WHERE s.indicator_id = up.id AND s.institution_id <> :inst)::int END AS institution_count,
            CASE WHEN up.created AND up.kind <> 'bank_account' THEN 0 ELSE
              GREATEST(up.report_count,
                       (SELECT count(*) FROM report_indicators ri WHERE ri.indicator_id = up.id)::int,
                       CASE WHEN up.kind = 'bank_account'
                            THEN (SELECT count(DISTINCT t.report_id) FROM transfers t WHERE t.to_account = up.value)::int
                            ELSE 0 END) END AS report_count,
            EXISTS (SELECT 1 FROM tasks t WHERE t.indicator_id = up.id AND t.status IN (${open}))
              OR EXISTS (SELECT 1 FROM tasks t WHERE t.target_kind = up.kind AND t.target_value = up.value
                            AND t.family = 'blocking' AND t.status IN (${open})) AS has_open_task
       FROM up
     )
     -- The criteria of blockingDecision (domain/indicator-rules.ts), written again in SQL so that
     -- only the few indicators the rule could act on leave the database (a feed of a million new
     -- indicators would otherwise ship every one back). blockingDecision still decides on each
     -- row, so this must only ever let through at least what it accepts: change both together.
     -- The chunk's item count comes back even when no indicator does.
     SELECT c.item_count, f.*
       FROM (SELECT count(*)::int AS item_count FROM items) c
       LEFT JOIN facts f ON (
              f.status IS DISTINCT FROM 'blocked' AND NOT f.has_open_task
              AND ((:onConfirmed::boolean AND f.status = 'confirmed')
                   OR (:minInst::int > 0 AND f.institution_count >= :minInst::int)
                   OR (:onReport::boolean AND f.report_count > 0)))`,
    range,
  );
  await trx.raw('RESET enable_nestloop; RESET enable_mergejoin');
  type FactsOut = { id: string; kind: IndicatorKind; value: string; status: IndicatorStatus | null; item_count: number; institution_count: number; report_count: number; has_open_task: boolean };
  const list = rows as (FactsOut | (Pick<FactsOut, 'item_count'> & { id: null }))[];
  return {
    items: list[0]?.item_count ?? 0,
    facts: list.filter((r): r is FactsOut => r.id !== null).map((r) => ({
      id: r.id, kind: r.kind, value: r.value, status: r.status,
      institutionCount: r.institution_count, reportCount: r.report_count, hasOpenTask: r.has_open_task,
    })),
  };
}

/** How many lanes work a run of indicator items side by side. */
export const LANES = 2;

const LANE_LOCK_CLASS = 7_204_121;

/**
 * Starts lane `lane`'s work on a batch: waits out any other run of the same lane (a second job
 * for the batch) and answers where the lane stands, which is past the batch cursor once it has
 * committed part of a run the batch cursor has not passed yet.
 */
export async function enterLane(trx: DbOrTrx, batchId: string, lane: number): Promise<number> {
  await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [LANE_LOCK_CLASS, `${batchId}:${lane}`]);
  const { rows } = await trx.raw(
    'SELECT GREATEST(cursor, coalesce(lane_cursors[?::int], -1)) AS at FROM feed_batches WHERE id = ?',
    [lane + 1, batchId],
  );
  return (rows as { at: number }[])[0]?.at ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Starts work on a run as every lane at once: waits out any lane's work on the batch and answers
 * the batch cursor, or null when some lane is already past it (a run was left halfway by lanes;
 * only lanes finish it).
 */
export async function enterAllLanes(trx: DbOrTrx, batchId: string): Promise<number | null> {
  for (let lane = 0; lane < LANES; lane++) {
    await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [LANE_LOCK_CLASS, `${batchId}:${lane}`]);
  }
  const row: { cursor: number; lane_cursors: number[] } | undefined = await trx('feed_batches')
    .where({ id: batchId }).first('cursor', 'lane_cursors');
  if (!row) return null;
  return row.lane_cursors.every((c) => c <= row.cursor) ? row.cursor : null;
}

/** A lane is through `upto`: its cursor moves and its items count as processed and accepted. */
export async function advanceLane(trx: DbOrTrx, batchId: string, lane: number, upto: number, accepted: number): Promise<void> {
  await trx.raw(
    `UPDATE feed_batches
        SET lane_cursors[:slot::int] = :upto::int, accepted = accepted + :n::int, ${countProcessed(':n::int')}
      WHERE id = :id`,
    { slot: lane + 1, upto, n: accepted, id: batchId },
  );
}

/** Every lane is through `upto`: the batch cursor moves past the run. */
export async function advanceCursor(trx: DbOrTrx, batchId: string, upto: number): Promise<void> {
  await trx.raw('UPDATE feed_batches SET cursor = GREATEST(cursor, ?::int), updated_at = now() WHERE id = ?', [upto, batchId]);
}

export type TaskResultFeedItem = { idx: number; externalId: string; taskId: string; body: unknown };

export async function findTaskResultItem(db: DbOrTrx, batchId: string, idx: number): Promise<TaskResultFeedItem | undefined> {
  const row: { idx: number; external_id: string; task_id: string; body: unknown } | undefined = await db('feed_items')
    .select('idx', 'external_id', 'task_id', 'body')
    .where({ batch_id: batchId, idx, type: 'task_result' })
    .first();
  return row && { idx: row.idx, externalId: row.external_id, taskId: row.task_id, body: row.body };
}

/**
 * Notes that item `idx` is about to be recorded; answers whether an earlier run already got that
 * far (so a result found on the task may be that run's own).
 */
export async function markAttempt(db: DbOrTrx, batchId: string, idx: number): Promise<boolean> {
  const { rows } = await db.raw(
    `UPDATE feed_batches b SET attempting_idx = :idx
       FROM (SELECT attempting_idx AS prev FROM feed_batches WHERE id = :id FOR UPDATE) old
      WHERE b.id = :id
      RETURNING old.prev`,
    { id: batchId, idx },
  );
  return (rows as { prev: number | null }[])[0]?.prev === idx;
}

/** Whether a task's recorded result came in through a feed of this batch's submitter (a retried item). */
export async function resultCameFromFeed(db: DbOrTrx, taskId: string, actorId: string, since: Date): Promise<boolean> {
  const row = await db('task_results')
    .where({ task_id: taskId, source: 'feed', actor_id: actorId })
    .andWhere('created_at', '>=', since)
    .first('id');
  return row !== undefined;
}

export async function insertItemErrors(
  trx: DbOrTrx, batchId: string, errors: { idx: number; externalId: string | null; code: string; message: string }[],
): Promise<void> {
  if (errors.length === 0) return;
  await trx('feed_errors')
    .insert(errors.map((e) => ({ batch_id: batchId, idx: e.idx, external_id: e.externalId, code: e.code, message: e.message })))
    .onConflict(['batch_id', 'idx'])
    .ignore();
}

/** Moves the batch past `cursor`, adding the counts of what was just worked; done once all is processed. */
export async function advanceBatch(
  trx: DbOrTrx, batchId: string, step: { cursor: number; accepted: number; rejected: number },
): Promise<void> {
  await trx.raw(
    `UPDATE feed_batches
        SET cursor = :cursor::int, accepted = accepted + :accepted::int, rejected = rejected + :rejected::int,
            ${countProcessed(':n::int')}
      WHERE id = :id`,
    { cursor: step.cursor, accepted: step.accepted, rejected: step.rejected, n: step.accepted + step.rejected, id: batchId },
  );
}

/** Closes a batch whose items are all checked and worked (a safety net; counts normally close it). */
export async function markBatchDone(trx: DbOrTrx, batchId: string): Promise<void> {
  await trx('feed_batches').where({ id: batchId, status: 'processing' })
    .update({ status: 'done', completed_at: trx.fn.now(), updated_at: trx.fn.now() });
}

// ---- reading -------------------------------------------------------------------------------

/** Scoped in the query: another institution's batch is not found. */
export async function findVisibleBatch(db: DbOrTrx, batchId: string, scope: string | undefined): Promise<FeedBatch | undefined> {
  const q = db('feed_batches').where({ id: batchId });
  if (scope !== undefined) q.andWhere('institution_id', scope);
  const row: BatchRow | undefined = await q.first();
  return row && toBatch(row);
}

export async function batchErrors(
  db: DbOrTrx, batchId: string, limit: number,
): Promise<{ index: number; externalId: string | null; code: string; message: string }[]> {
  const rows: { idx: number; external_id: string | null; code: string; message: string }[] = await db('feed_errors')
    .where({ batch_id: batchId }).orderBy('idx').limit(limit);
  return rows.map((r) => ({ index: r.idx, externalId: r.external_id, code: r.code, message: r.message }));
}

/** Batches still processing with no progress for a while: their job may have been lost. */
export async function staleBatchIds(db: DbOrTrx, olderThanMs: number, limit = 100): Promise<string[]> {
  const rows: { id: string }[] = await db('feed_batches')
    .select('id')
    .where('status', 'processing')
    .andWhere('updated_at', '<', db.raw(`now() - make_interval(secs => ?)`, [olderThanMs / 1000]))
    .orderBy('updated_at')
    .limit(limit);
  return rows.map((r) => r.id);
}
