import { readFileSync } from 'node:fs';
import path from 'node:path';
import { corpusFiles, corpusPath, readCorpusJson } from '../helpers/corpora';
import { errorPath, schemaSet } from '../helpers/json-schemas';
import { validateXarf, xarfReportItems } from '../../server/standards/xarf';
import { ValidationError } from '../../server/errors';

// AFRC checks X-ARF v4 reports with zod (no npm package ships the schemas). These tests hold it to
// the official X-ARF v4 schemas in ../shared/corpora/xarf/xarf-spec: both accept every sample,
// and both refuse each sample without one of its required fields, at the same path.

const SCHEMAS = corpusPath('xarf/xarf-spec/schemas/v4');
const { ajv } = schemaSet(SCHEMAS);
const official = ajv.getSchema('https://xarf.org/schemas/v4/xarf-v4-master.json')!;

type Schema = { required?: string[]; allOf?: Schema[]; $ref?: string; if?: { properties?: Record<string, { const?: unknown }> }; then?: Schema; $defs?: Record<string, Schema> };
const schemaFile = (name: string): Schema => JSON.parse(readFileSync(path.join(SCHEMAS, name), 'utf8'));
const core = schemaFile('xarf-core.json');

const samples = corpusFiles('xarf/xarf-spec/samples/v4', (n) => n.endsWith('.json')).map((file) => ({
  name: path.basename(file),
  report: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>,
}));
const TAKEN = new Set(['content/fraud', 'content/phishing', 'messaging/spam', 'messaging/bulk_messaging']);
const kindOf = (r: Record<string, unknown>) => `${r.category}/${r.type}`;

/** The fields a type schema requires of this report: its own, its base's, and those its if/then adds. */
function typeRequired(file: string, report: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (schema: Schema) => {
    out.push(...(schema.required ?? []));
    const when = schema.if?.properties;
    if (when && schema.then && Object.entries(when).every(([k, v]) => report[k] === v.const)) out.push(...(schema.then.required ?? []));
    for (const part of schema.allOf ?? []) {
      if (part.$ref && !part.$ref.includes('xarf-core')) walk(schemaFile(path.join('types', path.basename(part.$ref))));
      else walk(part);
    }
  };
  walk(schemaFile(file));
  return out;
}

/** Every required field of a report as a dotted path: the core's, the contacts', the first evidence item's, and its type's when AFRC takes the type. */
function requiredPaths(report: Record<string, unknown>): string[] {
  const paths = [...core.required!];
  for (const party of ['reporter', 'sender']) paths.push(...core.$defs!.contact_info!.required!.map((f) => `${party}.${f}`));
  if (Array.isArray(report.evidence) && report.evidence.length > 0) paths.push(...core.$defs!.evidence_item!.required!.map((f) => `evidence.0.${f}`));
  if (TAKEN.has(kindOf(report))) {
    const file = `types/${String(report.category)}-${String(report.type).replace(/_/g, '-')}.json`;
    paths.push(...typeRequired(file, report));
  }
  return [...new Set(paths)];
}

function without(report: Record<string, unknown>, dotted: string): Record<string, unknown> {
  const copy = structuredClone(report);
  const keys = dotted.split('.');
  let node: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  delete node[keys[keys.length - 1]!];
  return copy;
}

function oursRefuses(report: unknown): string[] {
  try {
    validateXarf(report);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.details.map((d) => d.path);
  }
}

const officialRefuses = (report: unknown): string[] => (official(report) ? [] : (official.errors ?? []).map(errorPath));

it('the corpus holds the X-ARF v4 samples of every type AFRC takes', () => {
  expect(samples.length).toBeGreaterThanOrEqual(32);
  for (const kind of TAKEN) expect(samples.map((s) => kindOf(s.report))).toContain(kind);
});

describe.each(samples)('$name', ({ report }) => {
  it('is accepted by the official schema and by AFRC', () => {
    expect(officialRefuses(report)).toEqual([]);
    expect(oursRefuses(report)).toEqual([]);
    if (TAKEN.has(kindOf(report))) {
      expect(xarfReportItems(report).length).toBeGreaterThan(0);
    }
  });

  it('without any one required field, is refused by both at that field\'s path', () => {
    const paths = requiredPaths(report);
    expect(paths).toEqual(expect.arrayContaining(['xarf_version', 'report_id', 'reporter.contact', 'category']));
    for (const field of paths) {
      const broken = without(report, field);
      expect({ field, official: officialRefuses(broken).includes(field) }).toEqual({ field, official: true });
      expect({ field, ours: oursRefuses(broken) }).toEqual({ field, ours: expect.arrayContaining([field]) });
    }
  });
});

