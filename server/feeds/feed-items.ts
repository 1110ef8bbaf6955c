import type { CountryCode } from 'libphonenumber-js';
import type { ZodError } from 'zod';
import { normalizeIndicator } from '../domain/normalize';
import { FeedItem } from './feeds.schemas';
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

/**
 * Checks and normalizes one submitted item (already JSON-parsed, or `undefined` with a parse
 * error). The value is normalized here, at submission, so an unusable value is a rejected item
 * the partner hears about, and the processor only ever sees clean rows.
 */
export function stageItem(idx: number, input: unknown, region: CountryCode, parseError?: string): StagedItem {
  if (parseError !== undefined) return reject(idx, null, 'malformed_json', parseError);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return reject(idx, null, 'validation_failed', 'An item is a JSON object.');
  }
  const obj = input as Record<string, unknown>;
  const externalId = typeof obj.externalId === 'string' ? obj.externalId.replace(/\u0000/g, '').trim().slice(0, 200) || null : null;
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
    const normalized = normalizeIndicator(item.indicator.kind, item.indicator.value, region);
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
