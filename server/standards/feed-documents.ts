import type { FraudIndicatorItem, UnusableObjectItem } from '../feeds/feeds.schemas';
import { MISP, STIX, XARF } from './media-types';
import { mispEventItems } from './misp';
import { stixBundleItems } from './stix';
import { xarfReportItems } from './xarf';

// A standard document submitted as a feed is turned into the house's own feed items on intake,
// before anything is stored: from there it is a feed like any other (stored as it is then, checked
// and applied by the feeds worker, idempotent per externalId, with the trust rule of the feeds
// path). What the document carries that AFRC cannot use is stored as an unusable item, which the
// worker records as rejected with its code: the batch accounts for every object.

export type FeedDocumentItem = FraudIndicatorItem | UnusableObjectItem;

/** A JSON object (not an array, not null), as documents are read field by field. */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A field's text when it has some. */
export const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

export function unusable(externalId: string | null, code: UnusableObjectItem['code'], message: string): UnusableObjectItem {
  return { type: 'unusable_object', externalId, code, message: message.slice(0, 1000) };
}

export type FeedDocumentType = typeof STIX | typeof MISP | typeof XARF;

/** The feed items of a parsed document; a document that is not one of its kind is a ValidationError. */
export function feedDocumentItems(type: FeedDocumentType, body: unknown, receivedAt = new Date().toISOString()): FeedDocumentItem[] {
  switch (type) {
    case STIX:
      return stixBundleItems(body, receivedAt);
    case MISP:
      return mispEventItems(body, receivedAt);
    case XARF:
      return xarfReportItems(body);
  }
}
