import { z } from 'zod';
import type { IndicatorKind } from '../domain/kinds';
import { ValidationError, type ErrorDetail } from '../errors';
import type { FeedDocumentItem } from './feed-documents';
import { unusable } from './feed-documents';

// X-ARF v4 abuse reports in, as feeds. No npm package ships the X-ARF v4 JSON schemas, so the
// parts of them AFRC relies on are written here in zod, each labelled with the official schema
// file it follows: the core (every field the core defines), the category/type pairs of the master
// schema, and the type schemas of the reports AFRC takes (content/fraud, content/phishing,
// messaging/spam, messaging/bulk_messaging), for the fields it reads and the fields they require.
// test/integration/xarf.test.ts checks against the official schemas that both accept every sample
// and both refuse each sample without a required field, at the same path.

const UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const URI = z.url();

const ContactInfo = z.strictObject({
  org: z.string().max(200),
  contact: z.email(),
  domain: z.hostname(),
});

const EvidenceItem = z.strictObject({
  content_type: z.string(),
  description: z.string().max(500).optional(),
  payload: z.string(),
  hash: z.string().regex(/^(md5|sha1|sha256|sha512):[a-fA-F0-9]+$/).optional(),
  size: z.number().int().min(0).max(5242880).optional(),
});

/** xarf-core.json */
const XarfCore = z.looseObject({
  xarf_version: z.string().regex(/^4\.[0-9]+\.[0-9]+$/, 'must be a 4.x.y version'),
  report_id: z.string().regex(UUID, 'must be a UUID'),
  timestamp: z.iso.datetime({ offset: true }),
  reporter: ContactInfo,
  sender: ContactInfo,
  source_identifier: z.string(),
  source_port: z.number().int().min(1).max(65535).optional(),
  category: z.enum(['messaging', 'content', 'copyright', 'connection', 'vulnerability', 'infrastructure', 'reputation']),
  type: z.string(),
  evidence_source: z.string().optional(),
  evidence: z.array(EvidenceItem).max(50).optional(),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9_+-]*:[a-z0-9][a-z0-9_+-]*$/, 'must be namespace:predicate')).max(20).optional(),
  confidence: z.number().min(0).max(1).optional(),
  description: z.string().max(1000).optional(),
  legacy_version: z.enum(['3']).optional(),
  _internal: z.record(z.string(), z.unknown()).optional(),
});
type XarfCore = z.infer<typeof XarfCore>;

/** The category/type pairs of xarf-v4-master.json. */
const TYPES_OF: Record<XarfCore['category'], readonly string[]> = {
  messaging: ['spam', 'bulk_messaging'],
  connection: ['login_attack', 'port_scan', 'ddos', 'infected_host', 'reconnaissance', 'scraping', 'sql_injection', 'vulnerability_scan'],
  vulnerability: ['cve', 'open_service', 'misconfiguration'],
  reputation: ['blocklist', 'threat_intelligence'],
  infrastructure: ['botnet', 'compromised_server'],
  content: ['phishing', 'malware', 'csam', 'csem', 'exposed_data', 'brand_infringement', 'fraud', 'remote_compromise', 'suspicious_registration'],
  copyright: ['copyright', 'p2p', 'cyberlocker', 'ugc_platform', 'link_site', 'usenet'],
};

/** types/content-base.json: what every content report carries. */
const ContentBase = z.looseObject({
  url: URI,
  domain: z.string().regex(/^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$/, 'must be a lower-case domain name').optional(),
});

const MESSAGING_PROTOCOLS = ['smtp', 'sms', 'whatsapp', 'telegram', 'signal', 'chat', 'social_media', 'push_notification', 'other'] as const;

/** types/messaging-*.json: SMTP reports name their envelope sender and source port. */
function smtpNeeds(report: { protocol: string; smtp_from?: string; source_port?: number }, ctx: z.RefinementCtx): void {
  if (report.protocol !== 'smtp') return;
  if (report.smtp_from === undefined) ctx.addIssue({ code: 'custom', path: ['smtp_from'], message: 'is required when protocol is smtp' });
  if (report.source_port === undefined) ctx.addIssue({ code: 'custom', path: ['source_port'], message: 'is required when protocol is smtp' });
}

/** The type schemas of the reports AFRC takes, by "category/type", with their official file. */
const TAKEN: Record<string, { file: string; schema: z.ZodType }> = {
  'content/fraud': {
    file: 'types/content-fraud.json',
    schema: ContentBase.extend({
      fraud_type: z.enum(['investment', 'romance', 'tech_support', 'lottery', 'advance_fee', 'cryptocurrency', 'shopping', 'charity', 'employment', 'government_impersonation', 'other']),
      cryptocurrency_addresses: z.array(z.looseObject({
        currency: z.enum(['bitcoin', 'ethereum', 'usdt', 'bnb', 'monero', 'other']),
        address: z.string(),
      })).optional(),
    }),
  },
  'content/phishing': {
    file: 'types/content-phishing.json',
    schema: ContentBase.extend({
      redirect_chain: z.array(URI).optional(),
      submission_url: URI.optional(),
      cloned_site: URI.optional(),
    }),
  },
  'messaging/spam': {
    file: 'types/messaging-spam.json',
    schema: z.looseObject({
      protocol: z.enum(MESSAGING_PROTOCOLS),
      smtp_from: z.email().optional(),
      smtp_to: z.email().optional(),
      source_port: z.number().optional(),
      spam_indicators: z.strictObject({
        suspicious_links: z.array(URI).optional(),
        commercial_content: z.boolean().optional(),
        bulk_characteristics: z.boolean().optional(),
      }).optional(),
    }).superRefine(smtpNeeds),
  },
  'messaging/bulk_messaging': {
    file: 'types/messaging-bulk-messaging.json',
    schema: z.looseObject({
      protocol: z.enum(MESSAGING_PROTOCOLS.filter((p) => p !== 'signal' && p !== 'chat') as [string, ...string[]]),
      smtp_from: z.email().optional(),
      source_port: z.number().optional(),
      recipient_count: z.number().int().min(100),
    }).superRefine(smtpNeeds),
  },
};

