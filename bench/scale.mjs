#!/usr/bin/env node
// Scale benchmark (not a test): `npm run build && node bench/scale.mjs [--write]`.
//
// 1. Per-decision latency of a local store at 10, 1,000 and 10,000 tenants (scripts/gen-tenants.mjs:
//    three templates linked per tenant plus static policies), scope slicing on and off, on a cold
//    slice cache (each distinct slice preparsed on first use, the JIT already warm) and warm; load
//    time and RSS. The default slicing config: cacheSize 2,000, wasmMemoryMiB auto.
// 2. Filling a large slice cache (cacheSize 10,000) at the largest size with the wasm memory
//    reserved up front (wasmMemoryMiB auto) and without: the garbage-collection storm of
//    DESIGN.md ("Scale") and its guard.
// 3. Load alone in a fresh process: the smallest store, and a store where only the links grow.
//
//   node bench/scale.mjs [--runs 3] [--sizes 10,1000,10000] [--seconds 10] [--fill-seconds S]
//                        [--no-fill] [--write] [--json FILE]
//
// Every measurement runs in a fresh child process (pinned to core 0 when there are two cores or
// more); every number is the median over --runs runs. Stdout is a markdown section (the one
// `npm run bench` puts in docs/BENCHMARKS.md), progress goes to stderr. --write also writes
// docs/SCALE.md (how slicing works, its settings, and that section), --json FILE the raw results.
// The exit code is 0 when the benchmark ran (whether or not the targets were met), 1 when it failed.
//
// Also importable: `runScaleBench(options)` resolves to { markdown, doc, summary, results }.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const DOC = path.join(ROOT, 'docs/SCALE.md');
/** The default slicing config, as a store gets it (src/config/schema.ts). */
const CACHE_SIZE = 2_000;
const FILL_CACHE_SIZE = 10_000;
const REQUESTS = 2_000;
const FILL_REQUESTS = 20_000;

const OPTIONS = {
  runs: { type: 'string', default: '3' },
  sizes: { type: 'string', default: '10,1000,10000' },
  seconds: { type: 'string', default: '10' },
  'fill-seconds': { type: 'string' },
  'no-fill': { type: 'boolean', default: false },
  write: { type: 'boolean', default: false },
  json: { type: 'string' },
  /** The Cedar evaluator of every store: `native` (the default, as a store gets it) or `wasm`. */
  evaluator: { type: 'string', default: 'native' },
};

/**
 * Runs the benchmark. `args` as on the command line (defaults: 3 runs, 10/1,000/10,000 tenants,
 * 10 s per pass). Writes docs/SCALE.md with `write: true`.
 */
