import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { urlProblem } from '../domain/webhook-target';
import { resolveWebhookHost, WebhookTargetError } from './webhook-dns';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import type { Actor } from '../auth/actor';
import { isPartnerSide } from '../auth/actor';
import { hashSecret } from '../auth/passwords';
import { recordEvent, recordEvents } from '../audit/events.repo';
import type { TaskEngine } from '../tasks/task-engine';
import { INDICATOR_KINDS, type IndicatorKind } from '../domain/kinds';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../errors';
import { decodeCursor, toPage, type Page } from '../http/pagination';
import type {
  CreateApiClientBody, CreateInstitutionBody, CreateUserBody, RouteInput, UpdateInstitutionBody, UpdateUserBody,
} from './admin.schemas';
import {
  findInstitution, findInstitutionWithSecret, insertInstitution, listInstitutions, lockInstitution, replaceRoutes, routesHeldElsewhere,
  routesByInstitution, routesOf, updateInstitution, type Institution, type RouteSpec,
} from './institutions.repo';
import { findUser, findUserByUsername, insertUser, listUsers, updateUser, type User } from './users.repo';
import { insertApiClient, listApiClients, revokeApiClient, type ApiClient } from './api-clients.repo';

export type InstitutionDetail = Institution & { hasWebhookSecret: boolean; routes: RouteSpec[] };
export type PublicUser = Pick<User, 'id' | 'username' | 'displayName' | 'role' | 'institutionId'>;
export type UserListItem = PublicUser & { active: boolean; createdAt: string };
export type ApiClientListItem = Omit<ApiClient, 'createdAt' | 'revokedAt'> & { createdAt: string; revokedAt: string | null };

/**
 * A route prefix is compared with normalized values (domain/normalize.ts), so it is spelled the
 * same way: accounts as digits, phones and SMS numbers as the start of an E.164 number, sites and
 * handles lower-case, sender names upper-case.
 */
