import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineRequest } from '../../src/core/engine.js';
import { generateTenantStore } from '../../scripts/gen-tenants.mjs';
import { answers, edgeRequests, engine, firstMismatch, tempDir } from '../support/slicing.js';

/**
 * The differential test of scope slicing (see slicing-differential.test.ts) on store variants, and
 * proof that it notices deliberately broken slicers. A separate file, so that it runs in parallel.
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

describe('the differential check catches broken slicers', () => {
  const tenants = 200;
  const dir = path.join(tmp.dir, 'broken');
  let reference: unknown[] = [];
  let requests: EngineRequest[] = [];

  it.each([
    { label: 'action groups ignored', faults: { ignoreActionGroups: true } },
    { label: '`in` treated as `==`', faults: { inAsEquals: true } },
  ])(
    '$label',
    async ({ faults }) => {
      if (!reference.length) {
        generateTenantStore(dir, { tenants });
        requests = edgeRequests(tenants, 600, 5);
        reference = await answers(engine(dir, 'off'), requests);
      }
      const broken = await answers(engine(dir, 'on', { faults }), requests);
      const found = firstMismatch(reference, broken, requests);
      expect(found, 'a broken slicer went unnoticed').toBeDefined();
      expect(found!.mismatches).toBeGreaterThan(0);
    },
    180_000,
  );
});