function issuesAt(error: z.ZodError, file: string): ErrorDetail[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: `${i.message} (X-ARF v4 ${file})` }));
}

function refuse(details: ErrorDetail[]): never {
  throw new ValidationError(details, 'The report does not pass the X-ARF v4 schema.');
}

export type XarfReport = XarfCore & Record<string, unknown>;

/** Checks a report against the X-ARF v4 schema (as above); a failure is a ValidationError at the report's dotted paths. */
export function validateXarf(body: unknown): { report: XarfReport; taken: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) refuse([{ path: '', message: 'an X-ARF report is a JSON object (X-ARF v4 xarf-core.json)' }]);
  const core = XarfCore.safeParse(body);
  if (!core.success) refuse(issuesAt(core.error, 'xarf-core.json'));
  const { category, type } = core.data;
  if (!TYPES_OF[category].includes(type)) {
    refuse([{ path: 'type', message: `${JSON.stringify(type)} is not a ${category} type; expected one of ${TYPES_OF[category].join(', ')} (X-ARF v4 xarf-v4-master.json)` }]);
  }
  const typeSchema = TAKEN[`${category}/${type}`];
  if (!typeSchema) return { report: core.data as XarfReport, taken: false };
  const typed = typeSchema.schema.safeParse(body);
  if (!typed.success) refuse(issuesAt(typed.error, typeSchema.file));
  return { report: core.data as XarfReport, taken: true };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const isHostname = (s: string): boolean => HOSTNAME.test(s) && !IPV4.test(s);

/** Messaging protocols whose source is an account on a chat or social platform. */
const IM_PROTOCOLS = new Set(['whatsapp', 'telegram', 'signal', 'chat', 'social_media', 'push_notification']);

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * An X-ARF v4 report as feed items, after validateXarf: content/fraud and content/phishing name a
 * URL (and its domain, redirect chain, credential submission URL); messaging names its source (an
 * SMS sender, a chat account, or a sending domain) and the links in the message. What a taken
 * report names that AFRC has no kind for (cryptocurrency addresses), a taken report that names
 * nothing usable, and a report of a category AFRC does not take each become an unusable item:
 * never a silent drop. The legitimate site a phishing page clones is not an indicator.
 */
export function xarfReportItems(body: unknown): FeedDocumentItem[] {
  const { report, taken } = validateXarf(body);
  const id = report.report_id;
  const kindLabel = `${report.category}/${report.type}`;
  if (!taken) {
    return [unusable(id, 'unsupported_category', `X-ARF ${kindLabel} reports are not taken; AFRC takes content/fraud, content/phishing and messaging reports`)];
  }
  const note = `X-ARF ${kindLabel} from ${report.reporter.org}`.slice(0, 4000);
  const items: FeedDocumentItem[] = [];
  const seen = new Set<string>();
  const add = (field: string, kind: IndicatorKind, value: string) => {
    const key = `${kind}\u0000${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push({ type: 'fraud_indicator', externalId: `${id}:${field}`.slice(0, 200), indicator: { kind, value }, confidence: 'suspected', observedAt: new Date(report.timestamp).toISOString(), note });
  };

  if (report.category === 'content') {
    add('url', 'url', report.url as string);
    if (typeof report.domain === 'string') add('domain', 'domain', report.domain);
    if (isHostname(report.source_identifier)) add('source_identifier', 'domain', report.source_identifier.toLowerCase());
    if (typeof report.submission_url === 'string') add('submission_url', 'url', report.submission_url);
    strings(report.redirect_chain).forEach((u, i) => add(`redirect_chain.${i}`, 'url', u));
    const wallets = Array.isArray(report.cryptocurrency_addresses) ? (report.cryptocurrency_addresses as { currency: string; address: string }[]) : [];
    wallets.forEach((w, i) => items.push(unusable(`${id}:cryptocurrency_addresses.${i}`, 'unsupported_kind', `a ${w.currency} address is not a kind AFRC knows`)));
  } else {
    const protocol = report.protocol as string;
    if (protocol === 'sms') add('source_identifier', 'sms_sender', report.source_identifier);
    else if (IM_PROTOCOLS.has(protocol)) add('source_identifier', 'im_account', report.source_identifier);
    else if (isHostname(report.source_identifier)) add('source_identifier', 'domain', report.source_identifier.toLowerCase());
    const indicators = report.spam_indicators as { suspicious_links?: string[] } | undefined;
    strings(indicators?.suspicious_links).forEach((u, i) => add(`spam_indicators.suspicious_links.${i}`, 'url', u));
  }
  if (!items.some((i) => i.type === 'fraud_indicator')) {
    items.push(unusable(id, 'no_indicator', `the ${kindLabel} report names no URL, domain, phone number, SMS sender or account AFRC can act on (its source is ${report.source_identifier})`));
  }
  return items;
}
