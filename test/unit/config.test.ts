import { ConfigError, parseConfig } from '../../server/config';

const problemsOf = (env: Record<string, string | undefined>): string[] => {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

it('has working defaults for development', () => {
  const config = parseConfig({});
  expect(config.env).toBe('development');
  expect(config.port).toBe(3000);
  expect(config.defaultCurrency).toBe('CNY');
  expect(config.defaultRegion).toBe('CN');
  expect(config.usingDevJwtSecret).toBe(true);
  expect(config.admin).toBeUndefined();
  expect(Object.isFrozen(config)).toBe(true);
});

it('reports every invalid setting on its own line', () => {
  const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DEFAULT_CURRENCY: 'yuan', JWT_SECRET: 'short' });
  expect(problems).toHaveLength(4);
  for (const name of ['PORT', 'DATABASE_URL', 'DEFAULT_CURRENCY', 'JWT_SECRET']) {
    expect(problems.filter((p) => p.startsWith(`${name}:`))).toHaveLength(1);
  }
  expect(problems.every((p) => !p.includes('\n'))).toBe(true);
  expect(() => parseConfig({ PORT: 'eighty' })).toThrow(/invalid configuration:\nPORT: /);
});

it('requires JWT_SECRET in production', () => {
  expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['JWT_SECRET: is required when NODE_ENV=production']);
  const config = parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) });
  expect(config.jwt.secret).toBe('x'.repeat(32));
  expect(config.usingDevJwtSecret).toBe(false);
});

it('takes the admin only with both username and a long enough password', () => {
  expect(parseConfig({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'long-enough-pass' }).admin).toEqual({ username: 'root', password: 'long-enough-pass' });
  expect(parseConfig({ ADMIN_USERNAME: 'root' }).admin).toBeUndefined();
  expect(problemsOf({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' })).toEqual([expect.stringMatching(/^ADMIN_PASSWORD: /)]);
});

it('reads the login rate limit and due minutes', () => {
  const config = parseConfig({ LOGIN_RATE_LIMIT: '3', DUE_MINUTES_INTERCEPT_FUNDS: '15' });
  expect(config.loginRateLimit).toBe(3);
  expect(config.dueMinutes.intercept_funds).toBe(15);
  expect(problemsOf({ LOGIN_RATE_LIMIT: '0' })).toEqual([expect.stringMatching(/^LOGIN_RATE_LIMIT: /)]);
});

it('runs the queues on Redis when REDIS_URL is set, on PostgreSQL when it is not, unless QUEUE_BACKEND says', () => {
  expect(parseConfig({ REDIS_URL: 'redis://10.0.0.5:6379' })).toMatchObject({ queueBackend: 'redis', redisUrl: 'redis://10.0.0.5:6379' });
  expect(parseConfig({}).queueBackend).toBe('postgres');
  expect(parseConfig({ QUEUE_BACKEND: 'redis' })).toMatchObject({ queueBackend: 'redis', redisUrl: 'redis://127.0.0.1:6379' });
  expect(parseConfig({ QUEUE_BACKEND: 'postgres', REDIS_URL: 'redis://10.0.0.5:6379' }).queueBackend).toBe('postgres');
  expect(problemsOf({ QUEUE_BACKEND: 'kafka' })).toEqual([expect.stringMatching(/^QUEUE_BACKEND: /)]);
});
