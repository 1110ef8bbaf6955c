import { Router } from 'express';
import type { Deps } from '../wiring';
import { requireAuth, requireRole } from '../http/auth';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import {
  IndicatorDetail, IndicatorIdParams, IndicatorListQuery, IndicatorPage, LookupAnswer, LookupBody,
} from './indicators.schemas';

describeRoute({
  method: 'post',
  path: '/indicators/lookup',
  tags: ['indicators'],
  summary: 'Screen up to 1000 values (payment screening): normalized, in request order, one database round trip',
  request: { body: jsonBody(LookupBody) },
  ok: LookupAnswer,
});

describeRoute({
  method: 'get',
  path: '/indicators',
  tags: ['indicators'],
  summary: 'Search indicators (q matches any part of the normalized value), most recently seen first',
  request: { query: IndicatorListQuery },
  ok: IndicatorPage,
});

describeRoute({
  method: 'get',
  path: '/indicators/:id',
  tags: ['indicators'],
  summary: 'One indicator with its sightings, the reports that cite it and the tasks against it',
  request: { params: IndicatorIdParams },
  ok: IndicatorDetail,
});

/** Center staff read the intelligence (it names reports); every role may screen values. */
const CENTER_ROLES = ['admin', 'supervisor', 'desk_officer'] as const;

export function indicatorsRoutes(deps: Deps): Router {
  const r = Router();
  r.post('/lookup', requireAuth, async (req, res) => {
    const { items } = parse(LookupBody, req.body);
    res.json({ results: await deps.services.indicators.lookup(items) });
  });
  r.get('/', requireRole(...CENTER_ROLES), async (req, res) => {
    const query = parse(IndicatorListQuery, req.query);
    res.json(await deps.services.indicators.list(query));
  });
  r.get('/:id', requireRole(...CENTER_ROLES), async (req, res) => {
    const { id } = parse(IndicatorIdParams, req.params);
    res.json(await deps.services.indicators.get(id));
  });
  return r;
}
