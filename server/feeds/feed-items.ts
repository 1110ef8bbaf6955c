import type { CountryCode } from 'libphonenumber-js';
import type { ZodError } from 'zod';
import { normalizeIndicator } from '../domain/normalize';
import { aheadOfClock } from '../domain/dates';
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from '../domain/json-depth';
import type { Config } from '../config';
import { FeedItem, UnusableObjectItem } from './feeds.schemas';
import type { StagedItem } from './feeds.repo';

const KNOWN_TYPES = new Set(['fraud_indicator', 'task_result']);

function reject(idx: number, externalId: string | null, code: string, message: string): StagedItem {
  return { idx, externalId, type: null, errorCode: code, errorMessage: message.replace(/\u0000/g, '').slice(0, 1000) };
}

function describe(err: ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** What an item is checked against: the default phone region and the input limits of the config. */
export type ItemRules = { region: CountryCode; limits: Config['inputLimits'] };

/**
 * Checks and normalizes one submitted item (already JSON-parsed, or `undefined` with a parse
 * error). An unusable value is a rejected item the partner reads in the batch's errors, and the
 * rest of processing only ever sees clean rows.
 */
export function stageItem(idx: number, input: unknown, rules: ItemRules, parseError?: string): StagedItem {
  if (parseError !== undefined) return reject(idx, null, 'malformed_json', parseError);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return reject(idx, null, 'validation_failed', 'An item is a JSON object.');
  }
  const obj = input as Record<string, unknown>;
  const externalId = typeof obj.externalId === 'string' ? obj.externalId.replace(/\u0000/g, '').trim().slice(0, 200) || null : null;
  if (obj.type === 'unusable_object') {
    // Written on intake for what a STIX, MISP or X-ARF document carried that AFRC cannot use.
    const unusable = UnusableObjectItem.safeParse(input);
    if (!unusable.success) return reject(idx, externalId, 'validation_failed', describe(unusable.error));
    return reject(idx, unusable.data.externalId, unusable.data.code, unusable.data.message);
  }
  if (typeof obj.type !== 'string' || !KNOWN_TYPES.has(obj.type)) {
    return reject(idx, externalId, 'unknown_type', `Unknown item type ${JSON.stringify(obj.type ?? null)}; expected fraud_indicator or task_result.`);
  }
  const parsed = FeedItem.safeParse(input);
  if (!parsed.success) return reject(idx, externalId, 'validation_failed', describe(parsed.error));
  const item = parsed.data;
  if (item.type === 'fraud_indicator') {
    if (hasNul(item.externalId) || hasNul(item.indicator.value) || (item.note !== undefined && hasNul(item.note))) {
      return reject(idx, externalId, 'validation_failed', 'Text may not contain NUL characters.');
    }
    const [future] = aheadOfClock('observedAt', item.observedAt, rules.limits.maxClockSkewMs);
    if (future) return reject(idx, item.externalId, 'validation_failed', `${future.path}: ${future.message}`);
    const normalized = normalizeIndicator(item.indicator.kind, item.indicator.value, rules.region);
    if (!normalized.ok) return reject(idx, item.externalId, 'validation_failed', `indicator.value: ${normalized.message}`);
    return {
      idx,
      externalId: item.externalId,
      type: 'fraud_indicator',
      kind: item.indicator.kind,
      value: normalized.value,
      confidence: item.confidence,
      observedAt: item.observedAt,
      note: item.note ?? null,
    };
  }
  const { type: _type, externalId: _ext, taskId, ...rest } = item;
  const body = JSON.stringify(rest);
  if (hasNul(item.externalId) || body.includes('\\u0000')) {
    return reject(idx, externalId, 'validation_failed', 'Text may not contain NUL characters.');
  }
  return { idx, externalId: item.externalId, type: 'task_result', taskId, body };
}

/** A feed's items stored as they arrived: whole lines, byte for byte, numbered from `firstIdx`. */
export type FeedBlock = { firstIdx: number; itemCount: number; body: Buffer };

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Cuts a feed's bytes into blocks of whole lines as they arrive, counting items without decoding
 * or parsing them: a line holding nothing but JSON whitespace is blank and is not an item (the
 * same rule as `itemLines`). A block closes after the line that takes it to `maxBytes` or to
 * `maxItems`; only a line longer than that makes a block bigger.
 */
export class LineBlocks {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private items = 0;
  private lineHasContent = false;
  private nextIdx = 0;

  constructor(private readonly maxBytes: number, private readonly maxItems: number) {}

  /** Items counted so far, in blocks handed out. */
  get received(): number {
    return this.nextIdx;
  }

  push(chunk: Buffer): FeedBlock[] {
    const out: FeedBlock[] = [];
    let start = 0;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.lineHasContent) {
        for (let i = pos; i < end; i++) {
          const b = chunk[i];
          if (b !== SPACE && b !== TAB && b !== CR) {
            this.lineHasContent = true;
            break;
          }
        }
      }
      if (nl === -1) break;
      if (this.lineHasContent) this.items++;
      this.lineHasContent = false;
      pos = nl + 1;
      if (this.items >= this.maxItems || this.bytes + (pos - start) >= this.maxBytes) {
        this.chunks.push(chunk.subarray(start, pos));
        const block = this.cut();
        if (block) out.push(block);
        start = pos;
      }
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.bytes += chunk.length - start;
    }
    return out;
  }

  /** The last block: what is left, a final line without a newline included. */
  end(): FeedBlock | undefined {
    if (this.lineHasContent) this.items++;
    this.lineHasContent = false;
    return this.cut();
  }

  private cut(): FeedBlock | undefined {
    const block = this.items === 0 ? undefined : { firstIdx: this.nextIdx, itemCount: this.items, body: Buffer.concat(this.chunks) };
    this.nextIdx += this.items;
    this.chunks = [];
    this.bytes = 0;
    this.items = 0;
    return block;
  }
}

const NOT_BLANK = /[^ \t\r]/;

/** A stored block's items, in order: its lines less the blank ones (see LineBlocks). */
export function itemLines(body: Buffer): string[] {
  return body.toString('utf8').split('\n').filter((line) => NOT_BLANK.test(line));
}

/** One line of a feed, parsed and checked (see stageItem). */
export function stageLine(idx: number, line: string, rules: ItemRules): StagedItem {
  if (nestsDeeperThan(line)) return stageItem(idx, undefined, rules, TOO_DEEP_MESSAGE);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return stageItem(idx, undefined, rules, 'The line is not valid JSON.');
  }
  return stageItem(idx, value, rules);
}

/** PostgreSQL text cannot hold NUL; such an item is refused rather than failing the whole COPY. */
function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

/** "50mb" → bytes, as body-parser reads its limits (powers of 1024). */
export function parseByteLimit(limit: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new RangeError(`"${limit}" is not a size such as 50mb`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit as 'b' | 'kb' | 'mb' | 'gb'];
  return Math.floor(Number(m[1]) * factor);
}
