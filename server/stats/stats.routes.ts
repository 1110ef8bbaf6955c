import { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../wiring';
import { describeRoute } from '../http/openapi';
import { requireRole } from '../http/auth';
import { parse } from '../http/validate';
import { sendExactJson } from '../http/json';
import { StatsQuery, StatsSummary } from './stats.schemas';

describeRoute({
  method: 'get', path: '/stats/summary', tags: ['stats'],
  summary: 'Reports, loss reported and prevented, task counts, medians, per institution, per fraud type and per day.',
  request: { query: StatsQuery }, ok: StatsSummary,
});
describeRoute({
  method: 'get', path: '/stats/export.csv', tags: ['stats'],
  summary: 'The per-institution rows of the summary as CSV.',
  request: { query: StatsQuery }, ok: z.string(), okContentType: 'text/csv',
});

export function statsRoutes(deps: Deps): Router {
  const r = Router();
  const stats = deps.services.stats;

  r.get('/summary', requireRole('admin', 'supervisor'), async (req, res) => {
    sendExactJson(res, await stats.summary(parse(StatsQuery, req.query)));
  });

  r.get('/export.csv', requireRole('admin', 'supervisor'), async (req, res) => {
    const { period, csv } = await stats.exportCsv(parse(StatsQuery, req.query));
    res
      .type('text/csv; charset=utf-8')
      .attachment(`afrc-institutions-${period.from}-${period.to}.csv`)
      .send(csv);
  });

  return r;
}
