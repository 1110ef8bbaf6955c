import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { isPartnerSide, type Actor } from '../auth/actor';
import { AppError, NotFoundError, ValidationError } from '../errors';
import { formBody, formRows, localsOf, render, type PageLocals } from '../pages/shell';
import { problemText } from '../pages/messages';
import { reportPageRenderer } from '../reports/reports.pages';
import { ReportIdParams } from '../reports/reports.schemas';
import { DisputeIdParams, HoldIdParams, type HoldOut } from './holds.schemas';
import {
  fieldOfDetail, presentDispute, presentHoldLine, readDecision, readDispute, readRelease, readRenew, readReturn, readSplit,
  type HoldFormKind, type HoldFormState, type SplitRow,
} from './holds.presenter';

const LIST_LIMIT = 200;
/** Conflicts the hold forms explain in a sentence of their own (holds.error.*). */
const KNOWN_REFUSALS = ['insufficient_balance', 'renewal_limit', 'hold_closed', 'dispute_closed', 'not_found', 'validation_failed'];

const FORM_FIELDS: Record<Exclude<HoldFormKind, 'split'>, string[]> = {
  renew: ['reason', 'stage'],
  release: ['amount', 'reason', 'all'],
  return: ['amount', 'victimAccount', 'victimAccountName', 'note'],
  dispute: ['claimantName', 'amount', 'reason'],
  decision: ['decision', 'amount', 'reason'],
};

function typed(req: Request, kind: Exclude<HoldFormKind, 'split'>): Record<string, string> {
  const body = formBody(req);
  return Object.fromEntries(FORM_FIELDS[kind].map((f) => {
    const v = body[f];
    return [f, (Array.isArray(v) ? v[0] : v) ?? ''];
  }));
}

const idOr404 = (schema: z.ZodType<{ id: string }>, raw: unknown, what: string): string => {
  const p = schema.safeParse({ id: raw });
  if (!p.success) throw new NotFoundError(`No such ${what}.`);
  return p.data.id;
};

/** A refusal as the page shows it: the sentence for its code, and its details beside their fields. */
function refusal(err: AppError, l: PageLocals): { notice: { text: string; error: true }; errors: Record<string, string> } {
  const code = KNOWN_REFUSALS.includes(err.code) ? err.code : 'other';
  const errors: Record<string, string> = {};
  for (const d of err.details) {
    const field = fieldOfDetail(d.path);
    if (errors[field]) continue;
    errors[field] = field === 'amount' && /more than the disputed/.test(d.message) ? l.t('holds.aboveClaim')
      : field === 'amount' && (/balance|at most/.test(d.message)) ? l.t('holds.aboveBalance') : problemText(d.message, l);
  }
  return { notice: { text: l.t(`holds.error.${code}`), error: true }, errors };
}

/**
 * The holds pages: the room's list of holds expiring soon and disputes waiting for a decision
 * (center staff), or the institution's own holds (liaisons), and every hold form of the report page.
 */
