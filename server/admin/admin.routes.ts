import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireAuth, requireRole } from '../http/auth';
import { describeRoute, jsonBody } from '../http/openapi';
import { ListQuery } from '../http/pagination';
import { parse } from '../http/validate';
import {
  ApiClientIdParams, ApiClientList, ApiClientListItem, CreateApiClientBody, CreateInstitutionBody, CreatedApiClient,
  CreatedInstitution, CreateUserBody, InstitutionDetail, InstitutionId, InstitutionIdParams, InstitutionList,
  UpdateInstitutionBody, UpdateUserBody, UserIdParams, UserList, UserListItem, UserOut,
} from './admin.schemas';

const ApiClientListQuery = ListQuery.extend({ institutionId: InstitutionId.optional() });

const admin = { tags: ['admin'] };
describeRoute({ ...admin, method: 'get', path: '/institutions', summary: 'List institutions (any authenticated role).', ok: InstitutionList });
describeRoute({ ...admin, method: 'post', path: '/institutions', summary: 'Create a partner institution with its routes.', request: { body: jsonBody(CreateInstitutionBody) }, okStatus: 201, ok: CreatedInstitution });
describeRoute({ ...admin, method: 'get', path: '/institutions/:id', summary: 'One institution with its routes.', request: { params: InstitutionIdParams }, ok: InstitutionDetail });
describeRoute({ ...admin, method: 'patch', path: '/institutions/:id', summary: 'Rename, (de)activate, change integration, webhook or message format, or replace routes; a switch to webhook without a secret answers the generated one once.', request: { params: InstitutionIdParams, body: jsonBody(UpdateInstitutionBody) }, ok: CreatedInstitution });
describeRoute({ ...admin, method: 'get', path: '/users', summary: 'List users.', request: { query: ListQuery }, ok: UserList });
describeRoute({ ...admin, method: 'post', path: '/users', summary: 'Create a user.', request: { body: jsonBody(CreateUserBody) }, okStatus: 201, ok: UserOut });
describeRoute({ ...admin, method: 'patch', path: '/users/:id', summary: 'Change display name, password, role or institution, or (de)activate a user; all but the display name end the user\'s tokens.', request: { params: UserIdParams, body: jsonBody(UpdateUserBody) }, ok: UserListItem });
describeRoute({ ...admin, method: 'get', path: '/api-clients', summary: 'List partner API clients (never their secrets).', request: { query: ApiClientListQuery }, ok: ApiClientList });
describeRoute({ ...admin, method: 'post', path: '/api-clients', summary: 'Create a partner API client; the secret is shown only in this answer.', request: { body: jsonBody(CreateApiClientBody) }, okStatus: 201, ok: CreatedApiClient });
describeRoute({ ...admin, method: 'delete', path: '/api-clients/:id', summary: 'Revoke an API client; its tokens stop working at once.', request: { params: ApiClientIdParams }, ok: ApiClientListItem });

export function adminRoutes(deps: Deps): Router {
  const r = Router();
  const svc = deps.services.admin;
  const adminOnly = requireRole('admin');

  r.get('/institutions', requireAuth, async (_req, res) => {
    res.json(await svc.listInstitutions());
  });
  r.post('/institutions', adminOnly, async (req, res) => {
    res.status(201).json(await svc.createInstitution(actorOf(req), parse(CreateInstitutionBody, req.body)));
  });
  r.get('/institutions/:id', adminOnly, async (req, res) => {
    res.json(await svc.getInstitution(parse(InstitutionIdParams, req.params).id));
  });
  r.patch('/institutions/:id', adminOnly, async (req, res) => {
    const { id } = parse(InstitutionIdParams, req.params);
    res.json(await svc.updateInstitution(actorOf(req), id, parse(UpdateInstitutionBody, req.body ?? {})));
  });

  r.get('/users', adminOnly, async (req, res) => {
    res.json(await svc.listUsers(parse(ListQuery, req.query)));
  });
  r.post('/users', adminOnly, async (req, res) => {
    res.status(201).json(await svc.createUser(actorOf(req), parse(CreateUserBody, req.body)));
  });
  r.patch('/users/:id', adminOnly, async (req, res) => {
    const { id } = parse(UserIdParams, req.params);
    res.json(await svc.updateUser(actorOf(req), id, parse(UpdateUserBody, req.body ?? {})));
  });

  r.get('/api-clients', adminOnly, async (req, res) => {
    res.json(await svc.listApiClients(parse(ApiClientListQuery, req.query)));
  });
  r.post('/api-clients', adminOnly, async (req, res) => {
    res.status(201).json(await svc.createApiClient(actorOf(req), parse(CreateApiClientBody, req.body)));
  });
  r.delete('/api-clients/:id', adminOnly, async (req, res) => {
    res.json(await svc.revokeApiClient(actorOf(req), parse(ApiClientIdParams, req.params).id));
  });

  return r;
}
