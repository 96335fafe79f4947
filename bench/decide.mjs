#!/usr/bin/env node
// In-process decide() per call, no HTTP: `npm run build && node bench/decide.mjs [--seconds 5]`.
// The sample `customers` question (an initiator, a BUSINESS account of her tenant, a new resource id
// each call so nothing is cached) on both evaluators, and the gen-tenants store at 10, 1,000 and
// 10,000 tenants (a realistic request mix, sliced as the default config slices). p50 and p99 in µs,
// one process pinned to core 0 when there are two cores. Target (issue 13): native p50 ≤ 10 µs on
// the sample stores, flat from 10 to 10,000 tenants.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '10,1000,10000' },
    child: { type: 'string' },
  },
});

async function child(job) {
  const { LocalStoreEngine } = await import('../dist/engines/local.js');
  const seconds = Number(values.seconds);
  const engine = new LocalStoreEngine('bench', job.dir, {
    evaluator: job.evaluator,
    slicing: { mode: 'auto', autoThreshold: 200, cacheSize: 2_000 },
  });
  engine.load();
  let next;
  if (job.kind === 'sample') {
    let n = 0;
    next = () => {
      const id = `acct-${n++}`;
      return {
        principal: { type: 'Payments::User', id: 'alice' },
        action: { type: 'Payments::Action', id: 'InitiatePayment' },
        resource: { type: 'Payments::Account', id },
        context: { destinationCountry: 'DE' },
        entities: [
          {
            uid: { type: 'Payments::User', id: 'alice' },
            attrs: { tenantId: 'acme' },
            parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
          },
          {
            uid: { type: 'Payments::Account', id },
            attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
            parents: [{ type: 'Payments::Tenant', id: 'acme' }],
          },
        ],
      };
    };
  } else {
    const { rng, sampleRequest } = await import('../scripts/gen-tenants.mjs');
    const r = rng(99);
    const requests = Array.from({ length: 2_000 }, () => sampleRequest(r, job.tenants, { mix: 'realistic' }));
    let i = 0;
    next = () => requests[i++ % requests.length];
  }
  const [probe] = await engine.decide([next()]);
  if (probe.kind === 'failed') throw new Error(probe.message);
  // Warm the JIT, then measure.
  for (let until = performance.now() + 1_000; performance.now() < until;) await engine.decide([next()]);
  const times = [];
  for (let until = performance.now() + seconds * 1_000; performance.now() < until;) {
    const request = next();
    const t = process.hrtime.bigint();
    await engine.decide([request]);
    times.push(Number(process.hrtime.bigint() - t) / 1_000);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  process.stdout.write(
    JSON.stringify({
      n: times.length,
      p50: at(0.5),
      p99: at(0.99),
      decision: probe.kind === 'evaluated' ? probe.allow : probe.kind,
    }),
  );
}

if (values.child) await child(JSON.parse(values.child));
else {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const { generateTenantStore } = await import('../scripts/gen-tenants.mjs');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-decide-'));
  const jobs = [];
  for (const evaluator of ['native', 'wasm'])
    jobs.push({
      kind: 'sample',
      label: 'customers (sample store)',
      dir: path.join(ROOT, 'policies/customers'),
      evaluator,
    });
  for (const tenants of values.sizes.split(',').map(Number)) {
    const dir = path.join(tmp, `t${tenants}`);
    const s = generateTenantStore(dir, { tenants });
    for (const evaluator of ['native', 'wasm'])
      jobs.push({
        kind: 'tenants',
        tenants,
        label: `${tenants} tenants (${s.staticPolicies + s.links} policies)`,
        dir,
        evaluator,
      });
  }
  const rows = [];
  for (const job of jobs) {
    const args = [
      path.join(ROOT, 'bench/decide.mjs'),
      '--seconds',
      values.seconds,
      '--child',
      JSON.stringify(job),
    ];
    const pinned = os.cpus().length >= 2;
    const r = spawnSync(
      pinned ? 'taskset' : process.execPath,
      pinned ? ['-c', '0', process.execPath, ...args] : args,
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`${job.label} ${job.evaluator}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    rows.push({ ...job, ...out });
    process.stderr.write(
      `${job.label} ${job.evaluator}: p50 ${out.p50.toFixed(1)} µs p99 ${out.p99.toFixed(1)} µs (${out.n} calls)\n`,
    );
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const lines = [
    `### In-process decide() per call (node bench/decide.mjs --seconds ${values.seconds}; one process pinned to core 0)`,
    '',
    '| store | evaluator | p50 µs | p99 µs | calls |',
    '|---|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.evaluator} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.n.toLocaleString('en-US')} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
