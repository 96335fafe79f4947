#!/usr/bin/env node
// `npm run bench`: the sidecar and a bare hono floor, each pinned to core 0 in its own process,
// loaded by autocannon pinned to core 1. Rows are interleaved over several rounds and medians
// reported, because this machine is shared and noisy. Writes docs/BENCHMARKS.md.
//
//   node bench/run.mjs [--duration S] [--rounds N] [--connections C] [--flood N] [--no-write]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  freePort,
  manifestMemoryLimitMiB,
  median,
  memoryCgroup,
  onCore0Limited,
  runOnCore1,
  waitForUrl,
} from './lib.mjs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mintDevToken } from '../dist/identity/dev-issuer.js';
import { envoyProtoDirs, PROTO_OPTIONS } from '../dist/doors/grpc/protos.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    flood: { type: 'string', default: '1000000' },
    tokens: { type: 'string', default: '100000' },
    'no-write': { type: 'boolean', default: false },
    // The sidecar runs under this memory limit (MiB), as in its pod; 0: no limit. Default: the
    // limit of deploy/kubernetes/sidecar.yaml.
    'memory-limit': { type: 'string' },
  },
});
const DURATION = Number(opts.duration);
const ROUNDS = Number(opts.rounds);
const CONNECTIONS = Number(opts.connections);
let stopping = false;

const cores = os.cpus().length;

function startProcess(args, env = {}, cgroup = undefined) {
  const [cmd, argv] = onCore0Limited(args, cgroup);
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-20000)));
  child.on('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(`${args[0]} exited (${code ?? signal}) during the benchmark:\n${log}\n`);
  });
  return { child, log: () => log };
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // A process that has exited (a zombie until reaped) has no VmRSS line.
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

function load(opts) {
  return new Promise((resolve, reject) => {
    const settings = { connections: CONNECTIONS, ...(opts.amount ? {} : { duration: DURATION }), ...opts };
    const instance = autocannon(settings, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, {
      renderProgressBar: false,
      renderResultsTable: false,
      renderLatencyTable: false,
    });
  });
}

/**
 * The memory bound the sidecar promises with the default caches (10,000 decisions, 10,000 tokens):
 * the container limit of deploy/kubernetes/sidecar.yaml, so the benchmark checks the manifest.
 */
const RSS_BOUND_MIB = 384;

/** The sidecar's own decision-latency histogram (`authz_decision_duration_seconds`) for one source. */
async function decisionBuckets(base, source) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('authz_decision_duration_seconds_bucket{')) continue;
    if (!line.includes('store="customers"') || !line.includes(`source="${source}"`)) continue;
    buckets.set(/le="([^"]+)"/.exec(line)[1], Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The upper bound (ms) of the bucket holding quantile q of the decisions between two scrapes. */
function bucketQuantile(before, after, q) {
  const les = [...after.keys()].sort((a, b) => Number(a) - Number(b));
  const total = after.get('+Inf') - (before.get('+Inf') ?? 0);
  for (const le of les)
    if (after.get(le) - (before.get(le) ?? 0) >= q * total)
      return le === '+Inf' ? Infinity : Number(le) * 1000;
  return Infinity;
}

/**
 * autocannon speaks HTTP/1.1 only, so the gRPC Check row is driven by a grpc-js client (built from
 * Envoy's protos like the server) keeping CONNECTIONS calls in flight for the duration; latencies
 * are whole milliseconds like autocannon's.
 */
