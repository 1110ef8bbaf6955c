import type { IndicatorKind } from './kinds';

/** Sends a normalized value of `indicatorKind` that starts with `prefix` to `institutionId`. */
export type Route = { institutionId: string; indicatorKind: IndicatorKind; prefix: string };

export type Router = (kind: IndicatorKind, normalizedValue: string) => string | null;

type Match = { institutionId: string; length: number };

type KindTable = {
  byPrefix: Map<string, string>;
  /** Distinct prefix lengths, longest first: a lookup costs one map probe per length, not per route. */
  lengths: number[];
};

function buildTable(routes: Route[]): KindTable {
  const byPrefix = new Map<string, string>();
  for (const r of routes) {
    const current = byPrefix.get(r.prefix);
    // Two institutions claiming the same prefix is a configuration slip; resolving it by id keeps
    // every process (and every retry) routing the same task to the same place.
    if (current === undefined || r.institutionId < current) byPrefix.set(r.prefix, r.institutionId);
  }
  const lengths = [...new Set([...byPrefix.keys()].map((p) => p.length))].sort((a, b) => b - a);
  return { byPrefix, lengths };
}

function longest(table: KindTable, value: string): Match | null {
  for (const length of table.lengths) {
    if (length > value.length) continue;
    const institutionId = table.byPrefix.get(value.slice(0, length));
    if (institutionId !== undefined) return { institutionId, length };
  }
  return null;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

function better(a: Match | null, b: Match | null): Match | null {
  if (!a) return b;
  if (!b) return a;
  if (a.length !== b.length) return a.length > b.length ? a : b;
  return a.institutionId <= b.institutionId ? a : b;
}

export function buildRouter(routes: Route[]): Router {
  const grouped = new Map<IndicatorKind, Route[]>();
  for (const r of routes) {
    const list = grouped.get(r.indicatorKind);
    if (list) list.push(r);
    else grouped.set(r.indicatorKind, [r]);
  }
  const tables = new Map<IndicatorKind, KindTable>();
  for (const [kind, list] of grouped) tables.set(kind, buildTable(list));

  return (kind, normalizedValue) => {
    const table = tables.get(kind);
    if (!table) return null;
    let match = longest(table, normalizedValue);
    if (kind === 'url') {
      // A platform thinks of its URLs by site ("example.com"), not by "https://example.com/…",
      // and a normalized URL starts with a scheme that would hide the host from a plain prefix.
      // So a url route matches either the whole normalized URL or its host alone, and the longer
      // match wins: "https://example.com/shop" can still beat "example.com".
      const host = hostOf(normalizedValue);
      if (host !== null) match = better(match, longest(table, host));
    }
    return match ? match.institutionId : null;
  };
}

/**
 * Where a transfer's interception goes: the bank the victim named, when we know that bank;
 * otherwise the bank_account routes (a typo'd or retired institution id must not drop the task).
 */
export function routeTransfer(
  router: Router,
  normalizedAccount: string,
  toInstitutionId: string | null | undefined,
  knownInstitutionIds: ReadonlySet<string>,
): string | null {
  if (toInstitutionId && knownInstitutionIds.has(toInstitutionId)) return toInstitutionId;
  return router('bank_account', normalizedAccount);
}
