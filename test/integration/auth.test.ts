import jwt from 'jsonwebtoken';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestUser } from '../helpers/factories';

let t: TestApp;
let bank: string;
beforeAll(async () => {
  t = await testApp();
  bank = (await t.factories.institution({ kind: 'bank' })).id;
});
afterAll(() => t.close());

const PROTECTED = '/api/v1/institutions';

describe('POST /api/v1/auth/login', () => {
  it('answers a token, its expiry and the user, and the token opens protected routes', async () => {
    const user = await t.factories.user({ role: 'desk_officer' });
    const res = await t.api.raw().post('/api/v1/auth/login').send({ username: user.username.toUpperCase(), password: user.password });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      token: expect.any(String),
      expiresAt: expect.stringMatching(/Z$/),
      user: { id: user.id, username: user.username, displayName: user.username, role: 'desk_officer', institutionId: null },
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + (t.config.jwt.ttlSeconds - 60) * 1000);
    const ok = await t.api.raw().get(PROTECTED).set('Authorization', `Bearer ${res.body.token}`);
    expect(ok.status).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const user = await t.factories.user({ role: 'supervisor' });
    for (const body of [{ username: user.username, password: 'not-the-password' }, { username: 'nobody-here', password: 'whatever-password' }]) {
      const res = await t.api.raw().post('/api/v1/auth/login').send(body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'invalid_credentials', message: expect.any(String), details: [] } });
    }
  });

  it('refuses a deactivated user', async () => {
    const user = await t.factories.user({ role: 'desk_officer' });
    await t.db('users').where({ id: user.id }).update({ active: false });
    const res = await t.api.raw().post('/api/v1/auth/login').send({ username: user.username, password: user.password });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_credentials');
  });

  it('answers validation_failed for a body without a password', async () => {
    const res = await t.api.raw().post('/api/v1/auth/login').send({ username: 'someone' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'password' })]);
  });

  it('answers malformed_json for a body that is not JSON', async () => {
    const res = await t.api.raw().post('/api/v1/auth/login').set('Content-Type', 'application/json').send('{"username": "x",');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('answers 415 for a body that is not JSON by content type', async () => {
    const res = await t.api.raw().post('/api/v1/auth/login').set('Content-Type', 'text/plain').send('username=x&password=y');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });
});

describe('POST /api/v1/auth/token', () => {
  it('exchanges client credentials for a partner_system token scoped to the institution', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const created = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank, name: 'core banking' });
    expect(created.status).toBe(201);
    const res = await t.api.raw().post('/api/v1/auth/token').send({ clientId: created.body.clientId, clientSecret: created.body.clientSecret });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: t.config.jwt.ttlSeconds });
    const claims = jwt.decode(res.body.accessToken) as Record<string, unknown>;
    expect(claims).toMatchObject({ role: 'partner_system', inst: bank, act: 'api_client' });
    expect((await t.api.raw().get(PROTECTED).set('Authorization', `Bearer ${res.body.accessToken}`)).status).toBe(200);
  });

  it('refuses a wrong secret and an unknown client', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const created = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank, name: 'cards' });
    for (const body of [
      { clientId: created.body.clientId, clientSecret: 'wrong-secret' },
      { clientId: 'no-such-client', clientSecret: created.body.clientSecret },
    ]) {
      const res = await t.api.raw().post('/api/v1/auth/token').send(body);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_credentials');
    }
  });

  it('stops a revoked client and its tokens', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const created = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank, name: 'fraud desk' });
    const token = (await t.api.raw().post('/api/v1/auth/token').send({ clientId: created.body.clientId, clientSecret: created.body.clientSecret })).body.accessToken;
    const revoked = await t.api.as(admin).delete(`/api/v1/api-clients/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await t.api.raw().get(PROTECTED).set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const again = await t.api.raw().post('/api/v1/auth/token').send({ clientId: created.body.clientId, clientSecret: created.body.clientSecret });
    expect(again.status).toBe(401);
  });
});

describe('bearer tokens', () => {
  let user: TestUser;
  beforeAll(async () => { user = await t.factories.user({ role: 'supervisor' }); });

  const claims = () => ({ typ: 'access', act: 'user', name: user.username, role: user.role, inst: null, gen: 0 });
  const sign = (opts: jwt.SignOptions, secret = t.config.jwt.secret, payload: object = claims()) =>
    jwt.sign(payload, secret, { algorithm: 'HS256', subject: user.id, issuer: t.config.jwt.issuer, audience: t.config.jwt.audience, expiresIn: 600, ...opts });
  const expect401 = async (token: string) => {
    const res = await t.api.raw().get(PROTECTED).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: [] } });
  };

  it('accepts a well-formed token (control)', async () => {
    expect((await t.api.raw().get(PROTECTED).set('Authorization', `Bearer ${sign({})}`)).status).toBe(200);
  });

  it('answers 401 without a token', async () => {
    const res = await t.api.raw().get(PROTECTED);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ ...claims(), sub: user.id, iss: t.config.jwt.issuer, aud: t.config.jwt.audience, iat: now, exp: now + 600 })}.`;
    await expect401(token);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(jwt.sign({ ...claims(), iat: now - 7200, exp: now - 60 }, t.config.jwt.secret, {
      algorithm: 'HS256', subject: user.id, issuer: t.config.jwt.issuer, audience: t.config.jwt.audience,
    }));
  });

  it('refuses a tampered payload and a foreign signature', async () => {
    const [header, , signature] = sign({}).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims(), role: 'admin', sub: user.id, iss: t.config.jwt.issuer, aud: t.config.jwt.audience, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    await expect401(`${header}.${forged}.${signature}`);
    await expect401(sign({}, 'another-secret-that-is-long-enough-for-hs256'));
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    await expect401(sign({ issuer: 'someone-else' }));
    await expect401(sign({ audience: 'another-app' }));
  });

  it('refuses the token of a user deactivated after it was issued', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    const admin = await t.factories.user({ role: 'admin' });
    expect((await t.api.as(officer).get(PROTECTED)).status).toBe(200);
    const res = await t.api.as(admin).patch(`/api/v1/users/${officer.id}`).send({ active: false });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    await expect401(t.tokenFor(officer));
  });
});

describe('login rate limits', () => {
  let limited: TestApp;
  beforeAll(async () => { limited = await testApp({ LOGIN_RATE_LIMIT: '2' }); });
  afterAll(() => limited.close());

  const login = (username: string, password: string) => limited.api.raw().post('/api/v1/auth/login').send({ username, password });

  it('limits failed attempts per username, then per address, with rate_limited', async () => {
    const victim = await limited.factories.user({ role: 'desk_officer' });
    const other = await limited.factories.user({ role: 'desk_officer' });
    expect((await login(victim.username, 'wrong-password-1')).status).toBe(401);
    expect((await login(victim.username.toUpperCase(), 'wrong-password-2')).status).toBe(401);
    const blocked = await login(victim.username, victim.password);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String), details: [] } });

    // Another account from the same address still gets in: the username budget is per account.
    expect((await login(other.username, other.password)).status).toBe(200);

    // Sweeping many usernames from one address runs into the address budget (5 × 2 failures).
    const statuses: number[] = [];
    for (let i = 0; i < 10 && statuses[statuses.length - 1] !== 429; i++) {
      statuses.push((await login(`sweep-${i}`, 'guess-password')).status);
    }
    expect(statuses[statuses.length - 1]).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    // The limit counts per app: the main test app was not affected.
    expect((await t.api.raw().post('/api/v1/auth/login').send({ username: 'sweep-0', password: 'x' })).status).toBe(401);
  });
});
