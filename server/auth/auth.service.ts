import type { ServiceContext } from '../context';
import { UnauthorizedError } from '../errors';
import { toPublicUser, type PublicUser } from '../admin/admin.service';
import { coalesced } from '../coalesce';
import { activeUserIds, findUserByUsername, isUserActive } from '../admin/users.repo';
import { findUsableApiClient, usableClientIds } from '../admin/api-clients.repo';
import type { Actor } from './actor';
import { decoyHash, verifySecret } from './passwords';
import { issueToken } from './tokens';

export type { PublicUser };

export class AuthService {
  /**
   * The checks of requests that arrive together share one query: each still reads the accounts
   * as they are after the request came in, nothing is remembered beyond the batch.
   */
  private readonly activeChecks = coalesced(async (actors: readonly Actor[]) => {
    const users = actors.filter((a) => a.type === 'user').map((a) => a.id);
    const clients = actors.filter((a) => a.type !== 'user').map((a) => a.id);
    const [activeUsers, usableClients] = await Promise.all([
      users.length ? activeUserIds(this.ctx.readDb, users) : new Set<string>(),
      clients.length ? usableClientIds(this.ctx.readDb, clients) : new Set<string>(),
    ]);
    return actors.map((a) => (a.type === 'user' ? activeUsers.has(a.id) : usableClients.has(a.id)));
  }, { maxBatchSize: 500, keyOf: (a) => `${a.type}:${a.id}` });

  constructor(private readonly ctx: ServiceContext) {}

  async login(username: string, password: string): Promise<{ token: string; expiresAt: Date; user: PublicUser }> {
    const user = await findUserByUsername(this.ctx.db, username);
    // Always pay for one hash comparison, so response time does not reveal whether the username exists.
    const ok = await verifySecret(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok || !(await isUserActive(this.ctx.db, user.id))) {
      throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
    }
    const { token, expiresAt } = issueToken(this.ctx.config, {
      id: user.id, type: 'user', name: user.username, role: user.role, institutionId: user.institutionId,
    });
    return { token, expiresAt, user: toPublicUser(user) };
  }

  async exchangeClientCredentials(clientId: string, clientSecret: string): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }> {
    const client = await findUsableApiClient(this.ctx.db, { clientId });
    const ok = await verifySecret(clientSecret, client?.secretHash ?? (await decoyHash()));
    if (!client || !ok) throw new UnauthorizedError('Unknown client or wrong secret.', 'invalid_credentials');
    const { token, expiresIn } = issueToken(this.ctx.config, {
      id: client.id, type: 'api_client', name: client.clientId, role: 'partner_system', institutionId: client.institutionId,
    });
    return { accessToken: token, tokenType: 'Bearer', expiresIn };
  }

  /**
   * A token outlives nothing it was issued for: a deactivated user, a revoked client, or any
   * account of a deactivated institution loses access at once.
   */
  isActive(actor: Actor): Promise<boolean> {
    return this.activeChecks.load(actor);
  }
}
