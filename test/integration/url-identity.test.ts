import { randomBytes } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { up as mergeUrlIndicators } from '../../migrations/20261202040000_merge_url_indicators_by_identity';

let t: TestApp;
let platform: TestInstitution;
let platformLiaison: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  platform = await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: '' }] });
  platformLiaison = await t.factories.user({ role: 'liaison', institutionId: platform.id });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const uniq = () => randomBytes(4).toString('hex');

async function file(urls: string[]): Promise<{ id: string; tasks: { id: string; targetValue: string }[] }> {
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ transfers: [], indicators: urls.map((value) => ({ kind: 'url', value })) }));
  expect(res.status).toBe(201);
  return res.body;
}

async function sight(value: string, confidence: 'suspected' | 'confirmed') {
  const res = await t.api.as(platformLiaison).post('/api/v1/feeds').send({
    items: [{ type: 'fraud_indicator', externalId: `s-${uniq()}`, indicator: { kind: 'url', value }, confidence, observedAt: '2026-11-28T10:00:00Z' }],
  });
  expect(res.status).toBe(202);
  await t.deps.services.feeds.processBatch(res.body.batchId);
}

const lookup = async (value: string) =>
  (await t.api.as(officer).post('/api/v1/indicators/lookup').send({ items: [{ kind: 'url', value }] })).body.results[0];

it('when a page is reported over https with a trailing slash and sighted over http without one, then it is one indicator for lookup and search', async () => {
  const host = `phish-${uniq()}.example`;
  await file([`https://${host}/login/`]);
  await sight(`http://${host}/login`, 'confirmed');
  await file([`HTTP://${host.toUpperCase()}/login//`]);

  expect(await t.db('indicators').where({ kind: 'url' }).whereLike('value', `%${host}%`).pluck('value')).toEqual([`http://${host}/login`]);
  for (const spelling of [`https://${host}/login`, `${host}/login/`, `http://${host}/login`]) {
    expect(await lookup(spelling)).toMatchObject({ value: `http://${host}/login`, flagged: true, status: 'confirmed', reportCount: 2, valid: true });
  }
  const found = await t.api.as(officer).get('/api/v1/indicators').query({ kind: 'url', q: `https://${host}/login/` });
  expect(found.status).toBe(200);
  expect(found.body.items.map((i: { value: string }) => i.value)).toEqual([`http://${host}/login`]);
  // One page, one takedown: the second report joined the open task.
  expect(await t.db('tasks').where({ target_kind: 'url', target_value: `http://${host}/login` })).toHaveLength(1);
});

it('the migration merges stored indicators that collapse under the rule: links, sightings, tasks and the strongest status move to one', async () => {
  const host = `merge-${uniq()}.example`;
  // Filed under today's rule as three different pages, then given the spellings older data has.
  const one = await file([`http://${host}/one`]);
  const two = await file([`http://${host}/two`]);
  const both = await file([`http://${host}/one`, `http://${host}/two`, `http://${host}/three`]);
  await sight(`http://${host}/one`, 'confirmed');
  const old = { one: `https://${host}/pay/`, two: `http://${host}/pay`, three: `http://${host}/pay/` };
  for (const [page, value] of Object.entries(old)) {
    await t.db('indicators').where({ kind: 'url', value: `http://${host}/${page}` }).update({ value });
    await t.db('tasks').where({ target_kind: 'url', target_value: `http://${host}/${page}` }).update({
      target_value: value, open_blocking_key: t.db.raw(`split_part(open_blocking_key, '|', 1) || '|' || split_part(open_blocking_key, '|', 2) || '|url|' || ?::text`, [value]),
    });
  }
  await t.db('indicators').where({ kind: 'url', value: old.two }).update({ status: 'blocked' });
  const before = await t.db('indicators').where({ kind: 'url' }).whereLike('value', `%${host}%`).orderBy('value');
  expect(before).toHaveLength(3);
  const keeper = before.find((i) => i.value === old.two)!;
  const earliest = before.reduce((a, b) => (a.first_seen_at < b.first_seen_at ? a : b)).first_seen_at;
  const sightings = await t.db('indicator_sightings').whereIn('indicator_id', before.map((i) => i.id)).pluck('id');
  expect(sightings).toHaveLength(1);
  await t.db('institution_routes').insert({ institution_id: platform.id, indicator_kind: 'url', prefix: `https://${host}/routed` });

  await t.db.transaction((trx) => mergeUrlIndicators(trx));

  const after = await t.db('indicators').where({ kind: 'url' }).whereLike('value', `%${host}%`);
  expect(after).toEqual([expect.objectContaining({ id: keeper.id, value: `http://${host}/pay`, status: 'blocked' })]);
  expect(after[0].first_seen_at).toEqual(earliest);
  const links = await t.db('report_indicators').whereIn('report_id', [one.id, two.id, both.id]).orderBy('report_id');
  expect(links.map((l) => l.indicator_id)).toEqual([keeper.id, keeper.id, keeper.id]);
  expect(links.find((l) => l.report_id === both.id)!.blocking).not.toBeNull();
  expect(await t.db('indicator_sightings').whereIn('id', sightings).pluck('indicator_id')).toEqual([keeper.id]);
  const tasks = await t.db('tasks').whereIn('report_id', [one.id, two.id, both.id]).where({ target_kind: 'url' });
  expect(tasks.length).toBeGreaterThanOrEqual(2);
  expect(new Set(tasks.map((x) => x.target_value))).toEqual(new Set([`http://${host}/pay`]));
  expect(new Set(tasks.map((x) => x.indicator_id))).toEqual(new Set([keeper.id]));
  const keyed = tasks.filter((x) => x.open_blocking_key !== null);
  expect(keyed.map((x) => x.open_blocking_key)).toEqual([`takedown_url|${platform.id}|url|http://${host}/pay`]);
  expect(await t.db('institution_routes').where({ institution_id: platform.id, indicator_kind: 'url' }).whereLike('prefix', `%${host}%`).pluck('prefix'))
    .toEqual([`http://${host}/routed`]);

  // Lookups and reports read the merged indicator, whichever spelling is asked for.
  expect(await lookup(`https://${host}/pay/`)).toMatchObject({ value: `http://${host}/pay`, status: 'blocked', reportCount: 3 });
  const shown = await t.api.as(officer).get(`/api/v1/indicators/${keeper.id}`);
  expect(shown.status).toBe(200);
  expect(JSON.stringify(shown.body)).toContain(one.id);
  // A later report of the same page joins the indicator rather than making a new one.
  await file([`https://${host}/pay/`]);
  expect(await t.db('indicators').where({ kind: 'url' }).whereLike('value', `%${host}%`).pluck('id')).toEqual([keeper.id]);

  // Run again, it changes nothing.
  const snapshot = await t.db('indicators').where({ kind: 'url' }).orderBy('id');
  await t.db.transaction((trx) => mergeUrlIndicators(trx));
  expect(await t.db('indicators').where({ kind: 'url' }).orderBy('id')).toEqual(snapshot);
});
