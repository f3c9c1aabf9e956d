import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // e2e suites that drive real peers run through their own scripts (npm run test:srf)
    exclude: ['test/e2e/srf/**', 'node_modules/**'],
    testTimeout: 20000,
    hookTimeout: 20000,
    pool: 'forks',
  },
});
