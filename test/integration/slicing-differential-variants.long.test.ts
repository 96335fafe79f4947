import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTenantStore } from '../../scripts/gen-tenants.mjs';
import { answers, edgeRequests, engine, firstMismatch, tempDir } from '../support/slicing.js';

/**
 * The differential test of scope slicing (see slicing-differential.test.ts) on store variants: a
 * minute of CPU, so in `npm run test:long`.
 */

const tmp = tempDir('slicing-diff-variants');
afterAll(() => tmp.remove());

describe('slicing on vs off, store variants (100 tenants)', () => {
  it.each([
    { label: 'no schema (action groups from entities.json)', schema: false, staticHierarchy: false },
    {
      label: 'tenant hierarchy in entities.json (static entities pruned per decision)',
      schema: true,
      staticHierarchy: true,
    },
    { label: 'no schema and static hierarchy', schema: false, staticHierarchy: true },
  ])(
    '$label',
    async ({ schema, staticHierarchy }) => {
      const dir = path.join(tmp.dir, `v-${schema}-${staticHierarchy}`);
      generateTenantStore(dir, { tenants: 100, schema, staticHierarchy });
      const requests = edgeRequests(100, 800, 77, staticHierarchy);
      const reference = await answers(engine(dir, 'off'), requests);
      const sliced = await answers(engine(dir, 'on'), requests);
      expect(firstMismatch(reference, sliced, requests)).toBeUndefined();
      // The native evaluator, sliced, against cedar-wasm unsliced (ids, not messages).
      const referenceIds = await answers(engine(dir, 'off'), requests, false);
      const native = await answers(engine(dir, 'on', { evaluator: 'native' }), requests, false);
      expect(firstMismatch(referenceIds, native, requests)).toBeUndefined();
    },
    180_000,
  );
});
