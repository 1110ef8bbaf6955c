// The media types of the standard documents AFRC exchanges (API.md, "Standards").

/** STIX 2.1: a bundle as a feed, and the indicator export (which adds `;version=2.1`). */
export const STIX = 'application/stix+json';
export const STIX_EXPORT = 'application/stix+json;version=2.1';
/** A MISP event as a feed. */
export const MISP = 'application/vnd.misp+json';
/** An X-ARF v4 abuse report as a feed. */
export const XARF = 'application/vnd.xarf+json';

/** Documents POST /feeds converts into feed items on intake. */
export const FEED_DOCUMENT_TYPES = [STIX, MISP, XARF] as const;
