import type { ServiceContext } from '../context';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { toPublicUser, type PublicUser } from '../admin/admin.service';
import { coalesced } from '../coalesce';
import { endUserTokens, findUserByUsername, isUserActive, standingOfUsers, type TokenStanding } from '../admin/users.repo';
import { findUsableApiClient, usableClientIds } from '../admin/api-clients.repo';
import type { Actor } from './actor';
import { decoyHash, verifySecret } from './passwords';
import { issueToken, type TokenHolder } from './tokens';

export type { PublicUser };

export class AuthService {
  /**
   * The checks of requests that arrive together share one query: each still reads the accounts
   * as they are after the request came in, nothing is remembered beyond the batch.
   */
  private readonly standingChecks = coalesced(async (actors: readonly Actor[]) => {
    const users = actors.filter((a) => a.type === 'user').map((a) => a.id);
    const clients = actors.filter((a) => a.type !== 'user').map((a) => a.id);
    const [userStanding, usableClients] = await Promise.all([
      users.length ? standingOfUsers(this.ctx.readDb, users) : new Map<string, TokenStanding>(),
      clients.length ? usableClientIds(this.ctx.readDb, clients) : new Set<string>(),
    ]);
    return actors.map((a): TokenStanding | false => {
      if (a.type === 'user') return userStanding.get(a.id) ?? false;
      return usableClients.has(a.id) ? { role: a.role, institutionId: a.institutionId, generation: 0 } : false;
    });
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
    }, user.tokenGeneration);
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
   * Who a token acts as now, or false when it no longer works (API.md, Authentication). A token
   * outlives nothing it was issued for: logout, a new password, a new role or institution and
   * deactivation each move the user's token generation on, and a deactivated user, a revoked
   * client or any account of a deactivated institution loses access at once. Role and institution
   * are read from the account on every request, never taken from the token.
   */
  async currentActor(holder: TokenHolder): Promise<Actor | false> {
    const standing = await this.standingChecks.load(holder.actor);
    if (!standing || standing.generation !== holder.generation) return false;
    return { ...holder.actor, role: standing.role, institutionId: standing.institutionId };
  }

  /** Logout: every token the user holds stops working. Machine clients end theirs by revocation. */
  async logout(actor: Actor): Promise<void> {
    if (actor.type !== 'user') throw new ForbiddenError('A partner system\'s tokens end when its API client is revoked.');
    await endUserTokens(this.ctx.db, actor.id);
  }
}
