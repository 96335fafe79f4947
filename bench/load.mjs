#!/usr/bin/env node
// Load time of a large store: `npm run build && node bench/load.mjs [--tenants 10000] [--runs 3]`.
// A store of scripts/gen-tenants.mjs's shape is loaded several times in one process (the first load
// pays cedar-wasm's and the JIT's first use); each run reports where the time goes: reading the
// files, compiling them with cedar-wasm (parse, policyToJson, strict validation), compiling the
// native evaluator's closures and indexes, and the whole engine load (which includes both and the
// slicing index). Target (issue 13): under 1 s at 10,000 tenants after the first load.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateTenantStore } from '../scripts/gen-tenants.mjs';
import { LocalStoreEngine } from '../dist/engines/local.js';
import { compileNative } from '../dist/engines/native.js';
import { compileStore } from '../dist/policy/compile-store.js';
import { readStoreFiles } from '../dist/policy/read-store.js';

const { values } = parseArgs({
  options: { tenants: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } },
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-load-'));
const store = generateTenantStore(dir, { tenants: Number(values.tenants) });
console.log(
  `### Load time (node bench/load.mjs --tenants ${values.tenants} --runs ${values.runs}; one process)\n`,
);
console.log('```');
console.log(
  `${values.tenants} tenants: ${store.staticPolicies} static policies, ${store.links} template links`,
);
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
for (let run = 1; run <= Number(values.runs); run++) {
  let t = performance.now();
  const files = readStoreFiles(dir);
  const read = ms(t);
  t = performance.now();
  const compiled = compileStore('bench', files);
  const cedar = ms(t);
  t = performance.now();
  compileNative(compiled);
  const native = ms(t);
  t = performance.now();
  new LocalStoreEngine(`bench-${run}`, dir, {
    slicing: { mode: 'auto', autoThreshold: 200, cacheSize: 2000 },
  }).load();
  console.log(
    `run ${run}: read ${read}, cedar-wasm compile+validate ${cedar}, native compile ${native}; whole load ${ms(t)}`,
  );
}
console.log('```');
fs.rmSync(dir, { recursive: true, force: true });
