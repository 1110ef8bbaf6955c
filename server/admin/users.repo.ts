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
  institution_id: string | null; active: boolean; created_at: Date;
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
export async function findUserByUsername(db: DbOrTrx, username: string): Promise<(User & { passwordHash: string }) | undefined> {
  const row = await db<UserRow>('users').whereRaw('lower(username) = lower(?)', [username]).first();
  return row && { ...toUser(row), passwordHash: row.password_hash };
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

/** Of these users, the ones that are active (and whose institution, if any, is active). */
export async function activeUserIds(db: DbOrTrx, ids: readonly string[]): Promise<Set<string>> {
  const rows: { id: string }[] = await db('users as u')
    .leftJoin('institutions as i', 'i.id', 'u.institution_id')
    .whereIn('u.id', [...ids])
    .where('u.active', true)
    .where((q) => q.whereNull('u.institution_id').orWhere('i.active', true))
    .select('u.id');
  return new Set(rows.map((r) => r.id));
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
