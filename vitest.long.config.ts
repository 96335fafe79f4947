import { defineConfig } from 'vitest/config';

/** `npm run test:long`: the long differential runs that `npm test` leaves out (see vitest.config.ts). */
export default defineConfig({
  test: {
    include: ['src/**/*.long.test.ts', 'test/**/*.long.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
