/**
 * Jest runs every test in TypeScript through ts-jest. tsconfig's `isolatedModules` makes ts-jest
 * transpile file by file (fast); `npm test` type-checks the whole project with `tsc --noEmit` first.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', {}] },
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 30000,
  // CDK synthesis and browser tests are heavy; two workers fit the 2-core CI machine.
  maxWorkers: 2,
};
