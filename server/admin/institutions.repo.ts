import type { DbOrTrx } from '../db';
import type { IndicatorKind, InstitutionKind, Integration, MessageFormat } from '../domain/kinds';
import type { Route } from '../domain/routing';

export type Institution = {
  id: string;
  name: string;
  kind: InstitutionKind;
  integration: Integration;
  messageFormat: MessageFormat;
  active: boolean;
  webhookUrl: string | null;
};

/** Includes the webhook secret: only for the worker that signs deliveries, never for an HTTP answer. */
export type InstitutionWithSecret = Institution & { webhookSecret: string | null };

export type InstitutionRow = {
  id: string; name: string; kind: InstitutionKind; integration: Integration; active: boolean;
  webhook_url: string | null; webhook_secret: string | null;
  /** Absent only in rows read before the column existed (a running worker across a migration). */
  message_format?: MessageFormat;
};

const toInstitution = (r: InstitutionRow): Institution => ({
  id: r.id, name: r.name, kind: r.kind, integration: r.integration, messageFormat: r.message_format ?? 'json', active: r.active, webhookUrl: r.webhook_url,
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

export const toInstitutionWithSecret = (r: InstitutionRow): InstitutionWithSecret => ({ ...toInstitution(r), webhookSecret: r.webhook_secret });

export async function findInstitutionWithSecret(db: DbOrTrx, id: string): Promise<InstitutionWithSecret | undefined> {
  const row = await db<InstitutionRow>('institutions').where({ id }).first();
  return row && toInstitutionWithSecret(row);
}

/**
 * Routes of active partner institutions only: a deactivated institution receives no new work, and
 * the police center has no worker and no liaisons, so nothing may be routed to it.
 */
export async function loadRoutes(db: DbOrTrx): Promise<Route[]> {
  const rows: { institution_id: string; indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes as r')
    .join('institutions as i', 'i.id', 'r.institution_id')
    .where('i.active', true)
    .whereNot('i.kind', 'police')
    .select('r.institution_id', 'r.indicator_kind', 'r.prefix');
  return rows.map((r) => ({ institutionId: r.institution_id, indicatorKind: r.indicator_kind, prefix: r.prefix }));
}

export async function routesOf(db: DbOrTrx, institutionId: string): Promise<{ indicatorKind: IndicatorKind; prefix: string }[]> {
  const rows: { indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes')
    .where({ institution_id: institutionId })
    .orderBy(['indicator_kind', 'prefix']);
  return rows.map((r) => ({ indicatorKind: r.indicator_kind, prefix: r.prefix }));
}

/** Every institution's routes in one query, keyed by institution, in the order routesOf gives them. */
export async function routesByInstitution(db: DbOrTrx): Promise<Map<string, RouteSpec[]>> {
  const rows: { institution_id: string; indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes')
    .orderBy(['institution_id', 'indicator_kind', 'prefix']);
  const out = new Map<string, RouteSpec[]>();
  for (const r of rows) {
    const list = out.get(r.institution_id) ?? [];
    if (!out.has(r.institution_id)) out.set(r.institution_id, list);
    list.push({ indicatorKind: r.indicator_kind, prefix: r.prefix });
  }
  return out;
}

/** Locks the institution row for the rest of the transaction. */
export async function lockInstitution(
  db: DbOrTrx, id: string,
): Promise<{ integration: Integration; webhookUrl: string | null; webhookSecret: string | null } | undefined> {
  const row: { integration: Integration; webhook_url: string | null; webhook_secret: string | null } | undefined =
    await db('institutions').where({ id }).forUpdate().first('integration', 'webhook_url', 'webhook_secret');
  return row && { integration: row.integration, webhookUrl: row.webhook_url, webhookSecret: row.webhook_secret };
}

/** Bumped by a trigger on any change to institutions or their routes. */
export async function readRoutingVersion(db: DbOrTrx): Promise<number> {
  const row: { version: number } | undefined = await db('routing_version').first('version');
  return row?.version ?? 0;
}

/** The institutions a task may be sent to: active partners (banks, carriers, platforms). */
export async function activePartnerIds(db: DbOrTrx): Promise<Set<string>> {
  const rows: { id: string }[] = await db('institutions').where({ active: true }).whereNot('kind', 'police').select('id');
  return new Set(rows.map((r) => r.id));
}

export type RouteSpec = { indicatorKind: IndicatorKind; prefix: string };

export async function insertInstitution(
  db: DbOrTrx,
  inst: Omit<InstitutionWithSecret, 'active' | 'messageFormat'> & { active?: boolean; messageFormat?: MessageFormat },
): Promise<void> {
  await db('institutions').insert({
    id: inst.id,
    name: inst.name,
    kind: inst.kind,
    integration: inst.integration,
    message_format: inst.messageFormat ?? 'json',
    webhook_url: inst.webhookUrl,
    webhook_secret: inst.webhookSecret,
    active: inst.active ?? true,
  });
}

export async function updateInstitution(
  db: DbOrTrx,
  id: string,
  patch: { name?: string; active?: boolean; integration?: Integration; webhookUrl?: string | null; webhookSecret?: string | null; messageFormat?: MessageFormat },
): Promise<void> {
  const row: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.name !== undefined) row.name = patch.name;
  if (patch.integration !== undefined) row.integration = patch.integration;
  if (patch.messageFormat !== undefined) row.message_format = patch.messageFormat;
  if (patch.active !== undefined) row.active = patch.active;
  if (patch.webhookUrl !== undefined) row.webhook_url = patch.webhookUrl;
  if (patch.webhookSecret !== undefined) row.webhook_secret = patch.webhookSecret;
  await db('institutions').where({ id }).update(row);
}

export async function replaceRoutes(db: DbOrTrx, institutionId: string, routes: RouteSpec[]): Promise<void> {
  await db('institution_routes').where({ institution_id: institutionId }).delete();
  if (routes.length) {
    await db('institution_routes').insert(
      routes.map((r) => ({ institution_id: institutionId, indicator_kind: r.indicatorKind, prefix: r.prefix })),
    );
  }
}

/** Routes among `routes` that another institution already holds (a (kind, prefix) pair routes to one place). */
export async function routesHeldElsewhere(
  db: DbOrTrx,
  institutionId: string,
  routes: RouteSpec[],
): Promise<(RouteSpec & { institutionId: string })[]> {
  if (routes.length === 0) return [];
  const rows: { institution_id: string; indicator_kind: IndicatorKind; prefix: string }[] = await db('institution_routes')
    .whereNot('institution_id', institutionId)
    .whereIn(['indicator_kind', 'prefix'], routes.map((r) => [r.indicatorKind, r.prefix]))
    .select('institution_id', 'indicator_kind', 'prefix');
  return rows.map((r) => ({ institutionId: r.institution_id, indicatorKind: r.indicator_kind, prefix: r.prefix }));
}

/** Idempotent upsert for seeding: same id → same row, routes pointed at this institution. */
export async function upsertInstitution(
  db: DbOrTrx,
  inst: Omit<InstitutionWithSecret, 'active' | 'messageFormat'> & { active?: boolean; messageFormat?: MessageFormat },
  routes: RouteSpec[],
): Promise<void> {
  await db('institutions')
    .insert({
      id: inst.id, name: inst.name, kind: inst.kind, integration: inst.integration,
      webhook_url: inst.webhookUrl, webhook_secret: inst.webhookSecret, active: inst.active ?? true,
    })
    .onConflict('id')
    .merge(['name', 'kind', 'integration', 'webhook_url', 'webhook_secret', 'active']);
  if (routes.length) {
    await db('institution_routes')
      .insert(routes.map((r) => ({ institution_id: inst.id, indicator_kind: r.indicatorKind, prefix: r.prefix })))
      .onConflict(['indicator_kind', 'prefix'])
      .merge(['institution_id']);
  }
}