export function normalizeRoutePrefix(kind: IndicatorKind, raw: string): { ok: true; value: string } | { ok: false; message: string } {
  const text = raw.normalize('NFKC').trim();
  switch (kind) {
    case 'bank_account': {
      const digits = text.replace(/[\s-]+/g, '');
      return /^\d*$/.test(digits) ? { ok: true, value: digits } : { ok: false, message: 'an account prefix has digits only' };
    }
    case 'phone': {
      const v = text.replace(/[\s\-()]+/g, '');
      return /^(\+\d*)?$/.test(v) ? { ok: true, value: v } : { ok: false, message: 'a phone prefix is the start of an E.164 number, such as +86171' };
    }
    case 'sms_sender': {
      // Sender names are stored without the 【】 their messages wrap them in (normalize.ts).
      const v = text.replace(/[\s\-()]+/g, '').replace(/^[【\[](.*)[】\]]$/u, '$1').toUpperCase();
      return v.startsWith('+') && !/^\+\d*$/.test(v)
        ? { ok: false, message: 'a number prefix is the start of an E.164 number, such as +86106' }
        : { ok: true, value: v };
    }
    case 'url':
      // URL values name one scheme (normalize.ts urlIdentity), so an https prefix matches them as http.
      return { ok: true, value: text.toLowerCase().replace(/\.$/, '').replace(/^https:\/\//, 'http://') };
    case 'domain':
      return { ok: true, value: text.toLowerCase().replace(/\.$/, '') };
    case 'payment_account':
    case 'im_account':
      return { ok: true, value: text.toLowerCase() };
    default: {
      const never: never = kind;
      return { ok: false, message: `unknown indicator kind ${String(never)}` };
    }
  }
}

function normalizeRoutes(routes: RouteInput[]): RouteSpec[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  const out: RouteSpec[] = [];
  routes.forEach((r, i) => {
    const n = normalizeRoutePrefix(r.indicatorKind, r.prefix);
    if (!n.ok) {
      details.push({ path: `routes.${i}.prefix`, message: n.message });
      return;
    }
    const key = `${r.indicatorKind}\u0000${n.value}`;
    if (seen.has(key)) {
      details.push({ path: `routes.${i}.prefix`, message: 'is listed twice for this indicator kind' });
      return;
    }
    seen.add(key);
    out.push({ indicatorKind: r.indicatorKind, prefix: n.value });
  });
  if (details.length) throw new ValidationError(details);
  return out;
}

export const toPublicUser = (u: User): PublicUser => ({
  id: u.id, username: u.username, displayName: u.displayName, role: u.role, institutionId: u.institutionId,
});

const summary = (i: Institution) => ({ id: i.id, name: i.name, kind: i.kind, integration: i.integration, active: i.active });

/** Administration of the center: partner institutions and their routes, people, and partner machine clients. */
export class AdminService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: TaskEngine,
  ) {}

  async listInstitutions(): Promise<{ items: ReturnType<typeof summary>[]; nextCursor: null }> {
    return { items: (await listInstitutions(this.ctx.db)).map(summary), nextCursor: null };
  }

  /** Every institution with its routes, for the admin's overview page. */
  async listInstitutionsWithRoutes(): Promise<(Institution & { routes: RouteSpec[] })[]> {
    const [all, routes] = await Promise.all([listInstitutions(this.ctx.db), routesByInstitution(this.ctx.db)]);
    return all.map((i) => ({ ...i, routes: routes.get(i.id) ?? [] }));
  }

  async getInstitution(id: string): Promise<InstitutionDetail> {
    const inst = await findInstitutionWithSecret(this.ctx.db, id);
    if (!inst) throw new NotFoundError('No such institution.');
    const { webhookSecret, ...rest } = inst;
    return { ...rest, hasWebhookSecret: webhookSecret !== null, routes: await routesOf(this.ctx.db, id) };
  }

  /**
   * A webhook URL must reach a public address (API.md): refused on its face, or when its host
   * resolves to a non-public address now. A name that does not resolve yet is kept; every delivery
   * checks again where it connects.
   */
  private async checkWebhookUrl(url: string): Promise<void> {
    const allowed = this.ctx.config.workers.webhookAllowedHosts;
    const problem = urlProblem(url, allowed);
    if (problem) throw new ValidationError([{ path: 'webhookUrl', message: problem }]);
    const { hostname } = new URL(url);
    if (ipaddr.isValid(hostname.replace(/^\[(.*)\]$/, '$1'))) return;
    try {
      await resolveWebhookHost(hostname, allowed);
    } catch (err) {
      if (err instanceof WebhookTargetError) throw new ValidationError([{ path: 'webhookUrl', message: `must point to a public address: ${err.message}` }]);
    }
  }

  /**
   * What the create and update use cases would refuse in a webhook URL and routes, found without
   * saving anything, so a form can show every problem at once. Routes of an unknown kind are left
   * to the schema's own problem.
   */
  async settingsProblems(input: { webhookUrl?: string | null; routes?: { indicatorKind: string; prefix: string }[] }): Promise<ErrorDetail[]> {
    const out: ErrorDetail[] = [];
    const known = (input.routes ?? [])
      .map((r, index) => ({ r, index }))
      .filter((x) => (INDICATOR_KINDS as readonly string[]).includes(x.r.indicatorKind));
    try {
      normalizeRoutes(known.map((x) => ({ indicatorKind: x.r.indicatorKind as IndicatorKind, prefix: x.r.prefix })));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      out.push(...err.details.map((d) => ({ ...d, path: d.path.replace(/^routes\.(\d+)/, (_m, i: string) => `routes.${known[Number(i)]!.index}`) })));
    }
    if (input.webhookUrl) {
      try {
        await this.checkWebhookUrl(input.webhookUrl);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        out.push(...err.details);
      }
    }
    return out;
  }

  async createInstitution(actor: Actor, body: CreateInstitutionBody): Promise<InstitutionDetail & { webhookSecret?: string }> {
    const routes = normalizeRoutes(body.routes);
    if (body.webhookUrl) await this.checkWebhookUrl(body.webhookUrl);
    // A webhook delivery is always signed; when the admin gives no secret one is made and shown once.
    const generatedSecret = body.integration === 'webhook' && !body.webhookSecret ? randomBytes(32).toString('base64url') : undefined;
    await this.ctx.db.transaction(async (trx) => {
      if (await findInstitution(trx, body.id)) {
        throw new ConflictError('conflict', `An institution with id "${body.id}" already exists.`, [{ path: 'id', message: 'already exists' }]);
      }
      await this.assertRoutesFree(trx, body.id, routes);
      await insertInstitution(trx, {
        id: body.id,
        name: body.name,
        kind: body.kind,
        integration: body.integration,
        messageFormat: body.messageFormat,
        webhookUrl: body.webhookUrl ?? null,
        webhookSecret: body.webhookSecret ?? generatedSecret ?? null,
      });
      await replaceRoutes(trx, body.id, routes);
      await recordEvent(trx, actor, {
        type: 'institution.created',
        data: { institutionId: body.id, kind: body.kind, integration: body.integration, messageFormat: body.messageFormat, routes },
      });
    });
    const detail = await this.getInstitution(body.id);
    return generatedSecret ? { ...detail, webhookSecret: generatedSecret } : detail;
  }

  /**
   * The same change from the API and the admin page. The workers read an institution's
   * integration, webhook and format with each delivery, so the next one uses the new settings.
   * A switch to webhook without any secret gets one made, returned this once, as on creation.
   */
  async updateInstitution(actor: Actor, id: string, patch: UpdateInstitutionBody): Promise<InstitutionDetail & { webhookSecret?: string }> {
    const routes = patch.routes && normalizeRoutes(patch.routes);
    if (patch.webhookUrl) await this.checkWebhookUrl(patch.webhookUrl);
    let generatedSecret: string | undefined;
    await this.ctx.db.transaction(async (trx) => {
      const current = await lockInstitution(trx, id);
      if (!current) throw new NotFoundError('No such institution.');
      const webhookUrl = patch.webhookUrl === undefined ? current.webhookUrl : patch.webhookUrl;
      const integration = patch.integration ?? current.integration;
      if (integration === 'webhook' && !webhookUrl) {
        throw new ValidationError([{ path: 'webhookUrl', message: 'is required for webhook integration' }]);
      }
      const secret = patch.webhookSecret === undefined ? current.webhookSecret : patch.webhookSecret;
      if (integration === 'webhook' && !secret) generatedSecret = randomBytes(32).toString('base64url');
      await updateInstitution(trx, id, generatedSecret ? { ...patch, webhookSecret: generatedSecret } : patch);
      if (routes) {
        await this.assertRoutesFree(trx, id, routes);
        await replaceRoutes(trx, id, routes);
      }
      if (patch.active === false) {
        await this.engine.unrouteInstitution(trx, actor, id);
      }
      const changed = Object.keys(patch).filter((k) => patch[k as keyof UpdateInstitutionBody] !== undefined);
      await recordEvent(trx, actor, {
        type: patch.active === false ? 'institution.deactivated' : patch.active === true ? 'institution.activated' : 'institution.updated',
        data: {
          institutionId: id, changed,
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.integration !== undefined ? { integration: patch.integration } : {}),
          ...(patch.messageFormat !== undefined ? { messageFormat: patch.messageFormat } : {}),
          ...(routes ? { routes } : {}),
        },
      });
    });
    const detail = await this.getInstitution(id);
    return generatedSecret ? { ...detail, webhookSecret: generatedSecret } : detail;
  }

  private async assertRoutesFree(trx: DbOrTrx, id: string, routes: RouteSpec[]): Promise<void> {
    const held = await routesHeldElsewhere(trx, id, routes);
    if (held.length === 0) return;
    throw new ConflictError(
      'conflict',
      'Another institution already holds some of these routes.',
      held.map((h) => ({
        path: `routes.${routes.findIndex((r) => r.indicatorKind === h.indicatorKind && r.prefix === h.prefix)}.prefix`,
        message: `${h.indicatorKind} prefix "${h.prefix}" already routes to ${h.institutionId}`,
      })),
    );
  }

  async createUser(actor: Actor, body: CreateUserBody): Promise<PublicUser> {
    const institutionId = body.institutionId ?? null;
    await this.checkUserInstitution(body.role, institutionId);
    const passwordHash = await hashSecret(body.password);
    const user = await this.ctx.db.transaction(async (trx) => {
      if (await findUserByUsername(trx, body.username)) {
        throw new ConflictError('conflict', `The username "${body.username}" is taken.`, [{ path: 'username', message: 'already exists' }]);
      }
      const created = await insertUser(trx, {
        username: body.username, passwordHash, displayName: body.displayName, role: body.role, institutionId,
      });
      await recordEvent(trx, actor, {
        type: 'user.created',
        data: { userId: created.id, username: created.username, role: created.role, institutionId },
      });
      return created;
    });
    return toPublicUser(user);
  }

  /** Partner-side people and machines belong to a partner; center staff, if placed at all, to the police center. */
  private async checkUserInstitution(role: Actor['role'], institutionId: string | null): Promise<void> {
    const partnerSide = isPartnerSide({ role });
    if (institutionId === null) {
      if (partnerSide) throw new ValidationError([{ path: 'institutionId', message: `is required for role ${role}` }]);
      return;
    }
    const inst = await findInstitution(this.ctx.db, institutionId);
    if (!inst) throw new ValidationError([{ path: 'institutionId', message: 'no such institution' }]);
    if (partnerSide && inst.kind === 'police') {
      throw new ValidationError([{ path: 'institutionId', message: `a ${role} belongs to a partner institution, not the police center` }]);
    }
    if (!partnerSide && inst.kind !== 'police') {
      throw new ValidationError([{ path: 'institutionId', message: `a ${role} belongs to the police center, not a partner institution` }]);
    }
  }

  async updateUser(actor: Actor, id: string, patch: UpdateUserBody): Promise<UserListItem> {
    if (patch.active === false && actor.type === 'user' && actor.id === id) {
      throw new ValidationError([{ path: 'active', message: 'you cannot deactivate your own account' }]);
    }
    const passwordHash = patch.password === undefined ? undefined : await hashSecret(patch.password);
    const user = await this.ctx.db.transaction(async (trx) => {
      const current = await findUser(trx, id);
      if (!current) throw new NotFoundError('No such user.');
      if (patch.role !== undefined || patch.institutionId !== undefined) {
        await this.checkUserInstitution(patch.role ?? current.role, patch.institutionId === undefined ? current.institutionId : patch.institutionId);
      }
      const updated = await updateUser(trx, id, {
        displayName: patch.displayName, active: patch.active, passwordHash, role: patch.role, institutionId: patch.institutionId,
      });
      const changed = Object.keys(patch).filter((k) => patch[k as keyof UpdateUserBody] !== undefined);
      await recordEvent(trx, actor, {
        type: patch.active === false ? 'user.deactivated' : patch.active === true ? 'user.activated' : 'user.updated',
        data: { userId: id, changed },
      });
      return updated!;
    });
    return { ...toPublicUser(user), active: user.active, createdAt: user.createdAt.toISOString() };
  }

  async listUsers(query: { cursor?: string; limit: number }): Promise<Page<UserListItem>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await listUsers(this.ctx.db, { limit: query.limit + 1, after });
    return toPage(
      rows,
      query.limit,
      (u) => ({ ...toPublicUser(u), active: u.active, createdAt: u.createdAt.toISOString() }),
      (u) => [u.sortKey, u.id],
    );
  }

  async createApiClient(actor: Actor, body: CreateApiClientBody): Promise<{ id: string; clientId: string; clientSecret: string; institutionId: string; name: string }> {
    const inst = await findInstitution(this.ctx.db, body.institutionId);
    if (!inst) throw new ValidationError([{ path: 'institutionId', message: 'no such institution' }]);
    if (inst.kind === 'police') {
      throw new ValidationError([{ path: 'institutionId', message: 'API clients are for partner institutions' }]);
    }
    const clientId = `${inst.id}.${randomBytes(6).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    const secretHash = await hashSecret(clientSecret);
    const client = await this.ctx.db.transaction(async (trx) => {
      const created = await insertApiClient(trx, { clientId, secretHash, institutionId: inst.id, name: body.name });
      await recordEvent(trx, actor, {
        type: 'api_client.created',
        data: { apiClientId: created.id, clientId, institutionId: inst.id, name: body.name },
      });
      return created;
    });
    return { id: client.id, clientId, clientSecret, institutionId: client.institutionId, name: client.name };
  }

  async listApiClients(query: { cursor?: string; limit: number; institutionId?: string }): Promise<Page<ApiClientListItem>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await listApiClients(this.ctx.db, { limit: query.limit + 1, after, institutionId: query.institutionId });
    return toPage(rows, query.limit, ({ sortKey: _sortKey, ...c }) => presentApiClient(c), (c) => [c.sortKey, c.id]);
  }

  async revokeApiClient(actor: Actor, id: string): Promise<ApiClientListItem> {
    const client = await this.ctx.db.transaction(async (trx) => {
      const revoked = await revokeApiClient(trx, id);
      if (!revoked) throw new NotFoundError('No such API client.');
      await recordEvent(trx, actor, {
        type: 'api_client.revoked',
        data: { apiClientId: id, clientId: revoked.clientId, institutionId: revoked.institutionId },
      });
      return revoked;
    });
    return presentApiClient(client);
  }
}

const presentApiClient = (c: ApiClient): ApiClientListItem => ({
  ...c, createdAt: c.createdAt.toISOString(), revokedAt: c.revokedAt ? c.revokedAt.toISOString() : null,
});
