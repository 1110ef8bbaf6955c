import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { quota } from '../http/quotas';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { ScreeningAnswer, ScreeningBody } from './screening.schemas';

describeRoute({
  method: 'post',
  path: '/screening',
  tags: ['screening'],
  summary: 'Screen up to 1000 payments before they leave: allow, warn or hold by the payee, in request order; '
    + 'each warn or hold opens one warn_payer task at the payer\'s bank, once per ref',
  request: { body: jsonBody(ScreeningBody) },
  ok: ScreeningAnswer,
  errors: { 429: 'rate_limited: this account\'s screening quota (QUOTA_SCREENING_*) is spent for now; Retry-After says when to try again' },
});

/** Banks screen their own customers' payments: partner-side roles only, as their institution. */
export function screeningRoutes(deps: Deps): Router {
  const r = Router();
  r.post('/', requireRole('liaison', 'partner_system'), quota(deps, 'screening'), async (req, res) => {
    const { items } = parse(ScreeningBody, req.body);
    res.json({ results: await deps.services.screening.screen(actorOf(req), items) });
  });
  return r;
}