export async function runScaleBench(args = []) {
  const { values: opts } = parseArgs({ args, options: OPTIONS, strict: true });
  const runs = Number(opts.runs);
  const sizes = opts.sizes.split(',').map(Number);
  const seconds = Number(opts.seconds);
  const fillSeconds = Number(opts['fill-seconds'] ?? seconds * 6);
  if (!(runs >= 1) || !sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0))
    throw new Error('usage: node bench/scale.mjs [--runs N] [--sizes 10,1000,10000] [--seconds S] …');
  const largest = Math.max(...sizes);
  const smallest = Math.min(...sizes);
  const started = new Date();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    cores: os.availableParallelism(),
    node: process.version,
    loadAverage: os.loadavg()[0],
    date: started.toISOString().slice(0, 10),
    command: ['node bench/scale.mjs', ...args].join(' '),
    evaluator: opts.evaluator,
    pinned: pinning().length > 0,
  };

  const { generateTenantStore } = await import(
    pathToFileURL(path.join(ROOT, 'scripts/gen-tenants.mjs')).href
  );
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'authz-scale-'));
  try {
    const stores = {};
    for (const tenants of sizes) {
      const s = (stores[tenants] = generateTenantStore(path.join(tmp, `t${tenants}`), { tenants }));
      progress(`store of ${tenants} tenants: ${s.staticPolicies} static policies, ${s.links} links`);
    }
    const linksOnly = generateTenantStore(path.join(tmp, 'links-only'), {
      tenants: largest,
      tenantPolicies: false,
    });

    const jobs = [];
    for (const tenants of sizes)
      for (const mode of ['on', 'off'])
        jobs.push({
          kind: 'matrix',
          tenants,
          mode,
          dir: stores[tenants].dir,
          seconds,
          cacheSize: CACHE_SIZE,
          evaluator: opts.evaluator,
        });
    if (!opts['no-fill'])
      for (const reserve of ['auto', 0])
        jobs.push({
          kind: 'fill',
          tenants: largest,
          mode: 'on',
          dir: stores[largest].dir,
          seconds: fillSeconds,
          cacheSize: FILL_CACHE_SIZE,
          reserve,
          // The fill measures cedar-wasm's slice pool and memory growth: only wasm has one.
          evaluator: 'wasm',
        });
    jobs.push({
      kind: 'load',
      label: 'smallest',
      tenants: smallest,
      dir: stores[smallest].dir,
      evaluator: opts.evaluator,
    });
    jobs.push({
      kind: 'load',
      label: 'links-only',
      tenants: largest,
      dir: linksOnly.dir,
      evaluator: opts.evaluator,
    });

    const results = [];
    for (let run = 1; run <= runs; run++)
      for (const job of jobs) {
        progress(`run ${run}/${runs}: ${describeJob(job)}`);
        results.push({ run, job: { ...job, dir: undefined }, ...runChild(job) });
      }
    const summary = summarize(results, { sizes, largest, smallest, runs, seconds, fillSeconds, machine });
    summary.elapsedSeconds = (Date.now() - started.getTime()) / 1000;
    summary.stores = Object.fromEntries(
      [...Object.entries(stores), ['links-only', linksOnly]].map(([k, s]) => [k, { ...s, dir: undefined }]),
    );
    const markdown = await formatMarkdown(renderSection(summary));
    const doc = await formatMarkdown(renderDoc(renderSection(summary), summary));
    if (opts.write) writeFileSync(DOC, doc);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ summary, results }, null, 2));
    return { markdown, doc, summary, results };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Markdown as the repo's Prettier config formats it (tables aligned), so docs/ stays `prettier --check` clean. */
async function formatMarkdown(text) {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(DOC)) ?? {};
    return await prettier.format(text, { ...config, filepath: DOC });
  } catch {
    return text; // Prettier is a devDependency: without it, the same text unaligned
  }
}

function progress(line) {
  process.stderr.write(`${line}\n`);
}

function describeJob(job) {
  if (job.kind === 'matrix') return `${job.tenants} tenants, slicing ${job.mode}`;
  if (job.kind === 'fill')
    return `fill ${job.cacheSize} slices at ${job.tenants} tenants, reserve ${job.reserve}`;
  return `load alone: ${job.label} (${job.tenants} tenants)`;
}

/** `taskset -c 0` when there are two cores or more and taskset exists. */
function pinning() {
  if (os.availableParallelism() < 2) return [];
  const probe = spawnSync('taskset', ['-c', '0', 'true']);
  return probe.status === 0 ? ['taskset', '-c', '0'] : [];
}

