import type { DbOrTrx } from '../db';
import type { Role } from '../domain/kinds';

export type User = {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  institutionId: string | null;
  active: boolean;
  createdAt: Date;
};

type UserRow = {
  id: string; username: string; password_hash: string; display_name: string; role: Role;
  institution_id: string | null; active: boolean; created_at: Date; token_generation: number;
};

const toUser = (r: UserRow): User => ({
  id: r.id, username: r.username, displayName: r.display_name, role: r.role,
  institutionId: r.institution_id, active: r.active, createdAt: r.created_at,
});

export async function findUser(db: DbOrTrx, id: string): Promise<User | undefined> {
  const row = await db<UserRow>('users').where({ id }).first();
  return row && toUser(row);
}

/** Usernames are unique regardless of case (the users_username_unique index is on lower(username)). */
export async function findUserByUsername(db: DbOrTrx, username: string): Promise<(User & { passwordHash: string; tokenGeneration: number }) | undefined> {
  const row = await db<UserRow>('users').whereRaw('lower(username) = lower(?)', [username]).first();
  return row && { ...toUser(row), passwordHash: row.password_hash, tokenGeneration: row.token_generation };
}

/** Active, and so is the institution the user belongs to (if any): what a token stays valid on. */
export async function isUserActive(db: DbOrTrx, id: string): Promise<boolean> {
  const row = await db('users as u')
    .leftJoin('institutions as i', 'i.id', 'u.institution_id')
    .where({ 'u.id': id, 'u.active': true })
    .where((q) => q.whereNull('u.institution_id').orWhere('i.active', true))
    .first('u.id');
  return Boolean(row);
}

/** What a token of the user acts as now: the user's role, institution and token generation. */
export type TokenStanding = { role: Role; institutionId: string | null; generation: number };

/**
 * Of these users, the ones that are active (and whose institution, if any, is active), with the
 * role, institution and token generation they have now.
 */
export async function standingOfUsers(db: DbOrTrx, ids: readonly string[]): Promise<Map<string, TokenStanding>> {
  const rows: { id: string; role: Role; institution_id: string | null; token_generation: number }[] = await db('users as u')
    .leftJoin('institutions as i', 'i.id', 'u.institution_id')
    .whereIn('u.id', [...ids])
    .where('u.active', true)
    .where((q) => q.whereNull('u.institution_id').orWhere('i.active', true))
    .select('u.id', 'u.role', 'u.institution_id', 'u.token_generation');
  return new Map(rows.map((r) => [r.id, { role: r.role, institutionId: r.institution_id, generation: r.token_generation }]));
}

/** Ends every token the user holds now (logout): the next check finds them a generation behind. */
export async function endUserTokens(db: DbOrTrx, id: string): Promise<void> {
  await db('users').where({ id }).increment('token_generation', 1);
}

export async function insertUser(
  db: DbOrTrx,
  u: { username: string; passwordHash: string; displayName: string; role: Role; institutionId: string | null },
): Promise<User> {
  const [row] = await db<UserRow>('users')
    .insert({
      username: u.username,
      password_hash: u.passwordHash,
      display_name: u.displayName,
      role: u.role,
      institution_id: u.institutionId,
    })
    .returning('*');
  return toUser(row as UserRow);
}

export async function updateUser(
  db: DbOrTrx,
  id: string,
  patch: { displayName?: string; passwordHash?: string; active?: boolean; role?: Role; institutionId?: string | null },
): Promise<User | undefined> {
  const row: Record<string, unknown> = {};
  if (patch.displayName !== undefined) row.display_name = patch.displayName;
  if (patch.passwordHash !== undefined) row.password_hash = patch.passwordHash;
  if (patch.active !== undefined) row.active = patch.active;
  if (patch.role !== undefined) row.role = patch.role;
  if (patch.institutionId !== undefined) row.institution_id = patch.institutionId;
  if (Object.keys(row).length === 0) return findUser(db, id);
  // A new password, role or institution, or a change of active, ends the tokens issued before it:
  // reactivating a user never revives a token issued before the deactivation.
  const endsTokens = ['password_hash', 'active', 'role', 'institution_id'].some((k) => k in row);
  if (endsTokens) row.token_generation = db.raw('token_generation + 1');
  const [updated] = await db<UserRow>('users').where({ id }).update(row).returning('*');
  return updated && toUser(updated as UserRow);
}

/** Ordered by (lower(username), id); the cursor is that pair from the last row. */
export async function listUsers(db: DbOrTrx, opts: { limit: number; after?: [string, string] }): Promise<(User & { sortKey: string })[]> {
  const q = db('users').select('*', db.raw('lower(username) as sort_key')).orderByRaw('lower(username), id').limit(opts.limit);
  if (opts.after) q.whereRaw('(lower(username), id) > (?, ?::uuid)', opts.after);
  const rows: (UserRow & { sort_key: string })[] = await q;
  return rows.map((r) => ({ ...toUser(r), sortKey: r.sort_key }));
}
