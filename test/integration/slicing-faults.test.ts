import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineRequest } from '../../src/core/engine.js';
import { generateTenantStore } from '../../scripts/gen-tenants.mjs';
import { answers, edgeRequests, engine, firstMismatch, tempDir } from '../support/slicing.js';

/** Proof that the differential test of scope slicing notices deliberately broken slicers. */

const tmp = tempDir('slicing-faults');
afterAll(() => tmp.remove());

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
