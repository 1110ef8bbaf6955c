import type { CountryCode } from 'libphonenumber-js';
import type { ServiceContext } from '../context';
import { LRUCache } from 'lru-cache';
import { normalizeIndicator, searchSpellings, type Normalized } from '../domain/normalize';
import type { IndicatorKind } from '../domain/kinds';
import { NotFoundError } from '../errors';
import type { Page } from '../http/pagination';
import {
  findIndicator, indicatorsForExport, listIndicators, lookupIndicators, reportsCiting, sightingsOf, tasksAgainst,
  type ExportedIndicatorRow, type ExportFilters, type IndicatorFilters,
} from './indicators.repo';
import type { IndicatorDetail, IndicatorOut, LookupResult } from './indicators.schemas';

/** Indicators an export reads per query: the answer streams page by page, never the whole table in memory. */
const EXPORT_PAGE = 2000;

export class IndicatorsService {
  private readonly spellings = new LRUCache<string, Normalized>({ max: 100_000 });

  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Payment screening: normalizes every value, then one query for the whole batch. A value that
   * cannot be normalized is answered (not flagged, valid: false) rather than failing the batch:
   * one odd entry must not block a partner's screening of the other 999.
   */
  async lookup(items: { kind: IndicatorKind; value: string }[]): Promise<LookupResult[]> {
    const normalized = items.map((i) => ({ kind: i.kind, n: this.normalized(i.kind, i.value), raw: i.value }));
    const valid = normalized.flatMap((x) => (x.n.ok ? [{ kind: x.kind, value: x.n.value }] : []));
    const hits = await lookupIndicators(this.ctx.readDb, valid);
    let next = 0;
    return normalized.map((x) => {
      if (!x.n.ok) {
        return { kind: x.kind, value: x.raw.trim(), flagged: false, status: null, reportCount: 0, lastSeenAt: null, valid: false };
      }
      const hit = hits[next++];
      return {
        kind: x.kind,
        value: x.n.value,
        flagged: hit !== undefined && (hit.status !== null || hit.reportCount > 0),
        status: hit?.status ?? null,
        reportCount: hit?.reportCount ?? 0,
        lastSeenAt: hit?.lastSeenAt ? hit.lastSeenAt.toISOString() : null,
        valid: true,
      };
    });
  }

  /**
   * Screening sees the same payees again and again (a mule account, a busy merchant): each spelling
   * is normalized once, then answered from memory.
   */
  private normalized(kind: IndicatorKind, raw: string): Normalized {
    const key = `${kind}\u0000${raw}`;
    let n = this.spellings.get(key);
    if (n === undefined) {
      n = normalizeIndicator(kind, raw, this.ctx.config.defaultRegion as CountryCode);
      this.spellings.set(key, n);
    }
    return n;
  }

  /** The indicators of a STIX or MISP export, a page at a time (see indicatorsForExport). */
  async *exportPages(filters: ExportFilters): AsyncGenerator<ExportedIndicatorRow[]> {
    let after: string | null = null;
    for (;;) {
      const page = await indicatorsForExport(this.ctx.db, filters, after, EXPORT_PAGE);
      if (page.length > 0) yield page;
      if (page.length < EXPORT_PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  /** `q` matches any part of a value, as typed or as the value it normalizes to ("139 0000 1234" finds +8613900001234). */
  list(filters: IndicatorFilters): Promise<Page<IndicatorOut>> {
    const qSpellings = filters.q
      ? searchSpellings(filters.q, this.ctx.config.defaultRegion as CountryCode, filters.kind ? [filters.kind] : undefined).map((s) => s.value)
      : undefined;
    return listIndicators(this.ctx.db, { ...filters, qSpellings });
  }

  /** One indicator with its sightings, the reports that cite it and the tasks against it. */
  async get(id: string): Promise<IndicatorDetail> {
    const db = this.ctx.db;
    const indicator = await findIndicator(db, id);
    if (!indicator) throw new NotFoundError('No such indicator.');
    const [sightings, reports, tasks] = await Promise.all([
      sightingsOf(db, id),
      reportsCiting(db, indicator),
      tasksAgainst(db, indicator),
    ]);
    return {
      ...indicator,
      reportCount: Math.max(indicator.reportCount, reports.length),
      institutionCount: sightings.institutions,
      sightingCount: sightings.count,
      sightings: sightings.sightings,
      reports,
      tasks,
    };
  }
}
