import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import type { Actor } from '../auth/actor';
import { isPartnerSide, scopeOf } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from '../errors';
import type { FeedQueue } from '../queues/feed-queue';
import type { TaskResultsService } from '../tasks/task-results.service';
import { TaskResultBody } from '../tasks/tasks.schemas';
import type { TaskEngine } from '../tasks/task-engine';
import type { Task } from '../tasks/tasks.repo';
import { itemLines, LineBlocks, parseByteLimit, stageLine } from './feed-items';
import type { FeedBatchOut } from './feeds.schemas';
import {
  advanceBatch, advanceCursor, advanceLane, applyIndicatorItems, batchErrors, enterAllLanes, enterLane, LANES, findTaskResultItem, findVisibleBatch, FeedStore, insertItemErrors,
  checkProgress, CheckedRows, commitChecked, readBlocks, type CheckedSegment,
  enterResultItem, lockBatch, markAttempt, markBatchDone, nextStep, resultCameFromFeed, staleBatchIds,
  tuneProcessing, type BatchActor, type FeedBatch,
} from './feeds.repo';

/** Items checked between two turns of the event loop. */
const YIELD_EVERY = 256;

/** How long the applying side, caught up with the checks, waits before looking again. */
const CHECK_POLL_MS = 100;

/**
 * A stored block closes at about this size: big enough that a million-line feed is a few hundred
 * rows, small enough that checking holds little of it in memory at once.
 */
const BLOCK_BYTES = 1024 * 1024;

/** A JSON feed's items are turned into lines this many at a time. */
const JSON_ITEMS_PER_PUSH = 1000;

/** The errors a batch answer lists; `rejected` has the full count. */
const MAX_LISTED_ERRORS = 1000;

/** The actor the blocking rule acts as when a feed makes an indicator worth a task. */
const RULE_ACTOR = { type: 'system', id: null, name: 'indicator-rule' } as const;

export class PayloadTooLargeError extends AppError {
  constructor(limit: string) {
    super('payload_too_large', 413, `The feed is larger than the configured limit of ${limit}.`);
  }
}

