#!/usr/bin/env node
// Scale benchmark (not a test): per-decision latency of a local store at 10, 1,000 and 10,000
// tenants (scripts/gen-tenants.mjs: a template linked per tenant plus static policies), with scope
// slicing on and off, on a cold slice cache (each distinct slice preparsed on first use) and warm;
// load time and RSS per store size. Every (size, mode) runs in a fresh process. Needs `npm run build`.
//
//   node bench/scale.mjs [--runs 3] [--sizes 10,1000,10000] [--seconds 15] [--out FILE.json]
//
// With --runs > 1 the table shows the median of the runs for every number.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args[0] === '--child') {
  console.log(JSON.stringify(await child(JSON.parse(args[1]))));
  process.exit(0);
}

const runs = Number(flag('runs', '1'));
const sizes = flag('sizes', '10,1000,10000').split(',').map(Number);
const seconds = Number(flag('seconds', '15'));
const out = flag('out', undefined);

const { generateTenantStore } = await import(path.join(root, 'scripts/gen-tenants.mjs'));
const tmp = mkdtempSync(path.join(tmpdir(), 'authz-scale-'));
try {
  const stores = {};
  for (const tenants of sizes) {
    stores[tenants] = generateTenantStore(path.join(tmp, `t${tenants}`), { tenants });
    const s = stores[tenants];
    console.error(`store ${tenants} tenants: ${s.staticPolicies} static policies, ${s.links} links`);
  }
  const jobs = [];
  for (const tenants of sizes) for (const mode of ['on', 'off']) jobs.push({ tenants, mode });
  const results = [];
  for (let run = 1; run <= runs; run++) {
    for (const job of jobs) {
      const input = { ...job, dir: stores[job.tenants].dir, seconds };
      const res = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', JSON.stringify(input)],
        {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        },
      );
      if (res.status !== 0) throw new Error(`child ${JSON.stringify(job)} failed:\n${res.stderr}`);
      const result = JSON.parse(res.stdout.trim().split('\n').at(-1));
      results.push({ run, ...result });
      console.error(`run ${run}: ${job.tenants} tenants, slicing ${job.mode}: done`);
    }
  }
  const table = summarize(results, sizes);
  console.log(render(table, runs));
  if (out) writeFileSync(out, JSON.stringify({ runs, seconds, results, table }, null, 2));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** One (size, mode) in a fresh process: load, then a cold and a warm pass over the same requests. */
async function child({ tenants, mode, dir, seconds }) {
  const { LocalStoreEngine } = await import(path.join(root, 'dist/engines/local.js'));
  const { reserveWasmMemory, wasmMemoryBytes } = await import(
    path.join(root, 'dist/engines/slicing/wasm-memory.js')
  );
  const { rng, sampleRequest } = await import(path.join(root, 'scripts/gen-tenants.mjs'));
  const mib = (n) => Math.round(n / 1048576);
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const options = () => ({
    slicing: { mode, autoThreshold: 0, cacheSize: 2000 },
    stats: {
      onDecision: (_s, n, cache) => {
        stats.policies += n;
        stats.decisions++;
        if (cache === 'miss') stats.misses++;
      },
      onCacheSize: () => {},
    },
  });
  const stats = { policies: 0, decisions: 0, misses: 0 };

  // Load (a fresh process: includes cedar-wasm's first-use compilation, as a real start does).
  const rssBefore = process.memoryUsage().rss;
  let wall = performance.now();
  let cpu = cpuMs();
  const store = new LocalStoreEngine('bench', dir, options());
  store.load();
  const load = { wallMs: performance.now() - wall, cpuMs: cpuMs() - cpu };
  const policies = store.status().policies;
  // As the registry does when a store slices: grow Cedar's memory once (64 MiB default).
  const reserve = mode === 'on' ? reserveWasmMemory(64 * 1048576) : { ms: 0 };
  const rssLoaded = process.memoryUsage().rss;

  const r = rng(99);
  const requests = Array.from({ length: 2000 }, () => sampleRequest(r, tenants, { mix: 'realistic' }));

  // Warm the JIT on a second instance (its own slice cache), so the cold pass measures cache misses.
  const warmup = new LocalStoreEngine('bench-warmup', dir, options());
  warmup.load();
  const warmupUntil = performance.now() + Math.min(3000, seconds * 200);
  for (let i = 0; performance.now() < warmupUntil; i++)
    await warmup.decide([requests[(i * 7919) % requests.length]]);

  const pass = async (budgetMs) => {
    const times = [];
    const until = performance.now() + budgetMs;
    const before = { ...stats };
    for (let i = 0; i < requests.length && (performance.now() < until || times.length < 50); i++) {
      const t0 = process.hrtime.bigint();
      const [answer] = await store.decide([requests[i]]);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (answer.kind === 'failed') throw new Error(answer.message);
    }
    const n = stats.decisions - before.decisions;
    return {
      n: times.length,
      ...percentiles(times),
      avgPolicies: n ? (stats.policies - before.policies) / n : 0,
      misses: stats.misses - before.misses,
    };
  };
  const cold = await pass(seconds * 1000);
  const warm = await pass(seconds * 1000);
  return {
    tenants,
    mode,
    policies,
    load,
    reserveMs: reserve.ms,
    rssMiB: { before: mib(rssBefore), loaded: mib(rssLoaded), end: mib(process.memoryUsage().rss) },
    wasmMiB: wasmMemoryBytes() === undefined ? null : mib(wasmMemoryBytes()),
    cold,
    warm,
    cachedSlices: store.status().slicing?.cachedSlices ?? null,
  };
}

