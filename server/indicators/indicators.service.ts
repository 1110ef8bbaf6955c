import type { CountryCode } from 'libphonenumber-js';
import type { ServiceContext } from '../context';
import { normalizeIndicator } from '../domain/normalize';
import type { IndicatorKind } from '../domain/kinds';
import { NotFoundError } from '../errors';
import type { Page } from '../http/pagination';
import {
  findIndicator, listIndicators, lookupIndicators, reportsCiting, sightingsOf, tasksAgainst, type IndicatorFilters,
} from './indicators.repo';
import type { IndicatorDetail, IndicatorOut, LookupResult } from './indicators.schemas';

export class IndicatorsService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Payment screening: normalizes every value, then one query for the whole batch. A value that
   * cannot be normalized is answered (not flagged, valid: false) rather than failing the batch:
   * one odd entry must not block a partner's screening of the other 999.
   */
  async lookup(items: { kind: IndicatorKind; value: string }[]): Promise<LookupResult[]> {
    const region = this.ctx.config.defaultRegion as CountryCode;
    const normalized = items.map((i) => ({ kind: i.kind, n: normalizeIndicator(i.kind, i.value, region), raw: i.value }));
    const valid = normalized.flatMap((x) => (x.n.ok ? [{ kind: x.kind, value: x.n.value }] : []));
    const hits = await lookupIndicators(this.ctx.db, valid);
    let next = 0;
    return normalized.map((x) => {
      if (!x.n.ok) {
        return { kind: x.kind, value: x.raw.trim(), flagged: false, status: null, reportCount: 0, lastSeenAt: null, valid: false };
      }
      const hit = hits[next++]!;
      return {
        kind: x.kind,
        value: x.n.value,
        flagged: hit.status !== null || hit.reportCount > 0,
        status: hit.status,
        reportCount: hit.reportCount,
        lastSeenAt: hit.lastSeenAt ? hit.lastSeenAt.toISOString() : null,
        valid: true,
      };
    });
  }

  list(filters: IndicatorFilters): Promise<Page<IndicatorOut>> {
    return listIndicators(this.ctx.db, filters);
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
