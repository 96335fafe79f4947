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

const tmp = tempDir('slicing-diff');
afterAll(() => tmp.remove());

// 1,000 and 10,000 tenants: slicing-differential-scale.long.test.ts (`npm run test:long`).
const cases = [{ tenants: 10, requests: 3_000, timeout: 120_000 }];

slicingDifferential(cases, tmp);
