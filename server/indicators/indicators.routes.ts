import { Router } from 'express';
import type { Deps } from '../wiring';
import { requireAuth, requireRole } from '../http/auth';
import { quota } from '../http/quotas';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { streamJsonArray } from '../http/streaming';
import { STIX_EXPORT } from '../standards/media-types';
import { newBundleId, stixIdentity, stixIndicator } from '../standards/stix';
import { mispAttribute, mispEventHead } from '../standards/misp';
import {
  IndicatorDetail, IndicatorExportQuery, IndicatorIdParams, IndicatorListQuery, IndicatorPage, LookupAnswer, LookupBody, MispEventOut,
  StixBundleOut,
} from './indicators.schemas';

describeRoute({
  method: 'post',
  path: '/indicators/lookup',
  tags: ['indicators'],
  summary: 'Screen up to 1000 values (payment screening): normalized, in request order, one database round trip',
  request: { body: jsonBody(LookupBody) },
  ok: LookupAnswer,
  errors: { 429: 'rate_limited: this account\'s lookup quota (QUOTA_LOOKUPS_*) is spent for now; Retry-After says when to try again' },
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
  path: '/indicators/export.stix',
  tags: ['indicators', 'standards'],
  summary: 'The flagged indicators as a STIX 2.1 bundle (every role), valid against the OASIS STIX 2.1 JSON schemas',
  description: 'An identity for the center, then one indicator per indicator: pattern_type stix, a single equality pattern '
    + '(url:value, domain-name:value, or x-afrc-phone / x-afrc-sms-sender / x-afrc-bank-account / x-afrc-payment-account / '
    + 'x-afrc-im-account :value), an id that stays the same for the same kind and value from one export to the next '
    + '(UUIDv5), valid_from (first seen), confidence 85 for confirmed and blocked, 50 for suspected.',
  request: { query: IndicatorExportQuery },
  ok: StixBundleOut,
  okContentType: STIX_EXPORT,
});

describeRoute({
  method: 'get',
  path: '/indicators/export.misp',
  tags: ['indicators', 'standards'],
  summary: 'The flagged indicators as one MISP event (every role), one attribute per indicator',
  description: 'Attribute types: phone-number (phone, sms_sender), url, domain, bank-account-nr (bank_account, payment_account), '
    + 'text in Social network (im_account); each tagged afrc:kind="…" and afrc:status="…", with a uuid that stays the same '
    + 'for the same kind and value.',
  request: { query: IndicatorExportQuery },
  ok: MispEventOut,
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
  r.post('/lookup', requireAuth, quota(deps, 'lookups'), async (req, res) => {
    const { items } = parse(LookupBody, req.body);
    res.json({ results: await deps.services.indicators.lookup(items) });
  });
  // Exports are the center's intelligence as other systems read it: every role may take them.
  r.get('/export.stix', requireAuth, async (req, res) => {
    const query = parse(IndicatorExportQuery, req.query);
    const { centerName } = deps.config;
    const head = `{"type":"bundle","id":${JSON.stringify(newBundleId())},"objects":[${JSON.stringify(stixIdentity(centerName))}`;
    const pages = deps.services.indicators.exportPages(query);
    // The identity opens the array: the indicators follow it.
    await streamJsonArray(res, STIX_EXPORT, head, pages, (i) => stixIndicator(i, centerName), ']}', true);
  });
  r.get('/export.misp', requireAuth, async (req, res) => {
    const query = parse(IndicatorExportQuery, req.query);
    const event = mispEventHead(deps.config.centerName, query, new Date());
    const head = `{"Event":${JSON.stringify(event).slice(0, -1)},"Attribute":[`;
    await streamJsonArray(res, 'application/json; charset=utf-8', head, deps.services.indicators.exportPages(query), mispAttribute, ']}}');
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
