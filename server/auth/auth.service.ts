import type { ServiceContext } from '../context';
import { UnauthorizedError } from '../errors';
import type { Actor } from './actor';
import { decoyHash, verifySecret } from './passwords';
import { issueToken } from './tokens';

type UserRow = { id: string; username: string; password_hash: string; display_name: string; role: Actor['role']; institution_id: string | null; active: boolean };

export type PublicUser = { id: string; username: string; displayName: string; role: Actor['role']; institutionId: string | null };

export const toPublicUser = (r: Omit<UserRow, 'password_hash' | 'active'>): PublicUser => ({
  id: r.id, username: r.username, displayName: r.display_name, role: r.role, institutionId: r.institution_id,
});

export class AuthService {
  constructor(private readonly ctx: ServiceContext) {}

  async login(username: string, password: string): Promise<{ token: string; expiresAt: Date; user: PublicUser }> {
    const row: UserRow | undefined = await this.ctx.db('users').whereRaw('lower(username) = lower(?)', [username]).first();
    // Always pay for one hash comparison, so response time does not reveal whether the username exists.
    const ok = await verifySecret(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !ok || !row.active) throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
    const user = toPublicUser(row);
    const { token, expiresAt } = issueToken(this.ctx.config, {
      id: row.id, type: 'user', name: row.username, role: row.role, institutionId: row.institution_id,
    });
    return { token, expiresAt, user };
  }

  async exchangeClientCredentials(clientId: string, clientSecret: string): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }> {
    const row: { id: string; client_id: string; secret_hash: string; institution_id: string; revoked_at: Date | null } | undefined =
      await this.ctx.db('api_clients as c')
        .join('institutions as i', 'i.id', 'c.institution_id')
        .where('c.client_id', clientId)
        .where('i.active', true)
        .first('c.id', 'c.client_id', 'c.secret_hash', 'c.institution_id', 'c.revoked_at');
    const ok = await verifySecret(clientSecret, row?.secret_hash ?? (await decoyHash()));
    if (!row || !ok || row.revoked_at) throw new UnauthorizedError('Unknown client or wrong secret.', 'invalid_credentials');
    const { token, expiresIn } = issueToken(this.ctx.config, {
      id: row.id, type: 'api_client', name: row.client_id, role: 'partner_system', institutionId: row.institution_id,
    });
    return { accessToken: token, tokenType: 'Bearer', expiresIn };
  }

  /** A token outlives nothing it was issued for: deactivated users and revoked clients lose access at once. */
  async isActive(actor: Actor): Promise<boolean> {
    if (actor.type === 'user') {
      const row = await this.ctx.db('users').where({ id: actor.id, active: true }).first('id');
      return Boolean(row);
    }
    // A machine client speaks for its institution: a deactivated institution's clients stop with it.
    const row = await this.ctx.db('api_clients as c')
      .join('institutions as i', 'i.id', 'c.institution_id')
      .where({ 'c.id': actor.id, 'i.active': true })
      .whereNull('c.revoked_at')
      .first('c.id');
    return Boolean(row);
  }
}
