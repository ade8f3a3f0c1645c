/**
 * Jest runs every test in TypeScript through ts-jest. tsconfig's `isolatedModules` makes ts-jest
 * transpile file by file (fast); `npm test` type-checks the whole project with `tsc --noEmit` first.
 *
 * The global setup synthesizes the default CDK stack ONCE per run (cdk-nag included) and shares its template with
 * the test files (`test/global-setup.ts`, `defaultTemplate()` in `test/infra/synth.ts`); the teardown deletes it.
 * The load tests run small here; `npm run test:load` runs them at full size (SOFTPHONE_LOAD_TEST=full).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', {}],
  },
  setupFiles: ['<rootDir>/test/setup.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
  // CDK synthesis and browser tests are heavy; two workers fit the 2-core CI machine.
  maxWorkers: 2,
};
