import type { Request, Response } from 'express';
import { Router } from 'express';
import type { Config } from '../config';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { AppError, NotFoundError } from '../errors';
import { field, formBody, localsOf, render } from '../pages/shell';
import { ReportIdParams } from '../reports/reports.schemas';
import { caseStatusLimiter } from './case-status.limiter';
import { presentCaseStatus, presentReceipt } from './case-status.presenter';
import { CaseStatusBody } from './case-status.schemas';
import { fieldErrors, zodProblems } from '../pages/messages';

/** Carries a just-issued access code from the filing to its receipt, once: never stored on the server. */
const RECEIPT_COOKIE = 'afrc_receipt';
const receiptPath = (reportId: string) => `/reports/${reportId}/receipt`;

/** After a filing or a reissue: the code travels to the receipt page in a short-lived cookie of that page alone. */
export function carryAccessCode(res: Response, config: Config, reportId: string, code: string): void {
  res.cookie(RECEIPT_COOKIE, code, {
    httpOnly: true, sameSite: 'lax', secure: config.env === 'production', path: receiptPath(reportId), maxAge: 10 * 60 * 1000,
  });
}

const REPORT_ROLES = ['admin', 'supervisor', 'desk_officer'] as const;

/** The victim's receipt (for officers) and the public /status page (for victims). */
export function caseStatusPages(deps: Deps): Router {
  const r = Router();
  const { caseStatus } = deps.services;
  const statusUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}/status`;

  r.get('/reports/:id/receipt', requireRole(...REPORT_ROLES), async (req, res) => {
    const params = ReportIdParams.safeParse(req.params);
    if (!params.success) throw new NotFoundError('No such report.');
    const carried = req.cookies?.[RECEIPT_COOKIE] as string | undefined;
    const receipt = await caseStatus.receipt(params.data.id, typeof carried === 'string' ? carried : undefined);
    // Shown once: the cookie goes, and no cache or back button keeps the page.
    res.clearCookie(RECEIPT_COOKIE, { path: receiptPath(receipt.id) });
    res.set('Cache-Control', 'no-store');
    render(res, 'pages/victims/receipt', 'receipt.title', presentReceipt(receipt, statusUrl(req), deps.config.timeZone));
  });

  r.post('/reports/:id/access-code', requireRole(...REPORT_ROLES), async (req, res) => {
    const params = ReportIdParams.safeParse(req.params);
    if (!params.success) throw new NotFoundError('No such report.');
    const receipt = await caseStatus.receipt(params.data.id, undefined);
    const code = await caseStatus.reissue(actorOf(req), receipt, 'requested');
    carryAccessCode(res, deps.config, receipt.id, code);
    res.redirect(303, receiptPath(receipt.id));
  });

  r.get('/status', (_req, res) => {
    render(res, 'pages/victims/status', 'caseStatus.title', { form: { caseNumber: '', accessCode: '' } });
  });

  r.post('/status', caseStatusLimiter(deps), async (req, res) => {
    const l = localsOf(res);
    const body = formBody(req);
    const form = { caseNumber: field(body, 'caseNumber'), accessCode: field(body, 'accessCode') };
    res.set('Cache-Control', 'no-store');
    const again = (status: number, errorKey: string, errors: Record<string, string> = {}) =>
      render(res, 'pages/victims/status', 'caseStatus.title', { form, errors, notice: { text: l.t(errorKey), error: true } }, status);
    const parsed = CaseStatusBody.safeParse(form);
    if (!parsed.success) return again(400, 'caseStatus.required', fieldErrors(zodProblems(parsed.error, l)));
    try {
      const status = await caseStatus.status(parsed.data);
      render(res, 'pages/victims/status', 'caseStatus.title', { form, result: presentCaseStatus(status, l) });
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') return again(404, 'caseStatus.notFound');
      throw err;
    }
  });

  return r;
}
