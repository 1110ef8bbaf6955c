/** @type {import('jest').Config} */
const base = require('./jest.config');

// The fault suite: real web and worker processes started, killed and cut off by the tests, one file at a time.
module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
};
