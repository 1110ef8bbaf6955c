import { Router } from 'express';
import type { Deps } from '../wiring';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { caseStatusLimiter } from './case-status.limiter';
import { CaseStatus, CaseStatusBody } from './case-status.schemas';

describeRoute({
  method: 'post',
  path: '/public/case-status',
  tags: ['victims'],
  summary: 'A victim\'s case status by case number and access code (no login; rate limited per address). '
    + 'A wrong code answers exactly like an unknown case: 404',
  request: { body: jsonBody(CaseStatusBody) },
  ok: CaseStatus,
  public: true,
});

/** The public face of the API: no login, no cookie, nothing to forge (exempt from CSRF). */
export function publicRoutes(deps: Deps): Router {
  const r = Router();
  r.post('/case-status', caseStatusLimiter(deps), async (req, res) => {
    const query = parse(CaseStatusBody, req.body);
    res.set('Cache-Control', 'no-store').json(await deps.services.caseStatus.status(query));
  });
  return r;
}
