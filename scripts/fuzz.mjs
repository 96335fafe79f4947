#!/usr/bin/env node
// Longer runs of the differential fuzzer (src/cedar/fuzz) against cedar-wasm, on the built code.
// Usage: npm run fuzz -- [--seconds N] [--seed S] [--cases N]
// Prints each mismatch with everything needed to reproduce it; exits 1 if any.
import { runMany } from '../dist/cedar/fuzz/run.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const seconds = opt('seconds', 60);
const seed = opt('seed', Math.floor(Date.now() % 1e9));
const cases = opt('cases', Infinity);

console.log(
  `fuzz: from seed ${seed}, up to ${seconds} s${Number.isFinite(cases) ? ` or ${cases} cases` : ''}`,
);
const sum = runMany(seed, cases, seconds * 1000, (m) =>
  console.log(`MISMATCH seed ${m.seed}: ${m.reason}\n${m.detail}\n`),
);
const skipped = [...sum.skipReasons].map(([k, n]) => `${n}× ${k}`).join('; ');
console.log(
  `fuzz: seeds ${seed}..${seed + sum.cases - 1}: ${sum.cases} cases in ${sum.ms} ms, ${sum.matched} agreed ` +
    `(${sum.rejectedBoth} rejected by both; of those evaluated ${sum.allowed} allowed, ${sum.errored} with policy errors), ${sum.skipped} skipped${skipped ? ` (${skipped})` : ''}, ` +
    `${sum.mismatches.length} mismatches${sum.mismatches.length ? `: seeds ${sum.mismatches.map((m) => m.seed).join(', ')}` : ''}`,
);
process.exit(sum.mismatches.length ? 1 : 0);
