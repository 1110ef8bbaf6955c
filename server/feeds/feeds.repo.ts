import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import type { Db, DbOrTrx } from '../db';
import type { IndicatorKind, IndicatorStatus, Role } from '../domain/kinds';
import { OPEN_TASK_STATUSES } from '../domain/kinds';

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
  stored: number;
  processed: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  cursor: number;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
};

type BatchRow = {
  id: string; institution_id: string; actor_type: 'user' | 'api_client'; actor_id: string; actor_name: string;
  actor_role: Role; content_type: string; status: 'processing' | 'done'; received: number; stored: number;
  processed: number; accepted: number; duplicates: number; rejected: number; cursor: number;
  created_at: Date; updated_at: Date; completed_at: Date | null;
};

const toBatch = (r: BatchRow): FeedBatch => ({
  id: r.id,
  institutionId: r.institution_id,
  actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name, role: r.actor_role, institutionId: r.institution_id },
  contentType: r.content_type,
  status: r.status,
  received: r.received,
  stored: r.stored,
  processed: r.processed,
  accepted: r.accepted,
  duplicates: r.duplicates,
  rejected: r.rejected,
  cursor: r.cursor,
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

/** How many rows are written to the COPY stream per socket write. */
const COPY_BUFFER_ROWS = 500;

/**
 * Stores one submitted feed in a single transaction on one connection: the batch row, every item
 * streamed through COPY into a temporary staging table, then moved into feed_items with
 * ON CONFLICT DO NOTHING (a repeat of an (institution, externalId) is a duplicate) and the
 * rejected items into feed_errors. Nothing is visible, and nothing is half-written, before commit.
 */
export class FeedWriter {
  private buffer: string[] = [];
  private copy: Writable;
  private copyDone: Promise<void>;
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly conn: PoolClient,
    readonly batchId: string,
    private readonly institutionId: string,
  ) {
    this.copy = conn.query(copyFrom(
      'COPY feed_stage (idx, external_id, type, indicator_kind, indicator_value, confidence, observed_at, note, task_id, body, error_code, error_message) FROM STDIN',
    ));
    this.copyDone = new Promise<void>((resolve, reject) => {
      this.copy.on('finish', resolve);
      this.copy.on('error', (err: Error) => {
        this.failed = err;
        reject(err);
      });
    });
    this.copyDone.catch(() => undefined);
  }

  static async open(db: Db, actor: BatchActor, contentType: string): Promise<FeedWriter> {
    const conn = (await db.client.acquireConnection()) as PoolClient;
    try {
      await conn.query('BEGIN');
      const { rows } = await conn.query<{ id: string }>(
        `INSERT INTO feed_batches (institution_id, actor_type, actor_id, actor_name, actor_role, content_type)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [actor.institutionId, actor.type, actor.id, actor.name, actor.role, contentType],
      );
      // Temporary tables skip the WAL: the items reach durable storage once, in feed_items.
      await conn.query(`
        CREATE TEMP TABLE feed_stage (
          idx integer NOT NULL, external_id text, type text, indicator_kind text, indicator_value text,
          confidence text, observed_at timestamptz, note text, task_id uuid, body jsonb,
          error_code text, error_message text
        ) ON COMMIT DROP`);
      return new FeedWriter(db, conn, rows[0]!.id, actor.institutionId);
    } catch (err) {
      await rollbackAndRelease(db, conn);
      throw err;
    }
  }

  /** Queues one item; resolves when the stream can take more (backpressure from PostgreSQL). */
  async write(item: StagedItem): Promise<void> {
    if (this.failed) throw this.failed;
    this.buffer.push(copyLine(item));
    if (this.buffer.length >= COPY_BUFFER_ROWS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    if (!this.copy.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => { this.copy.off('error', onError); resolve(); };
        const onError = (err: Error) => { this.copy.off('drain', onDrain); reject(err); };
        this.copy.once('drain', onDrain);
        this.copy.once('error', onError);
      });
    }
  }

  /** Moves the staged items into place, counts them, commits. */
  async commit(received: number): Promise<FeedBatch> {
    try {
      await this.flush();
      this.copy.end();
      await this.copyDone;
      const stored = await this.conn.query(
        `INSERT INTO feed_items (institution_id, external_id, batch_id, idx, type, indicator_kind, indicator_value,
                                 confidence, observed_at, note, task_id, body)
         SELECT $1, external_id, $2, idx, type, indicator_kind, indicator_value, confidence, observed_at, note, task_id, body
           FROM feed_stage WHERE error_code IS NULL ORDER BY idx
         ON CONFLICT (institution_id, external_id) DO NOTHING`,
        [this.institutionId, this.batchId],
      );
      const rejected = await this.conn.query(
        `INSERT INTO feed_errors (batch_id, idx, external_id, code, message)
         SELECT $1, idx, external_id, error_code, error_message FROM feed_stage WHERE error_code IS NOT NULL`,
        [this.batchId],
      );
      const storedCount = stored.rowCount ?? 0;
      const rejectedCount = rejected.rowCount ?? 0;
      const duplicates = received - storedCount - rejectedCount;
      const { rows } = await this.conn.query<BatchRow>(
        `UPDATE feed_batches
            SET received = $2::int, stored = $3::int, duplicates = $4::int, rejected = $5::int, processed = $4::int + $5::int,
                status = CASE WHEN $3::int = 0 THEN 'done' ELSE 'processing' END,
                completed_at = CASE WHEN $3::int = 0 THEN now() END, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [this.batchId, received, storedCount, duplicates, rejectedCount],
      );
      await this.conn.query('COMMIT');
      this.release();
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

  private release(): void {
    this.closed = true;
    this.db.client.releaseConnection(this.conn);
  }
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

// ---- processing ----------------------------------------------------------------------------

export async function lockBatch(trx: DbOrTrx, batchId: string): Promise<FeedBatch | undefined> {
  const row: BatchRow | undefined = await trx('feed_batches').where({ id: batchId }).forUpdate().first();
  return row && toBatch(row);
}

export async function nextItemTypes(
  trx: DbOrTrx, batchId: string, after: number, limit: number,
): Promise<{ idx: number; type: 'fraud_indicator' | 'task_result' }[]> {
  return trx('feed_items').select('idx', 'type').where('batch_id', batchId).andWhere('idx', '>', after).orderBy('idx').limit(limit);
}

/** What the blocking rule needs to know of each indicator a run of items touched. */
export type IndicatorFactsRow = {
  id: string;
  kind: IndicatorKind;
  value: string;
  status: IndicatorStatus | null;
  institutionCount: number;
  reportCount: number;
  hasOpenTask: boolean;
};

/**
 * Applies the fraud_indicator items of (after, upto]: upserts each distinct indicator once (status
 * only escalates; 'blocked' stays) and returns the facts the blocking rule needs for each one, then
 * records every sighting. The plans do not depend on table statistics (a freshly loaded feed has
 * none yet): no joins, only index probes.
 */
export async function applyIndicatorItems(
  trx: DbOrTrx, batch: Pick<FeedBatch, 'id' | 'institutionId'>, after: number, upto: number,
): Promise<IndicatorFactsRow[]> {
  const range = { batch: batch.id, inst: batch.institutionId, after, upto };
  const open = OPEN_TASK_STATUSES.map((st) => `'${st}'`).join(',');
  // The facts are read in the upsert's own statement, which sees the tables as they were before
  // it: this chunk's sightings are not written yet, so this institution counts as one more.
  const { rows } = await trx.raw(
    `WITH up AS (
       INSERT INTO indicators AS i (kind, value, status, first_seen_at, last_seen_at)
       SELECT indicator_kind, indicator_value,
              CASE WHEN bool_or(confidence = 'confirmed') THEN 'confirmed' ELSE 'suspected' END,
              min(observed_at), max(observed_at)
         FROM feed_items
        WHERE batch_id = :batch AND idx > :after AND idx <= :upto AND type = 'fraud_indicator'
        GROUP BY indicator_kind, indicator_value
        ORDER BY indicator_kind, indicator_value
       ON CONFLICT (kind, value) DO UPDATE SET
         status = CASE
           WHEN i.status = 'blocked' THEN 'blocked'
           WHEN i.status = 'confirmed' OR excluded.status = 'confirmed' THEN 'confirmed'
           ELSE 'suspected' END,
         first_seen_at = LEAST(i.first_seen_at, excluded.first_seen_at),
         last_seen_at = GREATEST(i.last_seen_at, excluded.last_seen_at)
       RETURNING i.id, i.kind, i.value, i.status, i.report_count, (i.xmax = 0) AS created
     )
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
                            AND t.kind <> 'intercept_funds' AND t.status IN (${open})) AS has_open_task
       FROM up`,
    range,
  );
  if (rows.length === 0) return [];
  await trx.raw(
    `INSERT INTO indicator_sightings (indicator_id, institution_id, batch_id, external_id, confidence, observed_at, note)
     SELECT (SELECT i.id FROM indicators i WHERE i.kind = f.indicator_kind AND i.value = f.indicator_value),
            :inst, :batch, f.external_id, f.confidence, f.observed_at, f.note
       FROM feed_items f
      WHERE f.batch_id = :batch AND f.idx > :after AND f.idx <= :upto AND f.type = 'fraud_indicator'`,
    range,
  );
  return (rows as { id: string; kind: IndicatorKind; value: string; status: IndicatorStatus | null; institution_count: number; report_count: number; has_open_task: boolean }[])
    .map((r) => ({
      id: r.id, kind: r.kind, value: r.value, status: r.status,
      institutionCount: r.institution_count, reportCount: r.report_count, hasOpenTask: r.has_open_task,
    }));
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
): Promise<FeedBatch> {
  const n = step.accepted + step.rejected;
  const [row] = (await trx('feed_batches')
    .where({ id: batchId })
    .update({
      cursor: step.cursor,
      accepted: trx.raw('accepted + ?', [step.accepted]),
      rejected: trx.raw('rejected + ?', [step.rejected]),
      processed: trx.raw('processed + ?', [n]),
      status: trx.raw(`CASE WHEN processed + ? >= received THEN 'done' ELSE status END`, [n]),
      completed_at: trx.raw('CASE WHEN processed + ? >= received THEN now() ELSE completed_at END', [n]),
      updated_at: trx.fn.now(),
    })
    .returning('*')) as BatchRow[];
  return toBatch(row!);
}

/** Closes a batch whose items are all accounted for (a safety net; counts normally close it). */
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