function percentiles(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  return { p50: at(0.5), p99: at(0.99) };
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function summarize(results, sizes) {
  const rows = [];
  for (const tenants of sizes)
    for (const mode of ['on', 'off']) {
      const rs = results.filter((x) => x.tenants === tenants && x.mode === mode);
      const m = (f) => median(rs.map(f));
      rows.push({
        tenants,
        mode,
        policies: rs[0].policies,
        loadMs: m((x) => x.load.wallMs),
        loadCpuMs: m((x) => x.load.cpuMs),
        rssLoadedMiB: m((x) => x.rssMiB.loaded),
        rssEndMiB: m((x) => x.rssMiB.end),
        wasmMiB: m((x) => x.wasmMiB),
        coldP50: m((x) => x.cold.p50),
        coldP99: m((x) => x.cold.p99),
        warmP50: m((x) => x.warm.p50),
        warmP99: m((x) => x.warm.p99),
        n: m((x) => x.warm.n),
        avgPolicies: m((x) => x.warm.avgPolicies),
        coldMisses: m((x) => x.cold.misses),
      });
    }
  return rows;
}

function render(rows, runs) {
  const f = (x, d = 3) => (x === null || x === undefined ? '–' : Number(x).toFixed(d));
  const lines = [
    `Scale benchmark${runs > 1 ? ` (median of ${runs} runs)` : ''}; latencies in ms per decision`,
    '',
    '| tenants | policies | slicing | cold p50 | cold p99 | warm p50 | warm p99 | policies/decision | load ms (cpu ms) | RSS MiB loaded / end |',
    '|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.tenants} | ${r.policies} | ${r.mode} | ${f(r.coldP50)} | ${f(r.coldP99)} | ${f(r.warmP50)} | ${f(r.warmP99)} | ${f(r.avgPolicies, 1)} | ${f(r.loadMs, 0)} (${f(r.loadCpuMs, 0)}) | ${f(r.rssLoadedMiB, 0)} / ${f(r.rssEndMiB, 0)} |`,
    );
  const on = (t) => rows.find((r) => r.tenants === t && r.mode === 'on');
  const small = on(Math.min(...rows.map((r) => r.tenants)));
  const large = on(Math.max(...rows.map((r) => r.tenants)));
  if (small && large && small !== large) {
    const ratio = large.warmP50 / small.warmP50;
    lines.push(
      '',
      `Target p50(${large.tenants}) ≤ 2 × p50(${small.tenants}), slicing on, warm: ${f(large.warmP50)} vs ${f(small.warmP50)} ms → ×${f(ratio, 2)} ${ratio <= 2 ? 'MET' : 'NOT MET'}`,
      `Target load < 2 s at ${large.tenants} tenants, slicing on: ${f(large.loadMs, 0)} ms wall (${f(large.loadCpuMs, 0)} ms CPU) ${large.loadMs < 2000 ? 'MET' : 'NOT MET'}`,
    );
  }
  return lines.join('\n');
}
