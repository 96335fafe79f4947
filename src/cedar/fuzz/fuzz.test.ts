import { describe, expect, it } from 'vitest';
import { runCase, runMany } from './run.js';

/**
 * A fixed seed budget of the differential fuzzer (cedar-wasm vs our schema checks + evaluator).
 * Longer runs: `npm run fuzz -- --seconds 600 [--seed S]`. A failure prints the seed; replay one
 * with `npm run fuzz -- --seed S --cases 1`.
 */
const START = Number(process.env.FUZZ_SEED ?? 1);
const CASES = Number(process.env.FUZZ_CASES ?? 2500);

describe('differential fuzz against cedar-wasm', () => {
  it(`seeds ${START}..${START + CASES - 1} agree`, () => {
    const sum = runMany(START, CASES, 120_000);
    const skipped = [...sum.skipReasons].map(([k, n]) => `${n}× ${k}`).join('; ');
    console.log(
      `fuzz: ${sum.cases} cases in ${sum.ms} ms: ${sum.matched} agreed (${sum.rejectedBoth} rejected by both; of those evaluated ${sum.allowed} allowed, ${sum.errored} with policy errors), ` +
        `${sum.skipped} skipped${skipped ? ` (${skipped})` : ''}, ${sum.mismatches.length} mismatches`,
    );
    for (const m of sum.mismatches.slice(0, 3)) console.log(`${m.reason}\n${m.detail}\n`);
    expect(
      sum.mismatches.map((m) => m.seed),
      'failing seeds',
    ).toEqual([]);
    // The generator must mostly produce cases that run: a skip-heavy fuzzer proves nothing.
    expect(sum.skipped).toBeLessThan(sum.cases * 0.1);
    expect(sum.matched - sum.rejectedBoth).toBeGreaterThan(sum.cases * 0.4);
  }, 180_000);

  it('is deterministic per seed', () => {
    expect(runCase(42)).toEqual(runCase(42));
  });
});
