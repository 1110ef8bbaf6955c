import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { AppError, NotFoundError, ValidationError } from '../errors';
import { field, formBody, localsOf, render, switchingLanguage } from '../pages/shell';
import { pageProblems, problemText, zodProblems } from '../pages/messages';
import { CreateApiClientBody, CreateInstitutionBody, CreateUserBody, InstitutionId, UpdateInstitutionBody } from './admin.schemas';
import {
  parseRoutes, presentDate, presentInstitutionForm, presentUserForm, type InstitutionForm, type UserForm,
} from './admin.presenter';

/** The administrator's pages: the same admin use cases the API calls. */
export function adminPages(deps: Deps): Router {
  const r = Router();
  const { admin } = deps.services;
  r.use('/admin', requireRole('admin'));

  /** A 4xx the admin can fix is shown on the form; anything else goes to the error page. */
  const fixable = (err: unknown) => err instanceof AppError && (err.status === 400 || err.status === 409);

  const institutionsPage = async (res: import('express').Response, form: InstitutionForm, details: { path: string; message: string }[] = [], status = 200, notice?: object) => {
    const l = localsOf(res);
    const rows = await admin.listInstitutionsWithRoutes();
    render(res, 'pages/admin/institutions', 'admin.institutionsTitle', {
      rows: rows.map((i) => ({ ...i, routesText: i.routes.map((rt) => `${rt.indicatorKind} ${rt.prefix || '*'}`).join(', ') })),
      ...presentInstitutionForm(form, l, details),
      notice,
      refusedForm: status >= 400 || switchingLanguage(res) ? 'institution-new-form' : undefined,
    }, status);
  };
  const blankInstitution: InstitutionForm = { id: '', name: '', kind: 'bank', integration: 'manual', messageFormat: 'json', webhookUrl: '', routes: '' };

  r.get('/admin/institutions', async (req, res) => {
    const l = localsOf(res);
    const notice = req.query.done === 'created' ? { text: l.t('admin.created') } : req.query.done === 'deactivated' ? { text: l.t('admin.deactivated') } : undefined;
    await institutionsPage(res, blankInstitution, [], 200, notice);
  });

  r.post('/admin/institutions', async (req, res) => {
    const body = formBody(req);
    const form: InstitutionForm = {
      id: field(body, 'id'), name: field(body, 'name'), kind: field(body, 'kind'), integration: field(body, 'integration'),
      messageFormat: field(body, 'messageFormat') || 'json', webhookUrl: field(body, 'webhookUrl'), routes: field(body, 'routes'),
    };
    const { routes, problems: routeProblems } = parseRoutes(form.routes);
    const problems = pageProblems(routeProblems, localsOf(res));
    const parsed = CreateInstitutionBody.safeParse({
      id: form.id.trim(), name: form.name, kind: form.kind, integration: form.integration, messageFormat: form.messageFormat,
      webhookUrl: form.webhookUrl.trim() || undefined, webhookSecret: field(body, 'webhookSecret').trim() || undefined, routes,
    });
    const checked = pageProblems(await admin.settingsProblems({ webhookUrl: form.webhookUrl.trim() || null, routes }), localsOf(res));
    if (problems.length || !parsed.success || checked.length) {
      const details = [...problems, ...(parsed.success ? [] : zodProblems(parsed.error, localsOf(res))), ...checked];
      return institutionsPage(res, form, details, 400);
    }
    if (switchingLanguage(res)) return institutionsPage(res, form);
    try {
      const created = await admin.createInstitution(actorOf(req), parsed.data);
      if (created.webhookSecret) {
        // Generated here and stored for signing; the admin sees it this once.
        return render(res, 'pages/admin/secret', 'admin.institutionsTitle', { label: 'admin.webhookSecret', notice: 'admin.webhookSecretOnce', id: created.id, secret: created.webhookSecret, back: '/admin/institutions' }, 201);
      }
      res.redirect(303, '/admin/institutions?done=created');
    } catch (err) {
      if (fixable(err)) return institutionsPage(res, form, (err as AppError).details.length ? pageProblems((err as AppError).details, localsOf(res)) : [{ path: 'id', message: problemText((err as AppError).message, localsOf(res)) }], (err as AppError).status);
      throw err;
    }
  });

  const routesText = (routes: { indicatorKind: string; prefix: string }[]) => routes.map((rt) => `${rt.indicatorKind} ${rt.prefix}`.trim()).join('\n');
  const institutionIdOf = (raw: unknown): string => {
    const id = InstitutionId.safeParse(raw);
    if (!id.success) throw new NotFoundError('No such institution.');
    return id.data;
  };

  /** One institution's settings: the form shows what is stored, or what was typed when it was refused. */
  const editPage = async (res: import('express').Response, id: string, form: InstitutionForm | undefined, details: { path: string; message: string }[] = [], status = 200, notice?: object) => {
    const l = localsOf(res);
    const current = await admin.getInstitution(id);
    const shown: InstitutionForm = form ?? {
      id: current.id, name: current.name, kind: current.kind, integration: current.integration, messageFormat: current.messageFormat,
      webhookUrl: current.webhookUrl ?? '', routes: routesText(current.routes),
    };
    render(res, 'pages/admin/institution-edit', 'institutionEdit.title', {
      title: l.t('institutionEdit.titleOf', { name: current.name }),
      institution: current,
      ...presentInstitutionForm({ ...shown, id: current.id, kind: current.kind }, l, details),
      notice,
      refusedForm: status >= 400 || switchingLanguage(res) ? 'institution-form' : undefined,
    }, status);
  };

  r.get('/admin/institutions/:id', async (req, res) => {
    const l = localsOf(res);
    await editPage(res, institutionIdOf(req.params.id), undefined, [], 200, req.query.done === 'saved' ? { text: l.t('institutionEdit.saved') } : undefined);
  });

  r.post('/admin/institutions/:id', async (req, res) => {
    const id = institutionIdOf(req.params.id);
    const body = formBody(req);
    const form: InstitutionForm = {
      id, name: field(body, 'name'), kind: '', integration: field(body, 'integration'),
      messageFormat: field(body, 'messageFormat'), webhookUrl: field(body, 'webhookUrl'), routes: field(body, 'routes'),
    };
    const { routes, problems: routeProblems } = parseRoutes(form.routes);
    const problems = pageProblems(routeProblems, localsOf(res));
    // An emptied URL field clears the URL; an empty secret field keeps the stored secret.
    const parsed = UpdateInstitutionBody.safeParse({
      name: form.name, integration: form.integration, messageFormat: form.messageFormat,
      webhookUrl: form.webhookUrl.trim() || null, webhookSecret: field(body, 'webhookSecret').trim() || undefined, routes,
    });
    // Every problem at once: the schema's, the routes' and the webhook address's.
    const checked = pageProblems(await admin.settingsProblems({ webhookUrl: form.webhookUrl.trim() || null, routes }), localsOf(res));
    if (problems.length || !parsed.success || checked.length) {
      return editPage(res, id, form, [...problems, ...(parsed.success ? [] : zodProblems(parsed.error, localsOf(res))), ...checked], 400);
    }
    if (switchingLanguage(res)) return editPage(res, id, form);
    try {
      const updated = await admin.updateInstitution(actorOf(req), id, parsed.data);
      if (updated.webhookSecret) {
        res.setHeader('Cache-Control', 'no-store');
        return render(res, 'pages/admin/secret', 'admin.institutionsTitle', { heading: 'institutionEdit.saved', label: 'admin.webhookSecret', notice: 'admin.webhookSecretOnce', id: updated.id, secret: updated.webhookSecret, back: `/admin/institutions/${id}` }, 200);
      }
      res.redirect(303, `/admin/institutions/${id}?done=saved`);
    } catch (err) {
      if (fixable(err)) return editPage(res, id, form, (err as AppError).details.length ? pageProblems((err as AppError).details, localsOf(res)) : [{ path: 'name', message: problemText((err as AppError).message, localsOf(res)) }], (err as AppError).status);
      throw err;
    }
  });

  r.post('/admin/institutions/:id/deactivate', async (req, res) => {
    const id = InstitutionId.safeParse(req.params.id);
    if (!id.success) throw new ValidationError([{ path: 'id', message: 'is not an institution id' }]);
    await admin.updateInstitution(actorOf(req), id.data, { active: false });
    res.redirect(303, '/admin/institutions?done=deactivated');
  });

  const usersPage = async (res: import('express').Response, form: UserForm, details: { path: string; message: string }[] = [], status = 200, notice?: object) => {
    const l = localsOf(res);
    const [users, institutions] = await Promise.all([admin.listUsers({ limit: 200 }), admin.listInstitutions()]);
    render(res, 'pages/admin/users', 'admin.usersTitle', {
      rows: users.items.map((u) => ({ ...u, createdAt: presentDate(u.createdAt, l) })),
      ...presentUserForm(form, institutions.items.filter((i) => i.active), l, details),
      notice,
      refusedForm: status >= 400 || switchingLanguage(res) ? 'user-form' : undefined,
    }, status);
  };

  r.get('/admin/users', async (req, res) => {
    const l = localsOf(res);
    await usersPage(res, { username: '', displayName: '', role: 'desk_officer', institutionId: '' }, [], 200,
      req.query.done === 'created' ? { text: l.t('admin.created') } : undefined);
  });

  r.post('/admin/users', async (req, res) => {
    const body = formBody(req);
    const form: UserForm = { username: field(body, 'username'), displayName: field(body, 'displayName'), role: field(body, 'role'), institutionId: field(body, 'institutionId') };
    const parsed = CreateUserBody.safeParse({ ...form, password: field(body, 'password'), institutionId: form.institutionId || null });
    if (!parsed.success) return usersPage(res, form, zodProblems(parsed.error, localsOf(res)), 400);
    if (switchingLanguage(res)) return usersPage(res, form);
    try {
      await admin.createUser(actorOf(req), parsed.data);
      res.redirect(303, '/admin/users?done=created');
    } catch (err) {
      if (fixable(err)) return usersPage(res, form, (err as AppError).details.length ? pageProblems((err as AppError).details, localsOf(res)) : [{ path: 'username', message: problemText((err as AppError).message, localsOf(res)) }], (err as AppError).status);
      throw err;
    }
  });

  const clientsPage = async (res: import('express').Response, form: { institutionId: string; name: string }, details: { path: string; message: string }[] = [], status = 200) => {
    const l = localsOf(res);
    const [clients, institutions] = await Promise.all([admin.listApiClients({ limit: 200 }), admin.listInstitutions()]);
    const errors: Record<string, string> = {};
    for (const d of details) errors[d.path] ??= d.message;
    render(res, 'pages/admin/api-clients', 'admin.clientsTitle', {
      rows: clients.items.map((c) => ({ ...c, createdAt: presentDate(c.createdAt, l) })),
      form,
      institutions: institutions.items.filter((i) => i.active && i.kind !== 'police').map((i) => ({ value: i.id, label: `${i.name} (${i.id})`, selected: i.id === form.institutionId })),
      errors,
      refusedForm: status >= 400 || switchingLanguage(res) ? 'client-form' : undefined,
    }, status);
  };

  r.get('/admin/api-clients', async (_req, res) => {
    await clientsPage(res, { institutionId: '', name: '' });
  });

  r.post('/admin/api-clients', async (req, res) => {
    const body = formBody(req);
    const form = { institutionId: field(body, 'institutionId'), name: field(body, 'name') };
    const parsed = CreateApiClientBody.safeParse(form);
    if (!parsed.success) return clientsPage(res, form, zodProblems(parsed.error, localsOf(res)), 400);
    if (switchingLanguage(res)) return clientsPage(res, form);
    try {
      const created = await admin.createApiClient(actorOf(req), parsed.data);
      // Answered directly, never by redirect: the secret must not sit in a URL or be shown twice.
      res.setHeader('Cache-Control', 'no-store');
      render(res, 'pages/admin/secret', 'admin.clientsTitle', { label: 'admin.clientSecret', notice: 'admin.secretOnce', id: created.clientId, secret: created.clientSecret, back: '/admin/api-clients' }, 201);
    } catch (err) {
      if (fixable(err)) return clientsPage(res, form, pageProblems((err as AppError).details, localsOf(res)), (err as AppError).status);
      throw err;
    }
  });

  return r;
}
