import { v5 as uuidv5 } from 'uuid';
import type { IndicatorKind, IndicatorStatus } from '../domain/kinds';
import { INDICATOR_KINDS } from '../domain/kinds';
import { ValidationError } from '../errors';
import type { FeedDocumentItem } from './feed-documents';
import { isObject, text as str, unusable } from './feed-documents';
import type { ExportedIndicator } from './stix';

// MISP out (one event, one attribute per indicator) and in (an event as a feed). MISP has no type
// for an SMS sender, a payment platform account or a chat account, so AFRC writes each kind as the
// closest type of MISP's list and tags it `afrc:kind="…"`; the tag restores the kind on the way
// back in, and a MISP instance that ignores it still sees a sensible type.

/** The namespace of AFRC's name-based MISP uuids: an attribute keeps its uuid from one export to the next. */
const MISP_NAMESPACE = '0b7c4e2a-91d6-4a38-8f0e-3d6a2c5b9e14';

type MispType = { type: string; category: string };

/** Kind → MISP attribute type and category (MISP's category/type table). */
export const MISP_TYPES: Record<IndicatorKind, MispType> = {
  phone: { type: 'phone-number', category: 'Financial fraud' },
  // An SMS sender is a number or a short code the carrier delivers from.
  sms_sender: { type: 'phone-number', category: 'Financial fraud' },
  url: { type: 'url', category: 'Network activity' },
  domain: { type: 'domain', category: 'Network activity' },
  bank_account: { type: 'bank-account-nr', category: 'Financial fraud' },
  // An account at a non-bank payment institution: MISP's bank-account object has a
  // non-banking-institution flag for exactly these.
  payment_account: { type: 'bank-account-nr', category: 'Financial fraud' },
  // A chat account (WeChat, QQ, Telegram…): MISP's only chat type is jabber-id, so it is text in Social network.
  im_account: { type: 'text', category: 'Social network' },
};

/** MISP types read as an AFRC kind when no afrc:kind tag says otherwise. */
const KIND_OF_TYPE: Record<string, IndicatorKind> = {
  'phone-number': 'phone',
  prtn: 'phone',
  'whois-registrant-phone': 'phone',
  url: 'url',
  domain: 'domain',
  hostname: 'domain',
  'bank-account-nr': 'bank_account',
  'jabber-id': 'im_account',
};

const KIND_TAG = /^afrc:kind="([a-z_]+)"$/;

export const mispAttributeUuid = (kind: IndicatorKind, value: string): string => uuidv5(`${kind}:${value}`, MISP_NAMESPACE);

const unixSeconds = (iso: string): string => String(Math.floor(Date.parse(iso) / 1000));

export type MispExportFilters = { status?: IndicatorStatus; since?: string };

/** The event's head: its uuid is the same for the same center and filters, so a MISP instance updates it rather than piling up copies. */
export function mispEventHead(centerName: string, filters: MispExportFilters, now: Date): Record<string, unknown> {
  const scope = `${centerName}|${filters.status ?? 'all'}|${filters.since ?? ''}`;
  const status = filters.status ? ` (${filters.status})` : '';
  return {
    uuid: uuidv5(`event:${scope}`, MISP_NAMESPACE),
    info: `${centerName}: fraud indicators${status}${filters.since ? ` seen since ${filters.since}` : ''}`,
    date: now.toISOString().slice(0, 10),
    timestamp: unixSeconds(now.toISOString()),
    published: false,
    analysis: '2',
    threat_level_id: '2',
    distribution: '0',
    Orgc: { name: centerName, uuid: uuidv5(`org:${centerName}`, MISP_NAMESPACE) },
    Tag: [{ name: 'tlp:amber' }],
  };
}

export function mispAttribute(indicator: ExportedIndicator): Record<string, unknown> {
  const { type, category } = MISP_TYPES[indicator.kind];
  const status = indicator.status ?? 'suspected';
  return {
    uuid: mispAttributeUuid(indicator.kind, indicator.value),
    type,
    category,
    value: indicator.value,
    to_ids: status !== 'suspected',
    timestamp: unixSeconds(indicator.lastSeenAt),
    first_seen: indicator.firstSeenAt,
    last_seen: indicator.lastSeenAt,
    comment: `AFRC ${indicator.kind}, ${status}`,
    Tag: [{ name: `afrc:kind="${indicator.kind}"` }, { name: `afrc:status="${status}"` }],
  };
}

// ---- in: an event as a feed --------------------------------------------------------------------


/** MISP times: unix seconds (as text or a number), or ISO 8601. */
function mispTime(v: unknown): string | undefined {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d{9,11}$/.test(v))) return new Date(Number(v) * 1000).toISOString();
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return undefined;
}