it('a value the schema forbids is refused by both at its path: a contact that is not an email, a fraud type off the list, an unknown type', () => {
  const fraud = readCorpusJson<Record<string, unknown>>('xarf/xarf-spec/samples/v4/content-fraud.json');
  const cases: [Record<string, unknown>, string][] = [
    [{ ...fraud, reporter: { ...(fraud.reporter as object), contact: 'not an address' } }, 'reporter.contact'],
    [{ ...fraud, fraud_type: 'pyramid' }, 'fraud_type'],
    [{ ...fraud, xarf_version: '3.0.0' }, 'xarf_version'],
    [{ ...fraud, tags: ['No Namespace'] }, 'tags.0'],
  ];
  for (const [report, field] of cases) {
    expect({ field, official: officialRefuses(report).includes(field) }).toEqual({ field, official: true });
    expect({ field, ours: oursRefuses(report) }).toEqual({ field, ours: expect.arrayContaining([field]) });
  }
  const unknownType = { ...fraud, type: 'pyramid_scheme' };
  expect(officialRefuses(unknownType).length).toBeGreaterThan(0);
  expect(oursRefuses(unknownType)).toEqual(['type']);
});

it('the unmerged messaging/phishing proposal (X-ARF PR #13) is refused by the v4 schema, and so by AFRC, at its type', () => {
  const proposal = readCorpusJson('xarf/xarf-spec/pr13-unmerged/samples/v4/messaging-phishing.json');
  expect(officialRefuses(proposal).length).toBeGreaterThan(0);
  expect(oursRefuses(proposal)).toEqual(['type']);
});

describe('what a report names becomes feed items', () => {
  it('a fraud report names its URL, domain and source; its crypto wallet is an unusable item, not a silent drop', () => {
    const fraud = readCorpusJson<Record<string, unknown>>('xarf/xarf-spec/samples/v4/content-fraud.json');
    const withWallet = { ...fraud, cryptocurrency_addresses: [{ currency: 'bitcoin', address: '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa' }] };
    const items = xarfReportItems(withWallet);
    expect(items.filter((i) => i.type === 'fraud_indicator').map((i) => i.type === 'fraud_indicator' && [i.indicator.kind, i.indicator.value])).toEqual([
      ['url', 'https://crypto-scam-invest.example.com/guaranteed-returns'],
      ['domain', 'crypto-scam-invest.example.com'],
    ]);
    expect(items.filter((i) => i.type === 'unusable_object')).toEqual([
      expect.objectContaining({ code: 'unsupported_kind', externalId: `${String(fraud.report_id)}:cryptocurrency_addresses.0` }),
    ]);
  });

  it('a phishing report names its URL and where credentials go, never the legitimate site it clones', () => {
    const phishing = readCorpusJson<Record<string, unknown>>('xarf/xarf-spec/samples/v4/content-phishing.json');
    const items = xarfReportItems({ ...phishing, submission_url: 'https://collect.example.net/post', cloned_site: 'https://www.bank.example' });
    const values = items.map((i) => (i.type === 'fraud_indicator' ? i.indicator.value : null));
    expect(values).toEqual(['http://secure-banking-login.example.com/auth', 'https://collect.example.net/post']);
  });

  it('an SMS spam report names its sender and links; an e-mail spam report from an address names nothing usable, said as such', () => {
    const spam = readCorpusJson<Record<string, unknown>>('xarf/xarf-spec/samples/v4/messaging-spam.json');
    const sms = { ...spam, protocol: 'sms', source_identifier: '+86 171 0000 5678', spam_indicators: { suspicious_links: ['http://refund-now.example/claim'] } };
    delete (sms as Record<string, unknown>).smtp_from;
    const items = xarfReportItems(sms);
    expect(items.map((i) => i.type === 'fraud_indicator' && [i.indicator.kind, i.indicator.value])).toEqual([
      ['sms_sender', '+86 171 0000 5678'],
      ['url', 'http://refund-now.example/claim'],
    ]);
    expect(xarfReportItems(spam)).toEqual([expect.objectContaining({ type: 'unusable_object', code: 'no_indicator' })]);
  });

  it('a report of a category AFRC does not take is one unusable item', () => {
    const ddos = readCorpusJson('xarf/xarf-spec/samples/v4/connection-ddos.json');
    expect(xarfReportItems(ddos)).toEqual([expect.objectContaining({ type: 'unusable_object', code: 'unsupported_category' })]);
  });
});
