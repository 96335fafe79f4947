import { afterAll } from 'vitest';
import { slicingDifferential, tempDir } from '../support/slicing.js';

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

slicingDifferential(cases, tmp);
