/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite starts and kills real processes; it runs apart, as `npm run test:faults`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Without a reachable PostgreSQL the run starts an embedded one, and stops it at the end.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Besides the usual summary, every skipped test by name with its reason (Redis-only tests on the PostgreSQL queue backend).
  reporters: ['default', '<rootDir>/test/helpers/skipped-tests-reporter.js'],
  testTimeout: 30000,
  // Two cores on the CI machines; each file has its own database and queue prefix, so files may run side by side.
  maxWorkers: 2,
};