function grpcLoad({ client, request, duration }) {
  return new Promise((resolve) => {
    const latencies = [];
    let errors = 0;
    let inFlight = 0;
    const started = Date.now();
    const until = started + duration * 1000;
    const fire = () => {
      if (Date.now() >= until) {
        if (inFlight === 0) finish();
        return;
      }
      inFlight++;
      const t0 = process.hrtime.bigint();
      client.Check(request, (err, res) => {
        inFlight--;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (err || res.status?.code !== 0) errors++;
        fire();
      });
    };
    const finish = () => {
      const sorted = latencies.sort((a, b) => a - b);
      const at = (q) => Math.floor(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
      resolve({
        requests: { average: latencies.length / ((Date.now() - started) / 1000) },
        latency: { p50: at(0.5), p99: at(0.99) },
        errors,
        non2xx: 0,
      });
    };
    for (let i = 0; i < CONNECTIONS; i++) fire();
  });
}

async function main() {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'authz-bench-'));
  const keyDir = path.join(tmp, 'keys');
  const port = await freePort();
  const grpcPort = await freePort();
  const floorPort = await freePort();
  const config = path.join(tmp, 'bench.yaml');
  // The dev config with absolute paths, a temp key and quiet logs.
  const dev = readFileSync(path.join(ROOT, 'config/dev.yaml'), 'utf8')
    .replaceAll('../.dev-keys', keyDir)
    .replace('dir: ../policies', `dir: ${path.join(ROOT, 'policies')}`)
    .replace(/^grpc:\n {2}enabled: true$/m, `grpc:\n  enabled: true\n  port: ${grpcPort}`);
  writeFileSync(config, `${dev}\nserver: { port: ${port} }\nlog: { level: warn }\n`);
  await mintDevToken({ keyDir, kind: 'user', sub: 'warmup' });

  // Under the pod's memory limit: Node sizes its heap from it, as it will in the container.
  const limitMiB = Number(opts['memory-limit'] ?? manifestMemoryLimitMiB() ?? 0);
  const cgroup = limitMiB > 0 ? memoryCgroup(limitMiB) : undefined;
  if (limitMiB > 0 && !cgroup)
    process.stderr.write(
      `cannot make a ${limitMiB} MiB memory cgroup here (not root?): the sidecar runs unlimited\n`,
    );
  const sidecar = startProcess(['bin/authz-sidecar.js', 'serve', '--config', config], {}, cgroup);
  const floor = startProcess(['bench/floor-server.mjs'], { PORT: String(floorPort) });
  const stop = () => {
    stopping = true;
    sidecar.child.kill('SIGTERM');
    floor.child.kill('SIGTERM');
  };
  process.on('exit', stop);
  await waitForUrl(`http://127.0.0.1:${port}/readyz`);
  await waitForUrl(`http://127.0.0.1:${floorPort}/floor`).catch(() => {}); // GET /floor is 404 but answers
  const base = `http://127.0.0.1:${port}`;

  const alice = await mintDevToken({
    keyDir,
    kind: 'user',
    sub: 'alice',
    groups: ['PAYMENT_INITIATOR'],
    claims: { 'custom:tenantId': 'acme' },
  });
  const account = (id) => ({
    type: 'Payments::Account',
    id,
    attributes: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
  });
  const item = (id) => ({
    action: { type: 'Payments::Action', id: 'InitiatePayment' },
    resource: account(id),
    context: { destinationCountry: 'DE' },
  });
  const authHeaders = (t) => ({ 'content-type': 'application/json', authorization: `Bearer ${t}` });
  const envoyDefinition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...PROTO_OPTIONS,
    includeDirs: envoyProtoDirs(),
  });
  const Authorization = grpc.loadPackageDefinition(envoyDefinition).envoy.service.auth.v3.Authorization;
  const grpcClient = new Authorization(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  // A CheckRequest as Envoy sends it for `GET /accounts/acme-ops` (routes in config/dev.yaml).
  const checkRequest = {
    attributes: {
      request: {
        http: {
          method: 'GET',
          path: '/accounts/acme-ops',
          host: 'payments.example.com',
          scheme: 'https',
          protocol: 'HTTP/1.1',
          headers: {
            ':authority': 'payments.example.com',
            ':method': 'GET',
            ':path': '/accounts/acme-ops',
            authorization: `Bearer ${alice}`,
          },
        },
      },
    },
  };
  const body = JSON.stringify(item('acme-ops'));

  process.stderr.write(`minting ${opts.tokens} unique tokens…\n`);
  const tokens = [];
  for (let i = 0; i < Number(opts.tokens); i++) {
    tokens.push(
      await mintDevToken({
        keyDir,
        kind: 'user',
        sub: `u${i}`,
        groups: ['PAYMENT_INITIATOR'],
        claims: { 'custom:tenantId': 'acme' },
      }),
    );
  }

  let counter = 0;
  let tokenIndex = 0;
  const rows = [
    {
      name: 'floor: bare hono JSON endpoint',
      url: `http://127.0.0.1:${floorPort}/floor`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    },
    {
      name: '/v1/authorize, same request (cached when the cache is on)',
      url: `${base}/v1/authorize`,
      method: 'POST',
      headers: authHeaders(alice),
      body,
    },
    {
      name: '/v1/authorize, unique resource per request (uncached)',
      url: `${base}/v1/authorize`,
      method: 'POST',
      headers: authHeaders(alice),
      setupRequest: (req) => ({ ...req, body: JSON.stringify(item(`acct-${counter++}`)) }),
    },
    {
      name: '/v1/authorize, unique token per request',
      url: `${base}/v1/authorize`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, headers: authHeaders(tokens[tokenIndex++ % tokens.length]), body }),
    },
    {
      name: '/v1/authorize/batch, 30 items (req/s = batches/s)',
      url: `${base}/v1/authorize/batch`,
      method: 'POST',
      headers: authHeaders(alice),
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({ items: Array.from({ length: 30 }, () => item(`acct-${counter++}`)) }),
      }),
    },
    {
      name: 'Envoy HTTP ext_authz, GET /ext-authz/accounts/{id} (path → action)',
      url: `${base}/ext-authz/accounts/acme-ops`,
      method: 'GET',
      headers: { authorization: `Bearer ${alice}`, host: 'payments.example.com' },
    },
    {
      name: 'Envoy gRPC ext_authz Check, same request (grpc-js client)',
      grpc: { client: grpcClient, request: checkRequest },
    },
    {
      name: '/v1/is-authorized, explicit principal',
      url: `${base}/v1/is-authorized`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        store: 'services',
        principal: { type: 'Payments::Service', id: 'fraud-svc' },
        action: { type: 'Payments::Action', id: 'ScreenPayment' },
        resource: { type: 'Payments::Payment', id: 'p1' },
        entities: [
          {
            uid: { type: 'Payments::Service', id: 'fraud-svc' },
            attrs: { scopes: ['payments/screen'] },
            parents: [],
          },
        ],
      }),
    },
  ];

  // Warm up the JIT and cedar-wasm on every row before measuring.
  const run = (row, extra = {}) =>
    row.grpc
      ? grpcLoad({ ...row.grpc, duration: extra.duration ?? DURATION })
      : load({
          ...row,
          ...extra,
          requests: row.setupRequest ? [{ setupRequest: row.setupRequest }] : undefined,
        });
  for (const row of rows) await run(row, { duration: 3 });

  const results = new Map(rows.map((r) => [r.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const row of rows) {
      const r = await run(row);
      results.get(row.name).push({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.non2xx,
      });
      process.stderr.write(
        `round ${round} ${row.name}: ${Math.round(r.requests.average)} req/s p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms\n`,
      );
    }
  }

  // p99 at a fixed 2,000 req/s: uncached (a unique resource each time) and cached (one request).
  const fixed = [];
  const fixedCached = [];
  // The same runs seen from inside: the pipeline's own decision time (no HTTP, no queueing).
  const serverP99 = [];
  const serverP99Cached = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let before = await decisionBuckets(base, 'engine');
    const r = await load({
      url: `${base}/v1/authorize`,
      method: 'POST',
      headers: authHeaders(alice),
      connections: 20,
      overallRate: 2000,
      requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(item(`fixed-${counter++}`)) }) }],
    });
    fixed.push(r.latency.p99);
    serverP99.push(bucketQuantile(before, await decisionBuckets(base, 'engine'), 0.99));
    before = await decisionBuckets(base, 'cache');
    const c = await load({
      url: `${base}/v1/authorize`,
      method: 'POST',
      headers: authHeaders(alice),
      connections: 20,
      overallRate: 2000,
      body,
    });
    fixedCached.push(c.latency.p99);
    serverP99Cached.push(bucketQuantile(before, await decisionBuckets(base, 'cache'), 0.99));
    process.stderr.write(
      `round ${round} at 2,000 req/s: p99 uncached ${r.latency.p99} ms, cached ${c.latency.p99} ms\n`,
    );
  }

  // Memory under a flood of unique requests and unique tokens.
  const rssBefore = rssOf(sidecar.child.pid);
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(sidecar.child.pid))), 250);
  const floodStart = counter;
  await load({
    url: `${base}/v1/authorize`,
    method: 'POST',
    headers: authHeaders(alice),
    amount: Number(opts.flood),
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(item(`flood-${counter++}`)) }) }],
  });
  tokenIndex = 0;
  await load({
    url: `${base}/v1/authorize`,
    method: 'POST',
    amount: tokens.length,
    requests: [
      {
        setupRequest: (req) => ({ ...req, headers: authHeaders(tokens[tokenIndex++ % tokens.length]), body }),
      },
    ],
  });
  clearInterval(sampler);
  const rssAfter = rssOf(sidecar.child.pid);
  grpcClient.close();
  stop();

  const floorRps = median(results.get(rows[0].name).map((x) => x.rps));
  const table = rows.map((row) => {
    const xs = results.get(row.name);
    const rps = median(xs.map((x) => x.rps));
    return `| ${row.name} | ${Math.round(rps).toLocaleString('en-US')} | ${(rps / floorRps).toFixed(2)} | ${median(xs.map((x) => x.p50))} | ${median(xs.map((x) => x.p99))} | ${xs.reduce((a, x) => a + x.errors, 0)} |`;
  });
  const mb = (b) => `${(b / 1048576).toFixed(0)} MiB`;
  const rpsOf = (i) => median(results.get(rows[i].name).map((x) => x.rps));
  const p99Fixed = median(fixed);
  const targets = [
    {
      name: 'cached `/v1/authorize` ≥ 70% of the floor',
      measured: `${Math.round((rpsOf(1) / floorRps) * 100)}%`,
      met: rpsOf(1) >= 0.7 * floorRps,
    },
    {
      name: 'uncached local decisions ≥ 8,000/s on one core',
      measured: `${Math.round(rpsOf(2)).toLocaleString('en-US')}/s`,
      met: rpsOf(2) >= 8000,
    },
    {
      // autocannon's histogram counts whole milliseconds: 0 is every request under 1 ms.
      name: 'p99 < 1 ms at 2,000 req/s, uncached',
      measured: p99Fixed === 0 ? '< 1 ms' : `${p99Fixed} ms`,
      met: p99Fixed === 0,
    },
    {
      name: 'p99 ≤ 1 ms at 2,000 req/s inside the sidecar (decision pipeline, uncached)',
      measured: `≤ ${median(serverP99)} ms`,
      met: median(serverP99) <= 1,
    },
    {
      name: 'p99 < 1 ms at 2,000 req/s, cached',
      measured: median(fixedCached) === 0 ? '< 1 ms' : `${median(fixedCached)} ms`,
      met: median(fixedCached) === 0,
    },
    {
      name: `RSS ≤ ${RSS_BOUND_MIB} MiB through the flood of unique requests and tokens`,
      measured: `peak ${mb(peak)}`,
      met: peak <= RSS_BOUND_MIB * 1048576,
    },
  ];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const md = `# Benchmarks

Produced by \`npm run bench\` (\`node bench/run.mjs --duration ${DURATION} --rounds ${ROUNDS} --connections ${CONNECTIONS}\`) on
${new Date().toISOString().slice(0, 10)}: ${cpu}, ${cores} cores, Node ${process.version}. The sidecar and the floor each run
in their own process pinned to core 0 (\`taskset -c 0\`); autocannon (${CONNECTIONS} connections) runs pinned to core 1.
Each row ran ${DURATION} s per round, rows interleaved over ${ROUNDS} rounds after a 3 s warm-up; the table shows medians.
The machine is shared and noisy: compare ratios, not absolute numbers.

The sidecar runs \`config/dev.yaml\` (decision cache, token cache and the decision log on; its stdout goes to /dev/null).
The floor is a bare hono endpoint (\`bench/floor-server.mjs\`) that parses the same JSON body and answers a small JSON.
The two Envoy rows send the proxy doors' requests for \`GET /accounts/acme-ops\` (no body, routed by \`httpRoutes\`);
the gRPC row is loaded by a grpc-js client with ${CONNECTIONS} calls in flight, so compare it with the HTTP rows loosely.

| Row | req/s | ratio to floor | p50 ms | p99 ms | errors + non-2xx |
| --- | ---: | ---: | ---: | ---: | ---: |
${table.join('\n')}

- p99 at a fixed 2,000 req/s (20 connections), median of ${ROUNDS}: uncached (unique resource per request) **${median(fixed) === 0 ? '< 1' : median(fixed)} ms** (rounds: ${fixed.join(', ')}), cached **${median(fixedCached) === 0 ? '< 1' : median(fixedCached)} ms** (rounds: ${fixedCached.join(', ')}). autocannon's latency histogram has whole-millisecond buckets, so 0 means under 1 ms. Inside the sidecar, in the same runs, the pipeline's own p99 (\`authz_decision_duration_seconds\`, from identity to decision, without HTTP or queueing) was at most **${median(serverP99)} ms** uncached and **${median(serverP99Cached)} ms** cached (bucket upper bounds).
- Memory (${cgroup ? `the sidecar under a ${limitMiB} MiB memory limit, as in deploy/kubernetes/sidecar.yaml; Node sizes its heap from it` : "the sidecar without a memory limit: Node sizes its heap from all of this machine's memory"}): RSS ${mb(rssBefore)} before a flood of ${Number(opts.flood).toLocaleString('en-US')} unique requests (${(counter - floodStart).toLocaleString('en-US')} sent) and ${tokens.length.toLocaleString('en-US')} unique tokens; peak ${mb(peak)}, after ${mb(rssAfter)}.

## Targets

| Target | Measured | Met |
| --- | ---: | :---: |
${targets.map((t) => `| ${t.name} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`).join('\n')}
`;
  if (!opts['no-write']) writeFileSync(path.join(ROOT, 'docs/BENCHMARKS.md'), md);
  process.stdout.write(md);
}

// The load generator (this process) on core 1; the sidecar and the floor on core 0.
await runOnCore1(main);
