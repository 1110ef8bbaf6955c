import request from 'supertest';
import { createApp } from '../../server/app';
import { createDeps, type Deps } from '../../server/wiring';
import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';

const LIMIT = 3;

let t: TestApp;
/** A second web process's app on the same database and store: its own memory, the same counters. */
let otherDeps: Deps;
let other: ReturnType<typeof createApp>;

beforeAll(async () => {
  // TRUST_PROXY: the tests speak from several client addresses through X-Forwarded-For.
  t = await testApp({ LOGIN_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'true' });
  otherDeps = createDeps(t.config);
  other = createApp(otherDeps);
});
afterAll(async () => {
  await otherDeps.close();
  await t.close();
});

let address = 10;
const newAddress = () => `203.0.113.${address++}`;
const login = (app: ReturnType<typeof createApp>, from: string, username: string, password: string) =>
  request(app).post('/api/v1/auth/login').set('X-Forwarded-For', from).send({ username, password });

describe('login limits', () => {
  it('when a stranger hammers an account from one address, then only that address is refused, and the right password from another address still works', async () => {
    const victim = await t.factories.user({ role: 'desk_officer' });
    const stranger = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) statuses.push((await login(t.app, stranger, victim.username, `guess-${i}`)).status);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429, 429]);
    const refused = await login(t.app, stranger, victim.username, victim.password);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String), details: [] } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    // The victim, at their own desk, gets in.
    expect((await login(t.app, newAddress(), victim.username, victim.password)).status).toBe(200);
  });

  it('when 16 correct logins of one account run at once from one address, then none is refused', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    const from = newAddress();
    const answers = await Promise.all(Array.from({ length: 16 }, () => login(t.app, from, officer.username, officer.password)));
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
  });

  it('when one address sweeps many usernames, then its address budget runs out', async () => {
    const from = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 5 + 1; i++) statuses.push((await login(t.app, from, `sweep-${i}`, 'guess-password')).status);
    expect(statuses.slice(0, LIMIT * 5).every((s) => s === 401)).toBe(true);
    expect(statuses[LIMIT * 5]).toBe(429);
    // A colleague elsewhere is untouched.
    expect((await login(t.app, newAddress(), 'sweep-0', 'guess-password')).status).toBe(401);
  });

  it('when failures happen at one web process, then they count at the other', async () => {
    const victim = await t.factories.user({ role: 'desk_officer' });
    const from = newAddress();
    for (let i = 0; i < LIMIT; i++) {
      const app = i % 2 === 0 ? t.app : other;
      expect((await login(app, from, victim.username, `guess-${i}`)).status).toBe(401);
    }
    expect((await login(other, from, victim.username, victim.password)).status).toBe(429);
    expect((await login(t.app, from, victim.username, victim.password)).status).toBe(429);
  });

  it('when API failures used up the budget, then the page login from that address is refused too', async () => {
    const victim = await t.factories.user({ role: 'desk_officer' });
    const from = newAddress();
    for (let i = 0; i < LIMIT; i++) expect((await login(t.app, from, victim.username, `guess-${i}`)).status).toBe(401);
    const s = pageSession(t.app);
    const page = await s.get('/login');
    expect(page.status).toBe(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await s.agent.post('/login').type('form').set('Accept', 'text/html').set('X-Forwarded-For', from)
      .send(new URLSearchParams({ username: victim.username, password: victim.password, _csrf: token }).toString());
    expect(res.status).toBe(429);
    // The page's own failures count as well: another address's budget runs out by the form.
    const elsewhere = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      const r = await s.agent.post('/login').type('form').set('Accept', 'text/html').set('X-Forwarded-For', elsewhere)
        .send(new URLSearchParams({ username: victim.username, password: `guess-${i}`, _csrf: token }).toString());
      statuses.push(r.status);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
  });
});

describe('client-credential limits', () => {
  it('when a secret is guessed, then that client from that address is refused, the client elsewhere still gets a token, and another process counts the same', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const bank = await t.factories.institution({ kind: 'bank' });
    const created = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank.id, name: 'core banking' });
    expect(created.status).toBe(201);
    const { clientId, clientSecret } = created.body as { clientId: string; clientSecret: string };
    const exchange = (app: ReturnType<typeof createApp>, from: string, secret: string) =>
      request(app).post('/api/v1/auth/token').set('X-Forwarded-For', from).send({ clientId, clientSecret: secret });

    const stranger = newAddress();
    for (let i = 0; i < LIMIT; i++) {
      expect((await exchange(i % 2 ? other : t.app, stranger, `guess-secret-${i}`)).status).toBe(401);
    }
    const refused = await exchange(other, stranger, clientSecret);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect((await exchange(t.app, newAddress(), clientSecret)).status).toBe(200);

    // Per address, whatever the client id.
    const sweeper = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT * 5; i++) {
      statuses.push((await request(t.app).post('/api/v1/auth/token').set('X-Forwarded-For', sweeper).send({ clientId: `sweep-${i}`, clientSecret: 'x'.repeat(20) })).status);
    }
    expect(statuses.slice(0, LIMIT * 5).every((s) => s === 401)).toBe(true);
    expect(statuses[LIMIT * 5]).toBe(429);
  });
});
