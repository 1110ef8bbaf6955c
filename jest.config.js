/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 30000,
  // Two cores on the CI machines; each file has its own database and queue prefix, so files may run side by side.
  maxWorkers: 2,
};