function runChild(job) {
  const pin = pinning();
  const argv = [process.execPath, SELF, '--child', JSON.stringify(job)];
  const res = spawnSync(
    pin.length ? pin[0] : argv[0],
    pin.length ? [...pin.slice(1), ...argv] : argv.slice(1),
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      cwd: ROOT,
    },
  );
  if (res.status !== 0)
    throw new Error(`child (${describeJob(job)}) failed (${res.status ?? res.signal}):\n${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1));
}

// ---------------------------------------------------------------------------------------------
// The child: one store, one configuration, in a fresh process.

async function child(job) {
  const t0 = performance.now();
  // Importing the engine compiles cedar-wasm (part of a real startup, reported apart from the load).
  const { LocalStoreEngine } = await import(pathToFileURL(path.join(ROOT, 'dist/engines/local.js')).href);
  const { reserveWasmMemory, wasmReserveBytes } = await import(
    pathToFileURL(path.join(ROOT, 'dist/engines/slicing/wasm-memory.js')).href
  );
  const importMs = performance.now() - t0;
  const { rng, sampleRequest } = await import(pathToFileURL(path.join(ROOT, 'scripts/gen-tenants.mjs')).href);
  const mib = (n) => n / 1_048_576;
  const memory = () => {
    const m = process.memoryUsage();
    return { rssMiB: mib(m.rss), externalMiB: mib(m.external), heapMiB: mib(m.heapUsed) };
  };
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const stats = { policies: 0, decisions: 0, misses: 0 };
  const options = {
    evaluator: job.evaluator ?? 'native',
    slicing: { mode: job.mode ?? 'auto', autoThreshold: 200, cacheSize: job.cacheSize ?? CACHE_SIZE },
    stats: {
      onDecision: (_store, n, cache) => {
        stats.policies += n;
        stats.decisions++;
        if (cache === 'miss') stats.misses++;
      },
      onCacheSize: () => {},
    },
  };

  const wall = performance.now();
  const cpu = cpuMs();
  const store = new LocalStoreEngine('bench', job.dir, options);
  store.load();
  const load = { wallMs: performance.now() - wall, cpuMs: cpuMs() - cpu, importMs };
  const policies = store.status().policies;
  if (job.kind === 'load') {
    const rss = memory();
    // The same store loaded again in this process: what is left once cedar-wasm's code is warm.
    const again = performance.now();
    new LocalStoreEngine('bench-again', job.dir, options).load();
    load.againMs = performance.now() - again;
    return { load, policies, sliced: store.sliced, memory: rss };
  }

  // As the registry does when a store slices: grow Cedar's memory once, as the config says.
  const reserveBytes = store.sliced
    ? wasmReserveBytes({ wasmMemoryMiB: job.reserve ?? 'auto', cacheSize: options.slicing.cacheSize })
    : 0;
  const reserve = reserveBytes > 0 ? reserveWasmMemory(reserveBytes) : { ms: 0 };
  const loaded = memory();

  const r = rng(99);
  const count = job.kind === 'fill' ? FILL_REQUESTS : REQUESTS;
  const requests = Array.from({ length: count }, () => sampleRequest(r, job.tenants, { mix: 'realistic' }));

  // Warm the JIT on a second instance of the store (its own slice cache) with other requests, so
  // that the cold pass measures cache misses, not compilation. Few distinct requests: its slices
  // take little of the reserved memory.
  const warmup = new LocalStoreEngine('bench-warmup', job.dir, options);
  warmup.load();
  const w = rng(7);
  const warmRequests = Array.from({ length: 100 }, () => sampleRequest(w, job.tenants, { mix: 'realistic' }));
  const warmUntil = performance.now() + Math.min(2000, job.seconds * 500);
  for (let i = 0; performance.now() < warmUntil; i++) await warmup.decide([warmRequests[i % 100]]);

  /** Decides requests one at a time: `cycle` repeats them (warm), else each once at most (cold). */
  const pass = async (budgetMs, cycle) => {
    const times = [];
    const before = { ...stats };
    const started = performance.now();
    const limit = cycle ? 200_000 : requests.length;
    for (let i = 0; i < limit && (performance.now() < started + budgetMs || times.length < 50); i++) {
      const request = requests[cycle ? i % cycle : i];
      const t = process.hrtime.bigint();
      const [answer] = await store.decide([request]);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (answer.kind === 'failed') throw new Error(`decision failed: ${answer.message}`);
    }
    const n = stats.decisions - before.decisions;
    return {
      n: times.length,
      seconds: (performance.now() - started) / 1000,
      ...percentiles(times),
      policiesPerDecision: n ? (stats.policies - before.policies) / n : 0,
      misses: stats.misses - before.misses,
    };
  };

  if (job.kind === 'fill') {
    const fill = await pass(job.seconds * 1000, 0);
    return {
      policies,
      load,
      reserve: { mib: mib(reserveBytes), ms: reserve.ms },
      loaded,
      end: memory(),
      fill,
      cachedSlices: store.status().slicing?.cachedSlices ?? 0,
    };
  }
  const cold = await pass(job.seconds * 1000, 0);
  // The warm pass repeats the requests the cold pass decided: their slices are cached.
  const warm = await pass(job.seconds * 1000, cold.n);
  return {
    policies,
    sliced: store.sliced,
    load,
    reserve: { mib: mib(reserveBytes), ms: reserve.ms },
    loaded,
    end: memory(),
    cold,
    warm,
    cachedSlices: store.status().slicing?.cachedSlices ?? 0,
  };
}

function percentiles(times) {
  const sorted = Float64Array.from(times).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

// ---------------------------------------------------------------------------------------------
// Medians over runs, targets, markdown.

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** The median of `get` over the runs of the jobs matching `match`. */
function medianOf(results, match, get) {
  const rs = results.filter((r) => Object.entries(match).every(([k, v]) => r.job[k] === v));
  return median(
    rs.map((r) => {
      try {
        return get(r);
      } catch {
        return undefined;
      }
    }),
  );
}

function summarize(results, { sizes, largest, smallest, runs, seconds, fillSeconds, machine }) {
  const matrix = [];
  for (const tenants of sizes)
    for (const mode of ['on', 'off']) {
      const m = (get) => medianOf(results, { kind: 'matrix', tenants, mode }, get);
      matrix.push({
        tenants,
        mode,
        policies: m((r) => r.policies),
        cold: { p50: m((r) => r.cold.p50), p99: m((r) => r.cold.p99), n: m((r) => r.cold.n) },
        warm: { p50: m((r) => r.warm.p50), p99: m((r) => r.warm.p99), n: m((r) => r.warm.n) },
        policiesPerDecision: m((r) => r.warm.policiesPerDecision),
        coldMisses: m((r) => r.cold.misses),
        loadMs: m((r) => r.load.wallMs),
        loadCpuMs: m((r) => r.load.cpuMs),
        importMs: m((r) => r.load.importMs),
        reserveMiB: m((r) => r.reserve.mib),
        reserveMs: m((r) => r.reserve.ms),
        rssLoadedMiB: m((r) => r.loaded.rssMiB),
        rssEndMiB: m((r) => r.end.rssMiB),
      });
    }
  const fill = ['auto', 0]
    .map((reserve) => {
      const m = (get) => medianOf(results, { kind: 'fill', reserve }, get);
      return {
        reserve,
        reserveMiB: m((r) => r.reserve.mib),
        reserveMs: m((r) => r.reserve.ms),
        p50: m((r) => r.fill.p50),
        p99: m((r) => r.fill.p99),
        p999: m((r) => r.fill.p999),
        n: m((r) => r.fill.n),
        seconds: m((r) => r.fill.seconds),
        misses: m((r) => r.fill.misses),
        rssEndMiB: m((r) => r.end.rssMiB),
        externalEndMiB: m((r) => r.end.externalMiB),
      };
    })
    .filter((f) => f.n !== undefined);
  const loads = ['smallest', 'links-only'].map((label) => {
    const m = (get) => medianOf(results, { kind: 'load', label }, get);
    return {
      label,
      tenants: results.find((r) => r.job.label === label)?.job.tenants,
      policies: m((r) => r.policies),
      loadMs: m((r) => r.load.wallMs),
      loadCpuMs: m((r) => r.load.cpuMs),
      importMs: m((r) => r.load.importMs),
      againMs: m((r) => r.load.againMs),
      rssMiB: m((r) => r.memory.rssMiB),
    };
  });

  const row = (tenants, mode) => matrix.find((x) => x.tenants === tenants && x.mode === mode);
  const small = row(smallest, 'on');
  const large = row(largest, 'on');
  const ratio = large.warm.p50 / small.warm.p50;
  const startupMs = large.loadMs + (large.reserveMs ?? 0);
  const targets = [
    {
      name: `p50 per decision at ${fmtInt(largest)} tenants within 2× of p50 at ${fmtInt(smallest)} (slicing on, warm)`,
      measured: `${ms(large.warm.p50)} vs ${ms(small.warm.p50)} ms: ×${ratio.toFixed(2)}`,
      met: sizes.length > 1 ? ratio <= 2 : undefined,
    },
    {
      name: `load < 2 s at ${fmtInt(largest)} tenants (slicing on: load + wasm memory reservation)`,
      measured: `${fmtInt(startupMs)} ms (${fmtInt(large.loadMs)} + ${fmtInt(large.reserveMs ?? 0)})`,
      met: startupMs < 2000,
    },
    {
      name: `RSS at ${fmtInt(largest)} tenants stated (slicing on)`,
      measured: `${fmtInt(large.rssLoadedMiB)} MiB loaded, ${fmtInt(large.rssEndMiB)} MiB after the passes`,
      met: large.rssLoadedMiB !== undefined,
    },
  ];
  return { machine, runs, seconds, fillSeconds, sizes, largest, smallest, matrix, fill, loads, targets };
}

const ms = (x, digits = 3) => (x === undefined ? '–' : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : digits));
const fmtInt = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));

/** Whether a run is the full one (the one worth quoting). */
function isFull(s) {
  return s.runs >= 3 && s.seconds >= 10 && [10, 1000, 10000].every((n) => s.sizes.includes(n));
}

/** The generated section: stdout, and the end of docs/SCALE.md. */
function renderSection(s) {
  const m = s.machine;
  const lines = [
    `## Scale benchmark, ${m.evaluator} evaluator (${m.date}, ${m.cpu}, ${m.cores} cores, Node ${m.node})`,
    '',
    `Command: \`npm run build && ${m.command}\` — ${s.runs} run${s.runs > 1 ? 's' : ''}, every number the median over runs; ` +
      `each configuration in a fresh process${m.pinned ? ' pinned to core 0' : ''}; load average ${m.loadAverage.toFixed(1)} when it started.`,
  ];
  if (!isFull(s))
    lines.push(
      '',
      `**A short run** (${s.runs} run${s.runs > 1 ? 's' : ''}, ${s.seconds} s per pass, sizes ${s.sizes.join(', ')}): it checks that the ` +
        'benchmark works; its numbers are not worth quoting. The full run is `npm run build && node bench/scale.mjs --write`.',
    );
  lines.push(
    '',
    `Latency of one decision (\`decide()\` of one request, in process: no HTTP), in ms. Cold: a fresh slice ` +
      `cache, each request decided once (distinct slices are preparsed on first use; the JIT is warm). Warm: the ` +
      `same requests again, repeated for ${s.seconds} s. Requests: \`sampleRequest(…, { mix: 'realistic' })\` ` +
      `of scripts/gen-tenants.mjs, the caller passing the tenant's hierarchy. Slicing config: cacheSize ${fmtInt(CACHE_SIZE)}, ` +
      `wasmMemoryMiB auto.`,
    '',
    '| tenants | policies | slicing | cold p50 | cold p99 | warm p50 | warm p99 | policies per decision | load ms (CPU) | RSS MiB loaded / after |',
    '| ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const x of s.matrix)
    lines.push(
      `| ${fmtInt(x.tenants)} | ${fmtInt(x.policies)} | ${x.mode} | ${ms(x.cold.p50)} | ${ms(x.cold.p99)} | ` +
        `${ms(x.warm.p50)} | ${ms(x.warm.p99)} | ${x.policiesPerDecision === undefined ? '–' : x.policiesPerDecision < 100 ? x.policiesPerDecision.toFixed(1) : fmtInt(x.policiesPerDecision)} | ` +
        `${fmtInt(x.loadMs)} (${fmtInt(x.loadCpuMs)}) | ${fmtInt(x.rssLoadedMiB)} / ${fmtInt(x.rssEndMiB)} |`,
    );
  const large = s.matrix.find((x) => x.tenants === s.largest && x.mode === 'on');
  lines.push(
    '',
    `At ${fmtInt(s.largest)} tenants (${fmtInt(large.policies)} policies), slicing on: load ${fmtInt(large.loadMs)} ms ` +
      `(${fmtInt(large.loadCpuMs)} ms CPU: parse, validate with the schema, index), then ${fmtInt(large.reserveMs)} ms to ` +
      `reserve ${fmtInt(large.reserveMiB)} MiB of wasm memory; importing the engine (compiling cedar-wasm) took ` +
      `${fmtInt(large.importMs)} ms before that. RSS ${fmtInt(large.rssLoadedMiB)} MiB once loaded, ` +
      `${fmtInt(large.rssEndMiB)} MiB after the passes.`,
  );
  if (s.fill.length) {
    lines.push(
      '',
      `Filling a slice cache of ${fmtInt(FILL_CACHE_SIZE)} at ${fmtInt(s.largest)} tenants: up to ${fmtInt(FILL_REQUESTS)} ` +
        `requests on a cold cache (at most ${s.fillSeconds} s), with Cedar's wasm memory reserved up front ` +
        `(wasmMemoryMiB auto = cacheSize × 20 KiB) and without (0):`,
      '',
      '| wasm memory reserved | decisions | slices preparsed | p50 ms | p99 ms | p99.9 ms | seconds | RSS MiB after | external MiB after |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const f of s.fill)
      lines.push(
        `| ${f.reserve === 'auto' ? `auto: ${fmtInt(f.reserveMiB)} MiB in ${fmtInt(f.reserveMs)} ms` : 'none (0)'} | ` +
          `${fmtInt(f.n)} | ${fmtInt(f.misses)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.p999)} | ${ms(f.seconds, 1)} | ` +
          `${fmtInt(f.rssEndMiB)} | ${fmtInt(f.externalEndMiB)} |`,
      );
  }
  const stores = s.stores ?? {};
  lines.push(
    '',
    'Load alone, in a fresh process (slicing auto, the default). The first load in a process also pays for ' +
      'cedar-wasm’s first calls (compilation, first allocations): compare the second load.',
    '',
  );
  for (const l of s.loads) {
    const what =
      l.label === 'links-only'
        ? `${fmtInt(stores['links-only']?.links)} template links and ${fmtInt(stores['links-only']?.staticPolicies)} static policies (${fmtInt(l.tenants)} tenants, links only)`
        : `${fmtInt(l.policies)} policies (${fmtInt(l.tenants)} tenants)`;
    lines.push(
      `- ${what}: ${fmtInt(l.loadMs)} ms (${fmtInt(l.loadCpuMs)} ms CPU), after ${fmtInt(l.importMs)} ms importing the engine; ` +
        `RSS ${fmtInt(l.rssMiB)} MiB. Loaded a second time in the same process: ${fmtInt(l.againMs)} ms.`,
    );
  }
  lines.push('', '### Targets', '', '| Target | Measured | Met |', '| --- | ---: | :---: |');
  for (const t of s.targets)
    lines.push(`| ${t.name} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`);
  return `${lines.join('\n')}\n`;
}

/** docs/SCALE.md: how slicing works and how to set it up, then the generated section. */
function renderDoc(section, s) {
  return `# Scale: scope slicing for large stores

<!-- Generated by bench/scale.mjs (\`node bench/scale.mjs --write\`); edit the script, not this file. -->

Cedar (cedar-wasm) evaluates every policy of a policy set on every call, and clones the preparsed
set each time: measured with cedar-wasm 4.13 on Node 20, a warm decision costs ~0.15 ms at 27
policies, ~2.8 ms at 1,165 and ~45 ms at 11,515 (a template linked once per tenant, the pattern
Amazon Verified Permissions recommends for multi-tenant platforms). Scope slicing keeps a decision
near the small-store cost by evaluating only the policies that can apply to the request.

## How it works

- **What is indexed.** Every static policy and every template-linked policy of a store version is
  keyed by its scope: principal \`==\` / \`in\` an entity or \`is\` a type (\`is … in\` an entity),
  action \`==\` an action, \`in\` an action group or a list, resource as for the principal. A link's
  slot values stand in for \`?principal\` and \`?resource\`. Each policy sits in the bucket of its
  rarest constraint (a tenant's group rather than a shared action); policies with no scope
  constraint, or one this code does not read, go to every slice.
- **Per request**, the ancestors of the principal, the action and the resource are computed from
  the entities the decision will use — the request's entities, the store's static entities
  (\`entities.json\`) and the schema's action groups, exactly as Cedar computes \`in\` from the
  entities passed to it. The candidates are the buckets of those keys plus the unconstrained
  policies; those whose whole scope matches are the **slice**, and only the slice is evaluated.
- **Exact, not approximate.** Cedar applies a policy only if its scope matches, and scope checks
  cannot error, so a policy whose scope cannot match never changes the decision, the determining
  policies or the errors. Conditions (\`when\` / \`unless\`) are never used to leave a policy out:
  Cedar evaluates them. Policy ids are unchanged (links keep their ids and templates), and an empty
  slice still goes through Cedar (a shared empty set), so request-level errors stay Cedar's. A
  request the slicer cannot read is evaluated against the whole set. The differential tests
  (\`test/integration/slicing-differential*.test.ts\`) answer random requests — forbids,
  cross-tenant requests, unknown actions, action groups, transitive groups, missing and duplicate
  entities — with slicing on and off (3,000 at 10 tenants, 1,500 at 1,000, 150 at 10,000 where
  each unsliced decision takes ~50 ms, and store variants at 100) and require identical
  decisions, determining policies and erroring policies; deliberately broken slicers (action
  groups ignored, \`in\` treated as \`==\`) prove that the comparison catches mistakes.
- **The slice cache.** A slice is preparsed (from Cedar's JSON form of its policies) the first time
  it is needed and kept in a per-store LRU of \`slicing.cacheSize\` entries, keyed by the sorted
  policy ids. cedar-wasm cannot delete a preparsed set, so the cache reuses a fixed pool of preparse
  ids: a new slice replaces the one it evicts, and Cedar's memory stays bounded. A miss costs a
  preparse (well under a millisecond for a slice of a few policies); a hit only the evaluation.
- **The garbage-collection storm and its guard.** In Node 20, every growth of a large wasm memory
  triggers a full V8 garbage collection. A filling slice cache grows Cedar's memory in many small
  steps, and while it fills, preparses slow from ~0.5 ms to 6–9 ms and the p99 of every decision
  rises to several milliseconds. So when the first store slices, Cedar's memory is grown once, up
  front, through its own allocator (\`src/engines/slicing/wasm-memory.ts\`), and the cache is
  bounded. \`wasmMemoryMiB: auto\` (the default) reserves what a full cache takes anyway, about
  20 KiB per cached slice: \`cacheSize\` × 20 KiB, 39 MiB for the default 2,000 (at most 2,048 MiB).
  The reservation is made once per process, sized for one store's cache: with several sliced
  stores, their caches beyond that still grow the memory as they fill (set a number to cover
  them). The fill table below measures the difference.
- **Reloads** build the new version's index and slicer beside the serving one and swap them in one
  assignment: a decision sees the old version or the new one, never a mix. \`avp-sync\` stores
  (policies pulled from Amazon Verified Permissions) feed the same index.
- **Large files load fast.** Template links are validated one per kind (same template, slots and
  entity types: Cedar's link checks look at types, not ids), so 10,000 links cost a handful of
  checks; anything found is reported from the full set. Policy files of more than 100 statements
  are parsed in chunks (wasm has no on-stack replacement: one long call stays in V8's baseline
  tier); errors and their locations are still exactly Cedar's.

## Configuration

\`\`\`yaml
slicing:
  default: auto # auto | on | off, for every store without its own setting
  autoThreshold: 200 # auto slices a store version with at least this many policies (static + linked)
  cacheSize: 2000 # preparsed slices kept per store (LRU)
  wasmMemoryMiB: auto # grown once when a store slices: auto = cacheSize × 20 KiB (≤ 2,048) | MiB | 0 = off

stores:
  tenants: { engine: local, path: policies/tenants, slicing: on } # per store: auto | on | off
\`\`\`

- Pass only the entities a decision needs: the per-call floor is the entities, not the policies.
  For slicing, the request must carry (or \`entities.json\` must hold) the principal's and the
  resource's ancestors, as it must for Cedar to see them anyway.
- Metrics ([OBSERVABILITY.md](OBSERVABILITY.md)): \`authz_policies_evaluated\` (histogram: the slice size of a
  sliced store, every policy otherwise), \`authz_slice_cache_hits_total\`,
  \`authz_slice_cache_misses_total\` and \`authz_slice_cache_size\`, labelled by store. A miss rate
  that stays high means \`cacheSize\` is smaller than the working set of distinct slices.
- A larger \`cacheSize\` raises the memory reserved by \`auto\` with it (20 KiB per entry).

## Measurements

Regenerate this section (and this file) with \`npm run build && node bench/scale.mjs --write\`
(\`--runs\`, \`--sizes\`, \`--seconds\`, \`--no-fill\` shorten it; this run took ${Math.round(s.elapsedSeconds / 60)} min).
\`npm run bench\` runs it too. The stores come from \`scripts/gen-tenants.mjs\`: AVP's pattern of a
template linked once per tenant (\`tenant-member\`), two more templates linked for some tenants
(per-user delegation on a folder, folder editors), per-tenant groups with a hierarchy, static
permits and forbids for some tenants, and global forbids and action groups two levels deep.

${section.replace(/^## /, '### ').replace(/^### Targets/m, '#### Targets')}`;
}

// ---------------------------------------------------------------------------------------------

const isMain = process.argv[1] && path.resolve(process.argv[1]) === SELF;
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    try {
      process.stdout.write(`${JSON.stringify(await child(JSON.parse(argv[1])))}\n`);
    } catch (err) {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  } else {
    try {
      const { markdown } = await runScaleBench(argv);
      process.stdout.write(markdown);
    } catch (err) {
      process.stderr.write(`bench/scale.mjs failed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  }
}
