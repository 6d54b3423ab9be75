import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests run real servers, agents and load generators: two at once on two cores is the limit.
    maxWorkers: 2,
    pool: 'forks',
  },
});
