import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every test but the long runs (`*.long.test.ts`: the slicing differentials at 1,000
 * and 10,000 tenants and on store variants), which `npm run test:long` runs (vitest.long.config.ts);
 * CI runs both.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/*.long.test.ts', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and peers on ephemeral ports; forks keep cedar-wasm state per file.
    pool: 'forks',
  },
});
