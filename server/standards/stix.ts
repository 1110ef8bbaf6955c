import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';
import type { IndicatorKind, IndicatorStatus } from '../domain/kinds';
import { ValidationError } from '../errors';
import type { FeedDocumentItem } from './feed-documents';
import { isObject, text as str, unusable } from './feed-documents';

// STIX 2.1 out (an indicator export the OASIS schemas accept) and in (a bundle as a feed). The
// pattern of each AFRC indicator is one equality comparison; kinds STIX has no cyber-observable
// for are written as custom observable types of AFRC's own (x-afrc-…), read back the same way.

/** The namespace of AFRC's name-based (version 5) STIX ids: an indicator value keeps its id from one export to the next. */
const STIX_NAMESPACE = '5f0b8a7e-3c41-4f7e-9a52-5e1c3b7d2a90';

/** Object paths per kind; `url` and `domain-name` are STIX's own, the rest AFRC's custom observables. */
const OBJECT_PATHS: Record<IndicatorKind, string> = {
  url: 'url:value',
  domain: 'domain-name:value',
  phone: 'x-afrc-phone:value',
  sms_sender: 'x-afrc-sms-sender:value',
  bank_account: 'x-afrc-bank-account:value',
  payment_account: 'x-afrc-payment-account:value',
  im_account: 'x-afrc-im-account:value',
};
const KIND_OF_PATH = new Map(Object.entries(OBJECT_PATHS).map(([kind, path]) => [path, kind as IndicatorKind]));

/**
 * STIX confidence (0–100) on the None/Low/Med/High scale of the STIX 2.1 appendix: AFRC's
 * confirmed and blocked are High (85), suspected is Med (50). Read back, High (70 and above) is
 * confirmed and anything lower suspected.
 */
const CONFIDENCE: Record<IndicatorStatus, number> = { blocked: 85, confirmed: 85, suspected: 50 };
const CONFIRMED_FROM = 70;

/** When the center's identity object was first written: fixed, so the identity is the same object in every export. */
const IDENTITY_CREATED = '2026-01-01T00:00:00.000Z';

export type ExportedIndicator = {
  kind: IndicatorKind;
  value: string;
  status: IndicatorStatus | null;
  firstSeenAt: string;
  lastSeenAt: string;
};

export const stixIndicatorId = (kind: IndicatorKind, value: string): string => `indicator--${uuidv5(`${kind}:${value}`, STIX_NAMESPACE)}`;

export const stixIdentityId = (centerName: string): string => `identity--${uuidv5(`identity:${centerName}`, STIX_NAMESPACE)}`;

export const newBundleId = (): string => `bundle--${uuidv4()}`;

/** A STIX string literal: quoted with ', with \ and ' escaped. */
const literal = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function stixPattern(kind: IndicatorKind, value: string): string {
  return `[${OBJECT_PATHS[kind]} = ${literal(value)}]`;
}

export function stixIdentity(centerName: string): Record<string, unknown> {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: stixIdentityId(centerName),
    created: IDENTITY_CREATED,
    modified: IDENTITY_CREATED,
    name: centerName,
    identity_class: 'organization',
    sectors: ['government-public-services'],
  };
}

export function stixIndicator(indicator: ExportedIndicator, centerName: string): Record<string, unknown> {
  const status = indicator.status ?? 'suspected';
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: stixIndicatorId(indicator.kind, indicator.value),
    created_by_ref: stixIdentityId(centerName),
    created: indicator.firstSeenAt,
    modified: indicator.lastSeenAt > indicator.firstSeenAt ? indicator.lastSeenAt : indicator.firstSeenAt,
    name: `${indicator.kind} ${indicator.value}`,
    indicator_types: ['malicious-activity'],
    pattern: stixPattern(indicator.kind, indicator.value),
    pattern_type: 'stix',
    valid_from: indicator.firstSeenAt,
    confidence: CONFIDENCE[status],
    labels: [`afrc-kind:${indicator.kind}`, `afrc-status:${status}`],
  };
}

// ---- in: a bundle as a feed ------------------------------------------------------------------

/** `[object-type:property = 'literal']` and nothing else: one equality comparison. */
const SIMPLE_EQUALITY = /^\s*\[\s*([a-z0-9-]+:[a-z0-9_.-]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]\s*$/;

/** The (path, value) of a simple equality pattern, or undefined for anything richer. */
export function simpleEquality(pattern: string): { path: string; value: string } | undefined {
  const m = SIMPLE_EQUALITY.exec(pattern);
  if (!m) return undefined;
  return { path: m[1]!, value: m[2]!.replace(/\\(.)/g, '$1') };
}


/** A STIX timestamp as AFRC writes times (UTC, milliseconds); undefined if it is not one. */
function isoTime(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/**
 * A STIX 2.1 bundle's objects as feed items, one per object, in order: an indicator whose pattern
 * is a single equality on an object path AFRC knows becomes a fraud_indicator; every other object
 * (identities, relationships, malware, indicators with richer patterns or other pattern
 * languages, revoked indicators) is an unusable item with a code saying why. A body that is not a
 * bundle is refused whole.
 */
export function stixBundleItems(bundle: unknown, receivedAt: string): FeedDocumentItem[] {
  if (!isObject(bundle)) throw new ValidationError([{ path: '', message: 'a STIX 2.1 bundle is a JSON object' }]);
  if (bundle.type !== 'bundle') throw new ValidationError([{ path: 'type', message: 'must be "bundle"' }]);
  if (!Array.isArray(bundle.objects)) throw new ValidationError([{ path: 'objects', message: 'must be an array of STIX objects' }]);

  return bundle.objects.map((object: unknown, i): FeedDocumentItem => {
    if (!isObject(object)) return unusable(null, 'validation_failed', `objects.${i} is not a STIX object`);
    const id = str(object.id)?.slice(0, 200) ?? null;
    const type = str(object.type);
    if (!type || !id) return unusable(id, 'validation_failed', `objects.${i} has no type or id`);
    if (type !== 'indicator') {
      return unusable(id, 'unsupported_object', `a STIX ${type} carries no indicator AFRC can use; only indicator objects become fraud indicators`);
    }
    if (object.revoked === true) return unusable(id, 'revoked', 'the indicator is revoked');
    if (object.pattern_type !== 'stix') {
      return unusable(id, 'unsupported_pattern', `pattern_type ${JSON.stringify(object.pattern_type ?? null)} is not taken; only STIX patterns are`);
    }
    const pattern = str(object.pattern);
    const comparison = pattern ? simpleEquality(pattern) : undefined;
    if (!comparison) {
      return unusable(id, 'unsupported_pattern', 'only a single equality comparison ([type:property = \'value\']) names one value AFRC can act on');
    }
    const kind = KIND_OF_PATH.get(comparison.path);
    if (!kind) {
      return unusable(id, 'unsupported_pattern', `${comparison.path} is not a kind AFRC knows (${[...KIND_OF_PATH.keys()].join(', ')})`);
    }
    const confidence = typeof object.confidence === 'number' && object.confidence >= CONFIRMED_FROM ? 'confirmed' : 'suspected';
    const name = str(object.name);
    return {
      type: 'fraud_indicator',
      externalId: id,
      indicator: { kind, value: comparison.value },
      confidence,
      observedAt: isoTime(object.valid_from) ?? isoTime(object.modified) ?? isoTime(object.created) ?? receivedAt,
      ...(name ? { note: `STIX ${name}`.slice(0, 4000) } : {}),
    };
  });
}
