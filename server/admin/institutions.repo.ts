import type { DbOrTrx } from '../db';
import type { IndicatorKind, InstitutionKind, Integration } from '../domain/kinds';
import type { Route } from '../domain/routing';

export type Institution = {
  id: string;
  name: string;
  kind: InstitutionKind;
  integration: Integration;
  active: boolean;
  webhookUrl: string | null;
};

/** Includes the webhook secret: only for the worker that signs deliveries, never for an HTTP answer. */
export type InstitutionWithSecret = Institution & { webhookSecret: string | null };

type InstitutionRow = {
  id: string; name: string; kind: InstitutionKind; integration: Integration; active: boolean;
  webhook_url: string | null; webhook_secret: string | null;
};

const toInstitution = (r: InstitutionRow): Institution => ({
  id: r.id, name: r.name, kind: r.kind, integration: r.integration, active: r.active, webhookUrl: r.webhook_url,
});

export async function listInstitutions(db: DbOrTrx, opts: { activeOnly?: boolean } = {}): Promise<Institution[]> {
  const q = db<InstitutionRow>('institutions').orderBy('id');
  if (opts.activeOnly) q.where({ active: true });
  return (await q).map(toInstitution);
}

export async function findInstitution(db: DbOrTrx, id: string): Promise<Institution | undefined> {
  const row = await db<InstitutionRow>('institutions').where({ id }).first();
  return row && toInstitution(row);
}

export async function findInstitutionWithSecret(db: DbOrTrx, id: string): Promise<InstitutionWithSecret | undefined> {
  const row = await db<InstitutionRow>('institutions').where({ id }).first();
  return row && { ...toInstitution(row), webhookSecret: row.webhook_secret };
}

/** Routes of active institutions only: a deactivated institution receives no new work. */
export async function loadRoutes(db: DbOrTrx): Promise<Route[]> {
  const rows: { institution_id: string; indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes as r')
    .join('institutions as i', 'i.id', 'r.institution_id')
    .where('i.active', true)
    .select('r.institution_id', 'r.indicator_kind', 'r.prefix');
  return rows.map((r) => ({ institutionId: r.institution_id, indicatorKind: r.indicator_kind, prefix: r.prefix }));
}

export async function routesOf(db: DbOrTrx, institutionId: string): Promise<{ indicatorKind: IndicatorKind; prefix: string }[]> {
  const rows: { indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes')
    .where({ institution_id: institutionId })
    .orderBy(['indicator_kind', 'prefix']);
  return rows.map((r) => ({ indicatorKind: r.indicator_kind, prefix: r.prefix }));
}

export async function activeInstitutionIds(db: DbOrTrx): Promise<Set<string>> {
  const rows: { id: string }[] = await db('institutions').where({ active: true }).select('id');
  return new Set(rows.map((r) => r.id));
}
