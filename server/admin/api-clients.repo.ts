import type { DbOrTrx } from '../db';

export type ApiClient = {
  id: string;
  clientId: string;
  institutionId: string;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
};

type ApiClientRow = {
  id: string; client_id: string; secret_hash: string; institution_id: string; name: string;
  created_at: Date; revoked_at: Date | null;
};

const toApiClient = (r: ApiClientRow): ApiClient => ({
  id: r.id, clientId: r.client_id, institutionId: r.institution_id, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at,
});

export async function insertApiClient(
  db: DbOrTrx,
  c: { clientId: string; secretHash: string; institutionId: string; name: string },
): Promise<ApiClient> {
  const [row] = await db<ApiClientRow>('api_clients')
    .insert({ client_id: c.clientId, secret_hash: c.secretHash, institution_id: c.institutionId, name: c.name })
    .returning('*');
  return toApiClient(row as ApiClientRow);
}

export async function findApiClientByClientId(db: DbOrTrx, clientId: string): Promise<(ApiClient & { secretHash: string }) | undefined> {
  const row = await db<ApiClientRow>('api_clients').where({ client_id: clientId }).first();
  return row && { ...toApiClient(row), secretHash: row.secret_hash };
}

/** A client that can act: not revoked, and its institution active (a client speaks for its institution). */
export async function findUsableApiClient(db: DbOrTrx, where: { clientId: string } | { id: string }): Promise<(ApiClient & { secretHash: string }) | undefined> {
  const row: ApiClientRow | undefined = await db('api_clients as c')
    .join('institutions as i', 'i.id', 'c.institution_id')
    .where('clientId' in where ? { 'c.client_id': where.clientId } : { 'c.id': where.id })
    .where('i.active', true)
    .whereNull('c.revoked_at')
    .first('c.*');
  return row && { ...toApiClient(row), secretHash: row.secret_hash };
}

/** Of these clients, the ones not revoked whose institution is active. */
export async function usableClientIds(db: DbOrTrx, ids: readonly string[]): Promise<Set<string>> {
  const rows: { id: string }[] = await db('api_clients as c')
    .join('institutions as i', 'i.id', 'c.institution_id')
    .whereIn('c.id', [...ids])
    .where('i.active', true)
    .whereNull('c.revoked_at')
    .select('c.id');
  return new Set(rows.map((r) => r.id));
}

/** Marks a client revoked once; a second revoke keeps the first timestamp. */
export async function revokeApiClient(db: DbOrTrx, id: string): Promise<ApiClient | undefined> {
  await db('api_clients').where({ id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  const row = await db<ApiClientRow>('api_clients').where({ id }).first();
  return row && toApiClient(row);
}

/** Ordered by (created_at, id); the cursor is that pair from the last row. */
export async function listApiClients(
  db: DbOrTrx,
  opts: { limit: number; after?: [string, string]; institutionId?: string },
): Promise<(ApiClient & { sortKey: string })[]> {
  // The cursor carries created_at as PostgreSQL's own text: a JS Date would drop the microseconds
  // and the next page would repeat the last row.
  const q = db('api_clients')
    .select('*', db.raw('created_at::text as sort_key'))
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .limit(opts.limit);
  if (opts.institutionId) q.where({ institution_id: opts.institutionId });
  if (opts.after) q.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', opts.after);
  const rows: (ApiClientRow & { sort_key: string })[] = await q;
  return rows.map((r) => ({ ...toApiClient(r), sortKey: r.sort_key }));
}

/** Idempotent upsert for seeding: same client id → same row with the given secret hash. */
export async function upsertApiClient(
  db: DbOrTrx,
  c: { clientId: string; secretHash: string; institutionId: string; name: string },
): Promise<void> {
  await db('api_clients')
    .insert({ client_id: c.clientId, secret_hash: c.secretHash, institution_id: c.institutionId, name: c.name })
    .onConflict('client_id')
    .merge(['secret_hash', 'institution_id', 'name']);
  await db('api_clients').where({ client_id: c.clientId }).update({ revoked_at: null });
}
