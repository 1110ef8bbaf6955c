import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { Deps } from '../wiring';
import { describeRoute, jsonBody } from '../http/openapi';
import { actorOf, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import { NotFoundError } from '../errors';
import {
  DecisionAnswer, DecisionBody, DisputeBody, DisputeIdParams, DisputeListQuery, DisputeOut, DisputePage, HoldDetail, HoldIdParams,
  HoldListQuery, HoldOut, HoldPage, ReleaseBody, RenewBody, ReturnBody, ReturnOut, SplitOut,
} from './holds.schemas';

const EVERY_ROLE = ['admin', 'supervisor', 'desk_officer', 'liaison', 'partner_system'] as const;
const STAFF = ['admin', 'supervisor', 'desk_officer'] as const;
const ACTS_ON_HOLDS = ['supervisor', 'desk_officer'] as const;
const OPENS_DISPUTES = ['desk_officer', 'liaison', 'partner_system'] as const;

describeRoute({
  method: 'get', path: '/holds', tags: ['holds'],
  summary: 'Holds on frozen money, soonest expiry first; liaisons and partner systems see only their institution\'s.',
  request: { query: HoldListQuery }, ok: HoldPage,
});
describeRoute({
  method: 'get', path: '/holds/:id', tags: ['holds'],
  summary: 'One hold with its returns, disputes and events; another institution\'s hold is 404.',
  request: { params: HoldIdParams }, ok: HoldDetail,
});
describeRoute({
  method: 'post', path: '/holds/:id/renew', tags: ['holds'],
  summary: 'A new term from the old expiry (desk officer, supervisor); stage "freeze" turns a stop-payment into a freeze. 409 renewal_limit, hold_closed.',
  request: { params: HoldIdParams, body: jsonBody(RenewBody) }, ok: HoldOut,
});
describeRoute({
  method: 'post', path: '/holds/:id/release', tags: ['holds'],
  summary: 'Release part or all of the balance (desk officer, supervisor); more than the balance is 400, money reserved by pending returns 409 insufficient_balance; a hold left with nothing is closed.',
  request: { params: HoldIdParams, body: jsonBody(ReleaseBody) }, ok: HoldOut,
});
describeRoute({
  method: 'post', path: '/holds/:id/returns', tags: ['holds'],
  summary: 'Order a return to a victim (desk officer, supervisor): a return_funds task at the holding bank, whose target is the victim\'s account and whose parent is the freezing task; the amount is reserved until the bank answers { outcome: "returned", returnedMinor } or rejected. 409 insufficient_balance, hold_closed.',
  request: { params: HoldIdParams, body: jsonBody(ReturnBody) }, ok: ReturnOut, okStatus: 201,
});
describeRoute({
  method: 'get', path: '/holds/:id/split', tags: ['holds'],
  summary: 'A proposed pro-rata split of the available balance among the victims who reported paying into the held account (center staff).',
  request: { params: HoldIdParams }, ok: SplitOut,
});
describeRoute({
  method: 'post', path: '/holds/:id/disputes', tags: ['disputes'],
  summary: 'An account holder disputes a hold (the holding bank\'s liaison or system, or a desk officer); due after DISPUTE_DUE_SECONDS.',
  request: { params: HoldIdParams, body: jsonBody(DisputeBody) }, ok: DisputeOut, okStatus: 201,
});
describeRoute({
  method: 'get', path: '/disputes', tags: ['disputes'],
  summary: 'Disputes, soonest due first; liaisons and partner systems see only their institution\'s.',
  request: { query: DisputeListQuery }, ok: DisputePage,
});
describeRoute({
  method: 'get', path: '/disputes/:id', tags: ['disputes'],
  summary: 'One dispute; another institution\'s is 404.',
  request: { params: DisputeIdParams }, ok: DisputeOut,
});
describeRoute({
  method: 'post', path: '/disputes/:id/decision', tags: ['disputes'],
  summary: 'Decide a dispute (desk officer, supervisor): release (default: the disputed amount) or reject, with a reason. A second decision is 409 dispute_closed.',
  request: { params: DisputeIdParams, body: jsonBody(DecisionBody) }, ok: DecisionAnswer,
});

/** A malformed id names nothing: 404, like anything the caller cannot see. */
function idOf(req: Request, schema: z.ZodType<{ id: string }>, what: string): string {
  const params = schema.safeParse(req.params);
  if (!params.success) throw new NotFoundError(`No such ${what}.`);
  return params.data.id;
}

const holdId = (req: Request) => idOf(req, HoldIdParams, 'hold');
const disputeId = (req: Request) => idOf(req, DisputeIdParams, 'dispute');

export function holdsRoutes(deps: Deps): Router {
  const r = Router();
  const { holds } = deps.services;

  r.get('/holds', requireRole(...EVERY_ROLE), async (req, res) => {
    res.json(await holds.list(actorOf(req), parse(HoldListQuery, req.query)));
  });

  r.get('/holds/:id', requireRole(...EVERY_ROLE), async (req, res) => {
    res.json(await holds.get(actorOf(req), holdId(req)));
  });

  r.post('/holds/:id/renew', requireRole(...ACTS_ON_HOLDS), async (req, res) => {
    const id = holdId(req);
    res.json(await holds.renew(actorOf(req), id, parse(RenewBody, req.body)));
  });

  r.post('/holds/:id/release', requireRole(...ACTS_ON_HOLDS), async (req, res) => {
    const id = holdId(req);
    res.json(await holds.release(actorOf(req), id, parse(ReleaseBody, req.body)));
  });

  r.post('/holds/:id/returns', requireRole(...ACTS_ON_HOLDS), async (req, res) => {
    const id = holdId(req);
    res.status(201).json(await holds.orderReturn(actorOf(req), id, parse(ReturnBody, req.body)));
  });

  r.get('/holds/:id/split', requireRole(...STAFF), async (req, res) => {
    res.json(await holds.split(actorOf(req), holdId(req)));
  });

  r.post('/holds/:id/disputes', requireRole(...OPENS_DISPUTES), async (req, res) => {
    const id = holdId(req);
    res.status(201).json(await holds.openDispute(actorOf(req), id, parse(DisputeBody, req.body)));
  });

  r.get('/disputes', requireRole(...EVERY_ROLE), async (req, res) => {
    res.json(await holds.listDisputes(actorOf(req), parse(DisputeListQuery, req.query)));
  });

  r.get('/disputes/:id', requireRole(...EVERY_ROLE), async (req, res) => {
    res.json(await holds.getDispute(actorOf(req), disputeId(req)));
  });

  r.post('/disputes/:id/decision', requireRole(...ACTS_ON_HOLDS), async (req, res) => {
    const id = disputeId(req);
    res.json(await holds.decide(actorOf(req), id, parse(DecisionBody, req.body)));
  });

  return r;
}
