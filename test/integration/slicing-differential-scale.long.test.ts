import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTenantStore } from '../../scripts/gen-tenants.mjs';
import { answers, edgeRequests, engine, firstMismatch, kindOf, tempDir } from '../support/slicing.js';

/**
 * Differential test of scope slicing: the same requests answered by a store evaluating every
 * policy (slicing off: the reference) and by one evaluating only the scope-matching slice (on) must
 * agree on everything — decision, determining policies and erroring policies as sets, and
 * request-level rejections. The request mix (scripts/gen-tenants.mjs, `edge`) covers forbids,
 * cross-tenant resources and groups, unknown actions, action groups, transitive groups, missing and
 * duplicate entities, evaluation errors and requests that do not fit the schema.
 */

const tmp = tempDir('slicing-diff-scale');
afterAll(() => tmp.remove());

// The scale cases of slicing-differential.test.ts: minutes of CPU, so in `npm run test:long`.
const cases = [
  { tenants: 1_000, requests: 1_500, timeout: 300_000 },
  // Unsliced, every decision at 10,000 tenants evaluates ~17,000 policies (~50 ms each unloaded).
  { tenants: 10_000, requests: 150, timeout: 600_000 },
];

describe.each(cases)('slicing on vs off, $tenants tenants', ({ tenants, requests: count, timeout }) => {
  it(
    `gives identical answers on ${count} edge-case requests`,
    async () => {
      const dir = path.join(tmp.dir, `t${tenants}`);
      const store = generateTenantStore(dir, { tenants });
      expect(store.links).toBeGreaterThanOrEqual(tenants);
      const requests = edgeRequests(tenants, count, 1_000 + tenants);
      const sizes: number[] = [];
      const off = engine(dir, 'off');
      const on = engine(dir, 'on', {
        stats: { onDecision: (_s, n) => sizes.push(n), onCacheSize: () => {} },
      });
      expect(off.sliced).toBe(false);
      expect(on.sliced).toBe(true);

      const reference = await answers(off, requests);
      const sliced = await answers(on, requests);
      expect(firstMismatch(reference, sliced, requests)).toBeUndefined();
      // The native evaluator, sliced and not, against cedar-wasm unsliced (ids, not messages).
      const referenceIds = await answers(off, requests, false);
      for (const mode of ['off', 'on'] as const) {
        const native = engine(dir, mode, { evaluator: 'native' });
        expect(native.evaluator).toEqual({ evaluator: 'native' });
        expect(firstMismatch(referenceIds, await answers(native, requests, false), requests)).toBeUndefined();
      }

      // The mix is not vacuous: it allows, denies, errors and rejects.
      const kinds = new Set(
        (reference as Parameters<typeof kindOf>[0][])
          .map((a) => kindOf(a))
          .map((k) => k.replace('+errors', '')),
      );
      expect([...kinds].sort()).toEqual(['allow', 'deny', 'invalid']);
      expect((reference as { errors?: unknown[] }[]).some((a) => (a.errors?.length ?? 0) > 0)).toBe(true);
      // And slices are small: a handful of the store's policies.
      const evaluated = sizes.filter((n) => n > 0);
      expect(Math.max(...sizes)).toBeLessThan(20);
      expect(evaluated.length).toBeGreaterThan(count / 2);
    },
    timeout,
  );
});
