/**
 * Cedar's integration tests against the TypeScript evaluator: all 22 hand-written tests and a fixed
 * deterministic sample of the generated corpus (every 40th test in sorted order, ≥ 1,000 requests).
 * `npm run conformance` runs all 62,546 requests.
 */
import { describe, expect, it } from 'vitest';
import { caveatList, corpusRoot, corpusTests, handwrittenTests, VENDOR_DIR } from './corpus.js';
import { report, runSuite } from './run-all.js';
import { schemaMode } from './schema-mode.js';

const STRIDE = 40;

describe('Cedar integration tests', () => {
  it('all 22 hand-written tests match cedar (decision, reasons, errors)', () => {
    const tests = handwrittenTests();
    expect(tests).toHaveLength(22);
    const s = runSuite(
      tests.map((path) => ({ root: VENDOR_DIR, path })),
      schemaMode,
      true,
    );
    expect(s.total).toBe(74);
    expect(s.mismatched, report(s, true)).toBe(0);
    expect(s.skipped, report(s, true)).toBe(0);
    for (const r of s.results) expect(r.validation!.got, r.test).toBe(r.validation!.expected);
  });

  it('a deterministic sample of ≥ 1,000 corpus requests matches cedar', () => {
    const root = corpusRoot();
    const all = corpusTests(root);
    expect(all).toHaveLength(7809);
    const sample = all.filter((_, i) => i % STRIDE === 0).map((path) => ({ root, path }));
    const s = runSuite(sample, schemaMode, true);
    expect(s.total).toBeGreaterThanOrEqual(1000);
    expect(s.mismatched, report(s, true)).toBe(0);
    expect(s.skipped, report(s, true)).toBe(0);
    // shouldValidate agrees with cedar-wasm's validate, except the listed 4.13 differences.
    const differs = caveatList('corpus-validation-differs-4.13.txt');
    for (const r of s.results)
      if (!differs.has(r.test)) expect(r.validation!.got, r.test).toBe(r.validation!.expected);
  });
});