/** Counts the bytes of a request body and stops it past the limit, without holding any of it. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number, private readonly label: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return cb(new PayloadTooLargeError(this.label));
    cb(null, chunk);
  }
}

type ResultRecorder = Pick<TaskResultsService, 'record'>;

export class FeedsService {
  private readonly limitBytes: number;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: TaskEngine,
    private readonly results: ResultRecorder,
    private readonly queue: FeedQueue,
  ) {
    this.limitBytes = parseByteLimit(ctx.config.feedBodyLimit);
  }

  get bodyLimitBytes(): number {
    return this.limitBytes;
  }

  private submitter(actor: Actor): BatchActor {
    if (!isPartnerSide(actor) || !actor.institutionId) throw new ForbiddenError('Feeds come from a partner institution.');
    return { type: actor.type, id: actor.id, name: actor.name, role: actor.role, institutionId: actor.institutionId };
  }

  /**
   * A JSON feed: the body is already parsed (within the feed limit); its items are stored one per
   * line. `contentType` records what was submitted (a STIX bundle, MISP event or X-ARF report
   * arrives here as the items it was turned into).
   */
  async submitItems(actor: Actor, items: unknown[], contentType = 'application/json'): Promise<FeedBatch> {
    const store = await FeedStore.open(this.ctx.db, this.submitter(actor), contentType);
    const blocks = this.lineBlocks();
    try {
      for (let i = 0; i < items.length; i += JSON_ITEMS_PER_PUSH) {
        const lines = items.slice(i, i + JSON_ITEMS_PER_PUSH).map((item) => `${JSON.stringify(item)}\n`).join('');
        for (const block of blocks.push(Buffer.from(lines))) await store.write(block);
      }
      return await this.finishStore(store, blocks);
    } catch (err) {
      await store.abort();
      throw err;
    }
  }

  /**
   * An NDJSON feed, stored as it arrives in blocks of whole lines: memory stays flat whatever the
   * size, and PostgreSQL's pace sets the reading pace. Blank lines are skipped; indexes count
   * items. Each line is parsed and checked by the feeds worker.
   */
  async submitStream(actor: Actor, body: Readable, declaredLength?: number): Promise<FeedBatch> {
    const who = this.submitter(actor);
    if (declaredLength !== undefined && declaredLength > this.limitBytes) {
      body.resume();
      throw new PayloadTooLargeError(this.ctx.config.feedBodyLimit);
    }
    const store = await FeedStore.open(this.ctx.db, who, 'application/x-ndjson').catch((err: unknown) => {
      body.resume();
      throw err;
    });
    const limiter = new ByteLimit(this.limitBytes, this.ctx.config.feedBodyLimit);
    // The reading below rethrows the limiter's failure; this keeps it from counting as unhandled.
    limiter.on('error', () => undefined);
    // The request itself is piped, not pipelined: on a failure it must stay open for the answer.
    body.on('error', (err) => limiter.destroy(err));
    body.pipe(limiter);
    const blocks = this.lineBlocks();
    try {
      for await (const chunk of limiter as AsyncIterable<Buffer>) {
        for (const block of blocks.push(chunk)) await store.write(block);
      }
      return await this.finishStore(store, blocks);
    } catch (err) {
      body.unpipe(limiter);
      body.resume();
      await store.abort();
      throw err;
    }
  }

  private lineBlocks(): LineBlocks {
    return new LineBlocks(BLOCK_BYTES, this.ctx.config.feedSegmentSize);
  }

  private async finishStore(store: FeedStore, blocks: LineBlocks): Promise<FeedBatch> {
    const last = blocks.end();
    if (last) await store.write(last);
    const batch = await store.commit(blocks.received);
    this.ctx.logger.info({ batchId: batch.id, institutionId: batch.institutionId, received: batch.received }, 'feed stored');
    if (batch.status === 'processing') await this.queue.enqueue(batch.id);
    return batch;
  }

  async get(actor: Actor, batchId: string): Promise<FeedBatchOut> {
    const batch = await findVisibleBatch(this.ctx.db, batchId, scopeOf(actor));
    if (!batch) throw new NotFoundError('No such feed batch.');
    const errors = batch.rejected > 0 ? await batchErrors(this.ctx.db, batchId, MAX_LISTED_ERRORS) : [];
    return {
      batchId: batch.id,
      status: batch.status,
      received: batch.received,
      processed: batch.processed,
      accepted: batch.accepted,
      duplicates: batch.duplicates,
      rejected: batch.rejected,
      errors,
      errorsTruncated: batch.rejected > errors.length,
      createdAt: batch.createdAt.toISOString(),
      completedAt: batch.completedAt ? batch.completedAt.toISOString() : null,
    };
  }

  /**
   * Works through a stored batch and returns once it is done. Checking (parse, schema, normalized
   * value, duplicates) runs ahead of applying, which works the checked items in index order and
   * waits for the checks when it catches up with them. Safe to run twice at once or again after a
   * crash: each check and each step starts from its cursor (and each lane from its own, under a
   * lock per lane), and moves it in the transaction of its effects, so each item takes effect once.
   */
  async processBatch(batchId: string): Promise<'done' | 'missing'> {
    const checking = this.checkAll(batchId);
    // A failure of the checks is met where applying waits on them; this keeps it from counting
    // as unhandled meanwhile.
    checking.catch(() => undefined);
    try {
      return await this.applyChecked(batchId, checking);
    } finally {
      await checking.catch(() => undefined);
    }
  }

  /**
   * Checks the batch's stored items a segment (FEED_SEGMENT_SIZE items, in whole blocks) at a time
   * until all are checked. The next segment is read and checked while the last one is put in place:
   * the first is work for this process, the second for PostgreSQL. Resolves once every item is
   * checked (or the batch is gone).
   */
  private async checkAll(batchId: string): Promise<void> {
    const start = await checkProgress(this.ctx.db, batchId);
    if (!start) return;
    let after = start.checkCursor;
    let next = this.checkSegmentAhead(batchId, after);
    try {
      for (;;) {
        const segment = await next;
        if (!segment) {
          // Nothing stored after `after`: done, unless another runner moved on meanwhile.
          const now = await checkProgress(this.ctx.db, batchId);
          if (!now || now.checkCursor >= now.received - 1) return;
          if (now.checkCursor === after) throw new Error(`feed batch ${batchId} has no stored items after ${after} of ${now.received}`);
          after = now.checkCursor;
        } else {
          after = segment.upto;
          next = this.checkSegmentAhead(batchId, after);
          const outcome = await commitChecked(this.ctx.db, batchId, segment);
          if (outcome.committed) continue;
          // Another runner of this batch put it in place first: go on from where it got.
          await next.catch(() => undefined);
          if (outcome.cursor === undefined) return;
          after = outcome.cursor;
        }
        next = this.checkSegmentAhead(batchId, after);
      }
    } finally {
      // Nothing of this batch's checking runs on after it stops.
      await next.catch(() => undefined);
    }
  }

  /** checkSegment started ahead of its use: a failure meanwhile is met where it is awaited. */
  private checkSegmentAhead(batchId: string, after: number): Promise<CheckedSegment | undefined> {
    const segment = this.checkSegment(batchId, after);
    segment.catch(() => undefined);
    return segment;
  }

  /** Reads and checks the items after `after` (undefined when there are none), touching nothing. */
  private async checkSegment(batchId: string, after: number): Promise<CheckedSegment | undefined> {
    const blocks = await readBlocks(this.ctx.db, batchId, after, this.ctx.config.feedSegmentSize);
    if (blocks.length === 0) return undefined;
    const rules = { region: this.ctx.config.defaultRegion as CountryCode, limits: this.ctx.config.inputLimits };
    const rows = new CheckedRows();
    for (const block of blocks) {
      const lines = itemLines(block.body);
      if (lines.length !== block.itemCount) throw new Error(`feed block ${batchId}/${block.firstIdx} holds ${lines.length} items, not ${block.itemCount}`);
      for (let i = 0; i < lines.length; i++) {
        rows.add(stageLine(block.firstIdx + i, lines[i]!, rules));
        // The checks are pure computing; a turn of the event loop now and then lets the rest of
        // the process (the lanes applying this very batch) get their answers.
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const last = blocks[blocks.length - 1]!;
    return rows.segment(after, last.firstIdx + last.itemCount - 1);
  }

  /** Applies the checked items in index order until the batch is done. */
  private async applyChecked(batchId: string, checking: Promise<void>): Promise<'done' | 'missing'> {
    const chunk = this.ctx.config.feedChunkSize;
    for (;;) {
      const step = await this.ctx.db.transaction(async (trx) => {
        const batch = await lockBatch(trx, batchId);
        if (!batch) return { kind: 'missing' as const };
        if (batch.status === 'done') return { kind: 'done' as const };
        const next = await nextStep(trx, batchId, batch.cursor, chunk * LANES);
        if (next.kind === 'none') {
          if (batch.checkCursor < batch.received - 1) return { kind: 'wait' as const };
          await markBatchDone(trx, batchId);
          return { kind: 'done' as const };
        }
        if (next.kind === 'task_result') return { kind: 'task_result' as const, batch, idx: next.idx };
        // A run of indicator items, up to the next task result.
        return { kind: 'indicators' as const, batch, upto: next.upto };
      });
      if (step.kind === 'missing') return 'missing';
      if (step.kind === 'done') return 'done';
      if (step.kind === 'wait') {
        // Caught up with the checks: wait for their next segment; their failure is the job's.
        await Promise.race([checking, new Promise((resolve) => setTimeout(resolve, CHECK_POLL_MS))]);
        continue;
      }
      if (step.kind === 'indicators') await this.processRun(step.batch, step.upto);
      else await this.processTaskResult(step.batch, step.idx);
    }
  }

  /**
   * Works a run of indicator items (cursor, upto] in LANES transactions at once. Each lane owns
   * the indicators whose (kind, value) hashes to it, so no two lanes touch the same indicator (or
   * decide on a blocking task for it), and each counts its own items as it commits with its own
   * cursor. The batch cursor moves past the run only once every lane is through it; a lane that
   * already got through (an earlier run that failed halfway) is not worked again.
   */
  private async processRun(batch: FeedBatch, upto: number): Promise<void> {
    // While the batch is still being checked the checks take a core: the run goes as one lane.
    // The batch row is locked only at the end, so a check's commit never waits out a whole run.
    if (batch.checkCursor < batch.received - 1) {
      const done = await this.ctx.db.transaction(async (trx) => {
        const after = await enterAllLanes(trx, batch.id);
        if (after === null) return undefined;
        if (after >= upto) return [];
        await tuneProcessing(trx);
        const { facts, items } = await applyIndicatorItems(trx, batch, after, upto, { lane: 0, lanes: 1 }, this.ctx.config.blockingRule);
        const created = await this.engine.blockSighted(trx, RULE_ACTOR, facts);
        await advanceBatch(trx, batch.id, { cursor: upto, accepted: items, rejected: 0 });
        return created;
      });
      if (done) {
        await this.engine.afterCommit(done);
        return;
      }
    }
    const lanes = Array.from({ length: LANES }, (_, lane) => this.processLane(batch, lane, upto));
    const settled = await Promise.allSettled(lanes);
    const created = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    await this.engine.afterCommit(created);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.ctx.db.transaction((trx) => advanceCursor(trx, batch.id, upto));
  }

  private async processLane(batch: FeedBatch, lane: number, upto: number): Promise<Task[]> {
    return this.ctx.db.transaction(async (trx) => {
      const after = await enterLane(trx, batch.id, lane);
      if (after >= upto) return [];
      await tuneProcessing(trx);
      const { facts, items } = await applyIndicatorItems(trx, batch, after, upto, { lane, lanes: LANES }, this.ctx.config.blockingRule);
      const created = await this.engine.blockSighted(trx, RULE_ACTOR, facts);
      await advanceLane(trx, batch.id, lane, upto, items);
      return created;
    });
  }

  /**
   * The same use case as POST /tasks/:id/result, acting as the submitter. What the use case refuses
   * (another institution's task, a closed task, a result that breaks the rules) is a rejected item;
   * anything else (the database is down) fails the job, which retries from this item.
   */
  private async processTaskResult(batch: FeedBatch, idx: number): Promise<void> {
    // Two runners of one batch (a retried job beside a stalled one) apply the item one after the
    // other; the second finds the cursor past it. The use case itself runs on its own connection.
    await this.ctx.db.transaction(async (outer) => {
      const cursor = await enterResultItem(outer, batch.id);
      if (cursor === undefined || cursor >= idx) return;
      const { externalId, error } = await this.applyTaskResult(batch, idx);
      const current = await lockBatch(outer, batch.id);
      if (!current || current.cursor >= idx) return;
      if (error) await insertItemErrors(outer, batch.id, [{ idx, externalId, ...error }]);
      await advanceBatch(outer, batch.id, { cursor: idx, accepted: error ? 0 : 1, rejected: error ? 1 : 0 });
    });
  }

  /** The item's result through the same use case as POST /tasks/:id/result; what it refuses is the item's error. */
  private async applyTaskResult(
    batch: FeedBatch, idx: number,
  ): Promise<{ externalId: string | null; error?: { code: string; message: string } }> {
    const item = await findTaskResultItem(this.ctx.db, batch.id, idx);
    if (!item) return { externalId: null };
    const { externalId } = item;
    const body = TaskResultBody.safeParse(item.body);
    if (!body.success) {
      return { externalId, error: { code: 'validation_failed', message: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
    }
    const retry = await markAttempt(this.ctx.db, batch.id, idx);
    try {
      await this.results.record({ ...batch.actor }, item.taskId, body.data, 'feed');
      return { externalId };
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // A crash after the result committed but before the cursor moved: the retry finds its own result.
      const retried = retry && err instanceof ConflictError && err.code === 'task_closed'
        && (await resultCameFromFeed(this.ctx.db, item.taskId, batch.actor.id, batch.createdAt));
      if (retried) return { externalId };
      const details = err.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
      return { externalId, error: { code: err.code, message: details ? `${err.message} ${details}` : err.message } };
    }
  }

  /** Re-enqueues batches left processing without a live job (Redis was down, a job was lost). */
  async sweep(): Promise<number> {
    const ids = await staleBatchIds(this.ctx.db, this.ctx.config.workers.reconcileMinAgeMs);
    let enqueued = 0;
    for (const id of ids) {
      if ((await this.queue.ensureEnqueued(id)) === 'enqueued') enqueued++;
    }
    if (enqueued > 0) this.ctx.logger.info({ enqueued }, 'feed batches re-enqueued');
    return enqueued;
  }
}