export function holdsPages(deps: Deps): Router {
  const r = Router();
  const { holds, admin } = deps.services;
  const showReport = reportPageRenderer(deps);
  const readers = requireRole('admin', 'supervisor', 'desk_officer', 'liaison');
  const actors = requireRole('desk_officer', 'supervisor');

  const DONE = ['renewed', 'released', 'returned', 'split', 'decided', 'disputed'];

  const holdsPage = async (req: Request, res: Response, extras: { form?: HoldFormState; notice?: { text: string; error: boolean } } = {}, status = 200) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const partner = isPartnerSide(actor);
    const [soon, disputes, institutions] = await Promise.all([
      holds.list(actor, partner ? { status: 'active', limit: LIST_LIMIT } : { expiringSoon: true, limit: LIST_LIMIT }),
      holds.listDisputes(actor, { status: 'open', limit: LIST_LIMIT }),
      admin.listInstitutions(),
    ]);
    const names = new Map(institutions.items.map((i) => [i.id, i.name]));
    const now = new Date();
    const form = extras.form;
    const line = (h: HoldOut) => {
      const mine = form && form.holdId === h.id ? form : undefined;
      return {
        ...presentHoldLine(h, names.get(h.institutionId) ?? h.institutionId, l, now),
        dispute: { claimantName: mine?.values.claimantName ?? '', amount: mine?.values.amount ?? '', reason: mine?.values.reason ?? '', errors: mine?.errors ?? {} },
      };
    };
    const done = typeof req.query.done === 'string' && DONE.includes(req.query.done) ? req.query.done : undefined;
    render(res, 'pages/holds/index', 'holds.title', {
      partner,
      holds: soon.items.map(line),
      disputes: disputes.items.map((d) => presentDispute(d, l, now)),
      notice: extras.notice ?? (done ? { text: l.t(`holds.done.${done}`) } : undefined),
    }, status);
  };

  r.get('/holds', readers, async (req, res) => {
    await holdsPage(req, res);
  });

  /** A liaison (for an account holder of their bank) or a desk officer opens a dispute from the holds page. */
  r.post('/holds/:holdId/disputes', requireRole('liaison', 'desk_officer'), async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const holdId = idOr404(HoldIdParams, req.params.holdId, 'hold');
    const values = typed(req, 'dispute');
    const hold = await holds.get(actor, holdId);
    const read = readDispute(values, hold.currency, l.t);
    const again = (errors: Record<string, string>, notice: { text: string; error: boolean } | undefined, status: number) =>
      holdsPage(req, res, { form: { kind: 'dispute', holdId, values, errors }, notice: notice ?? { text: l.t('holds.error.validation_failed'), error: true } }, status);
    if (!read.body) return again(read.errors, undefined, 400);
    try {
      await holds.openDispute(actor, holdId, read.body);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
      const { notice, errors } = refusal(err, l);
      return again(errors, notice, err.status);
    }
    res.redirect(303, '/holds?done=disputed');
  });

  // ---- the report page's hold forms ---------------------------------------------------------

  const reportIdOf = (raw: unknown): string => idOr404(ReportIdParams, raw, 'report');

  /**
   * One hold form of the report page: read, checked like the API checks it, handed to the service;
   * refused, the report page comes back with what was typed, the reason beside the field or in a notice.
   */
  const onReport = (
    path: string, kind: Exclude<HoldFormKind, 'split'>, done: string,
    act: (ctx: { actor: Actor; reportId: string; id: string; values: Record<string, string>; l: PageLocals }) =>
      Promise<{ errors: Record<string, string> } | { holdId: string }>,
    guard = actors,
  ) => {
    r.post(path, guard, async (req, res) => {
      const l = localsOf(res);
      const reportId = reportIdOf(req.params.id);
      const id = idOr404(kind === 'decision' ? DisputeIdParams : HoldIdParams, req.params.holdId ?? req.params.disputeId, kind === 'decision' ? 'dispute' : 'hold');
      const values = typed(req, kind);
      const state = (errors: Record<string, string>, holdId: string): HoldFormState =>
        kind === 'decision' ? { kind, holdId, disputeId: id, values, errors } : { kind, holdId: id, values, errors };
      const holdOf = async () => (kind === 'decision' ? (await holds.getDispute(actorOf(req), id)).holdId : id);
      try {
        // A form of this report's page acts on this report's holds only; anything else is not found here.
        const owner = kind === 'decision' ? (await holds.getDispute(actorOf(req), id)).reportId : (await holds.get(actorOf(req), id)).reportId;
        if (owner !== reportId) throw new NotFoundError(kind === 'decision' ? 'No such dispute.' : 'No such hold.');
        const outcome = await act({ actor: actorOf(req), reportId, id, values, l });
        if ('errors' in outcome) {
          return showReport(req, res, reportId, { holdForm: state(outcome.errors, await holdOf()), notice: { text: l.t('holds.error.validation_failed'), error: true } }, 400);
        }
        res.redirect(303, `/reports/${reportId}?done=${done}#hold-${outcome.holdId}`);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
        const { notice, errors } = refusal(err, l);
        const holdId = await holdOf().catch(() => id);
        return showReport(req, res, reportId, { holdForm: state(errors, holdId), notice }, err instanceof ValidationError ? 400 : err.status);
      }
    });
  };

  onReport('/reports/:id/holds/:holdId/renew', 'renew', 'renewed', async ({ actor, id, values, l }) => {
    const read = readRenew(values, l.t);
    if (!read.body) return { errors: read.errors };
    await holds.renew(actor, id, read.body);
    return { holdId: id };
  });

  onReport('/reports/:id/holds/:holdId/release', 'release', 'released', async ({ actor, id, values, l }) => {
    const hold = await holds.get(actor, id);
    const read = readRelease(values, hold.availableMinor, hold.currency, l.t);
    if (!read.body) return { errors: read.errors };
    await holds.release(actor, id, read.body);
    return { holdId: id };
  });

  onReport('/reports/:id/holds/:holdId/returns', 'return', 'returned', async ({ actor, id, values, l }) => {
    const hold = await holds.get(actor, id);
    const read = readReturn(values, hold.currency, l.t);
    if (!read.body) return { errors: read.errors };
    await holds.orderReturn(actor, id, read.body);
    return { holdId: id };
  });

  onReport('/reports/:id/holds/:holdId/disputes', 'dispute', 'disputed', async ({ actor, id, values, l }) => {
    const hold = await holds.get(actor, id);
    const read = readDispute(values, hold.currency, l.t);
    if (!read.body) return { errors: read.errors };
    await holds.openDispute(actor, id, read.body);
    return { holdId: id };
  }, requireRole('desk_officer'));

  onReport('/reports/:id/disputes/:disputeId/decision', 'decision', 'decided', async ({ actor, id, values, l }) => {
    const dispute = await holds.getDispute(actor, id);
    const read = readDecision(values, dispute.currency, l.t);
    if (!read.body) return { errors: read.errors };
    await holds.decide(actor, id, read.body);
    return { holdId: dispute.holdId };
  });

  /**
   * The split the officer confirmed or edited: one return per row with an amount and an account,
   * ordered one after another. All rows are checked before the first is ordered; one refused on
   * the way (the balance changed meanwhile) stops the rest, and the page says how many went out.
   */
  r.post('/reports/:id/holds/:holdId/split', actors, async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const reportId = reportIdOf(req.params.id);
    const holdId = idOr404(HoldIdParams, req.params.holdId, 'hold');
    const rows = formRows<SplitRow>(formBody(req), 'rows', () => ({ reportId: '', amount: '', victimAccount: '', victimAccountName: '' }));
    const hold = await holds.get(actor, holdId);
    if (hold.reportId !== reportId) throw new NotFoundError('No such hold.');
    const read = readSplit(rows, hold.currency, l.t);
    const again = (errors: Record<string, string>, rowErrors: Record<string, string>[], notice: { text: string; error: true }, status: number) =>
      showReport(req, res, reportId, { holdForm: { kind: 'split', holdId, values: {}, errors, rows, rowErrors }, notice }, status);
    if (read.orders.length === 0) {
      return again(read.errors, read.rowErrors, { text: read.errors.split ?? l.t('holds.error.validation_failed'), error: true }, 400);
    }
    let ordered = 0;
    for (const order of read.orders) {
      try {
        await holds.orderReturn(actor, holdId, {
          amountMinor: order.amountMinor, victimAccount: order.victimAccount, note: order.note,
          ...(order.victimAccountName ? { victimAccountName: order.victimAccountName } : {}),
        });
        ordered++;
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
        const { notice, errors } = refusal(err, l);
        const rowErrors = read.rowErrors.map((e, i) => (i === order.row ? { ...e, ...errors } : e));
        // The rows already ordered are cleared, so submitting again orders only what is left.
        for (const done of read.orders.slice(0, ordered)) rows[done.row] = { ...rows[done.row]!, amount: '', victimAccount: '' };
        const text = ordered > 0 ? `${l.t('holds.splitPartial', { ordered, total: read.orders.length })} ${notice.text}` : notice.text;
        return again({}, rowErrors, { text, error: true }, err instanceof ValidationError ? 400 : err.status);
      }
    }
    res.redirect(303, `/reports/${reportId}?done=split#hold-${holdId}`);
  });

  return r;
}