function kindOf(attribute: Record<string, unknown>): IndicatorKind | undefined {
  const tags = Array.isArray(attribute.Tag) ? attribute.Tag : [];
  for (const tag of tags) {
    const m = isObject(tag) && typeof tag.name === 'string' ? KIND_TAG.exec(tag.name) : null;
    if (m && (INDICATOR_KINDS as readonly string[]).includes(m[1]!)) return m[1] as IndicatorKind;
  }
  return typeof attribute.type === 'string' ? KIND_OF_TYPE[attribute.type] : undefined;
}

/**
 * A MISP event's attributes as feed items, in order: the event's own attributes, then those of its
 * objects. An attribute of a type AFRC knows (or tagged afrc:kind) becomes a fraud_indicator;
 * every other attribute is an unusable item (code unsupported_attribute_type), and a deleted one is
 * unusable as deleted. The event may come as { "Event": { … } } or bare. A body that is not an
 * event is refused whole.
 */
export function mispEventItems(body: unknown, receivedAt: string): FeedDocumentItem[] {
  if (!isObject(body)) throw new ValidationError([{ path: '', message: 'a MISP event is a JSON object' }]);
  const wrapped = body.Event !== undefined;
  const event = wrapped ? body.Event : body;
  const at = wrapped ? 'Event' : '';
  if (!isObject(event)) throw new ValidationError([{ path: 'Event', message: 'must be a MISP event object' }]);
  const join = (field: string) => (at ? `${at}.${field}` : field);
  for (const field of ['Attribute', 'Object'] as const) {
    if (event[field] !== undefined && !Array.isArray(event[field])) throw new ValidationError([{ path: join(field), message: 'must be an array' }]);
  }
  const attributes = (event.Attribute ?? []) as unknown[];
  const objects = (event.Object ?? []) as unknown[];
  if (attributes.length === 0 && objects.length === 0 && str(event.info) === undefined && str(event.uuid) === undefined) {
    throw new ValidationError([{ path: join('Attribute'), message: 'a MISP event has attributes, objects, an info or a uuid' }]);
  }
  const eventUuid = str(event.uuid) ?? 'event';
  const eventTime = mispTime(event.timestamp) ?? mispTime(event.date) ?? receivedAt;
  const info = str(event.info);

  const items: FeedDocumentItem[] = [];
  const take = (attribute: unknown, fallbackId: string, where: string) => {
    if (!isObject(attribute)) {
      items.push(unusable(fallbackId, 'validation_failed', `${where} is not a MISP attribute`));
      return;
    }
    const externalId = (str(attribute.uuid) ?? fallbackId).slice(0, 200);
    const type = str(attribute.type) ?? '(none)';
    if (attribute.deleted === true) {
      items.push(unusable(externalId, 'deleted', 'the attribute is deleted'));
      return;
    }
    const kind = kindOf(attribute);
    const value = typeof attribute.value === 'string' ? attribute.value : typeof attribute.value === 'number' ? String(attribute.value) : undefined;
    if (!kind) {
      items.push(unusable(externalId, 'unsupported_attribute_type', `MISP type ${type} is not a kind AFRC knows (${Object.keys(KIND_OF_TYPE).join(', ')}, or an afrc:kind tag)`));
      return;
    }
    if (value === undefined || value.trim() === '') {
      items.push(unusable(externalId, 'validation_failed', `${where}.value is required`));
      return;
    }
    const comment = str(attribute.comment);
    items.push({
      type: 'fraud_indicator',
      externalId,
      indicator: { kind, value },
      confidence: 'suspected',
      observedAt: mispTime(attribute.last_seen) ?? mispTime(attribute.timestamp) ?? eventTime,
      ...(comment || info ? { note: `MISP ${[info, comment].filter(Boolean).join(': ')}`.slice(0, 4000) } : {}),
    });
  };
  attributes.forEach((a, i) => take(a, `${eventUuid}:attribute:${i}`, join(`Attribute.${i}`)));
  objects.forEach((o, i) => {
    const where = join(`Object.${i}`);
    if (!isObject(o) || (o.Attribute !== undefined && !Array.isArray(o.Attribute))) {
      items.push(unusable(isObject(o) ? str(o.uuid) ?? `${eventUuid}:object:${i}` : `${eventUuid}:object:${i}`, 'validation_failed', `${where} is not a MISP object`));
      return;
    }
    const inner = (o.Attribute ?? []) as unknown[];
    if (inner.length === 0) {
      items.push(unusable(str(o.uuid) ?? `${eventUuid}:object:${i}`, 'unsupported_object', `${where} has no attributes`));
      return;
    }
    inner.forEach((a, j) => take(a, `${eventUuid}:object:${i}:attribute:${j}`, `${where}.Attribute.${j}`));
  });
  return items;
}
