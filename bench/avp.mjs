#!/usr/bin/env node
// AVP benchmark: `npm run build && node bench/avp.mjs` (plain Node over dist/).
//
// 1. The AVP door: a sidecar child process pinned to core 0 serves AVP's protocol (AWS JSON 1.0)
//    from the local sample stores; autocannon on core 1 sends IsAuthorized and BatchIsAuthorized
//    exactly as the AWS SDK puts them on the wire. /v1/is-authorized with the same question is
//    the comparison row (the same decision through the sidecar's own API).
// 2. The `avp` engine against a local AVP-protocol peer (that same door, standing in for AVP):
//    how many AVP calls 1,000 decisions cost in the shapes callers send them, and what that costs
//    at AVP's prices; then a sidecar with an `avp` store, decision cache on and off, asked 1,000
//    questions of which 100 are distinct.
//
//   node bench/avp.mjs [--duration S] [--rounds N] [--connections C]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort, median, onCore0, runOnCore1, waitForUrl } from './lib.mjs';
import { configFromObject } from '../dist/config/index.js';
import { AvpStoreEngine } from '../dist/engines/avp.js';
import { createLogger } from '../dist/observability/logger.js';
import { startSidecar as startInProcess } from '../dist/server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
});
const DURATION = Number(opts.duration);
const ROUNDS = Number(opts.rounds);
const CONNECTIONS = Number(opts.connections);
const out = (line) => process.stdout.write(`${line}\n`);

/** The sidecar with the AVP door on, pinned to core 0. */
async function startSidecar() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'authz-bench-avp-'));
  const [port, avpPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'authz.yaml');
  writeFileSync(
    config,
    [
      `server: { port: ${port} }`,
      `policies: { dir: ${JSON.stringify(path.join(ROOT, 'policies'))}, watch: false }`,
      `log: { level: warn }`,
      `avpDoor: { enabled: true, port: ${avpPort} }`,
    ].join('\n'),
  );
  const args = [path.join(ROOT, 'bin/authz-sidecar.js'), 'serve', '--config', config];
  const [cmd, argv] = onCore0(args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForUrl(`http://127.0.0.1:${port}/readyz`);
  return {
    url: `http://127.0.0.1:${port}`,
    avpUrl: `http://127.0.0.1:${avpPort}`,
    stop: () => child.kill('SIGTERM'),
  };
}

const load = (settings) =>
  new Promise((resolve, reject) =>
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...settings }, (err, r) =>
      err ? reject(err) : resolve(r),
    ),
  );

// The question: alice (PAYMENT_INITIATOR of acme) may initiate a payment from acme-ops.
const alice = {
  identifier: { entityType: 'Payments::User', entityId: 'alice' },
  attributes: { tenantId: { string: 'acme' } },
  parents: [{ entityType: 'Payments::UserGroup', entityId: 'PAYMENT_INITIATOR' }],
};
const accountItem = (id) => ({
  identifier: { entityType: 'Payments::Account', entityId: id },
  attributes: {
    tenantId: { string: 'acme' },
    accountType: { string: 'BUSINESS' },
    country: { string: 'GB' },
  },
  parents: [{ entityType: 'Payments::Tenant', entityId: 'acme' }],
});
const isAuthorized = {
  policyStoreId: 'customers',
  principal: alice.identifier,
  action: { actionType: 'Payments::Action', actionId: 'InitiatePayment' },
  resource: accountItem('acme-ops').identifier,
  context: { contextMap: { destinationCountry: { string: 'DE' } } },
  entities: { entityList: [alice, accountItem('acme-ops')] },
};
const batch30 = {
  policyStoreId: 'customers',
  entities: { entityList: [alice, ...Array.from({ length: 30 }, (_, i) => accountItem(`acct-${i}`))] },
  requests: Array.from({ length: 30 }, (_, i) => ({
    principal: alice.identifier,
    action: { actionType: 'Payments::Action', actionId: i % 2 ? 'ViewAccount' : 'InitiatePayment' },
    resource: { entityType: 'Payments::Account', entityId: `acct-${i}` },
  })),
};
const native = {
  store: 'customers',
  principal: { type: 'Payments::User', id: 'alice' },
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: { type: 'Payments::Account', id: 'acme-ops' },
  context: { destinationCountry: 'DE' },
  entities: [
    {
      uid: { type: 'Payments::User', id: 'alice' },
      attrs: { tenantId: 'acme' },
      parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
    },
    {
      uid: { type: 'Payments::Account', id: 'acme-ops' },
      attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
      parents: [{ type: 'Payments::Tenant', id: 'acme' }],
    },
  ],
};
const amz = (op) => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `VerifiedPermissions.${op}`,
});

async function doorRows(sidecar) {
  // Check once that every row is answered with a decision (a benchmark of errors is worthless).
  for (const [url, headers, body, want] of [
    [sidecar.avpUrl, amz('IsAuthorized'), isAuthorized, '"decision":"ALLOW"'],
    [sidecar.avpUrl, amz('BatchIsAuthorized'), batch30, '"results"'],
    [`${sidecar.url}/v1/is-authorized`, { 'content-type': 'application/json' }, native, '"decision":"ALLOW"'],
  ]) {
    const text = await (await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })).text();
    if (!text.includes(want)) throw new Error(`unexpected answer from ${url}: ${text.slice(0, 300)}`);
  }
  const rows = [
    {
      name: 'AVP door: IsAuthorized (1 decision per request)',
      url: sidecar.avpUrl,
      headers: amz('IsAuthorized'),
      body: isAuthorized,
      per: 1,
    },
    {
      name: 'AVP door: BatchIsAuthorized (30 decisions per request)',
      url: sidecar.avpUrl,
      headers: amz('BatchIsAuthorized'),
      body: batch30,
      per: 30,
    },
    {
      name: 'native: POST /v1/is-authorized (same question)',
      url: `${sidecar.url}/v1/is-authorized`,
      headers: { 'content-type': 'application/json' },
      body: native,
      per: 1,
    },
  ];
  const results = new Map(rows.map((r) => [r.name, []]));
  await load({
    url: rows[0].url,
    method: 'POST',
    headers: rows[0].headers,
    body: JSON.stringify(rows[0].body),
    duration: 2,
  }); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    for (const row of rows) {
      const r = await load({
        url: row.url,
        method: 'POST',
        headers: row.headers,
        body: JSON.stringify(row.body),
      });
      if (r.non2xx || r.errors) throw new Error(`${row.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      results.get(row.name).push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
      process.stderr.write(
        `round ${round} ${row.name}: ${Math.round(r.requests.average)} req/s p99 ${r.latency.p99} ms\n`,
      );
    }
  }
  return rows.map((row) => {
    const rs = results.get(row.name);
    const rps = median(rs.map((r) => r.rps));
    return {
      name: row.name,
      rps,
      decisions: rps * row.per,
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
    };
  });
}

/** Engine requests in the shapes callers send them. */
function engineRequest(principal, resource, action = 'ViewAccount') {
  return {
    principal: { type: 'Payments::User', id: principal },
    action: { type: 'Payments::Action', id: action },
    resource: { type: 'Payments::Account', id: resource },
    context: {},
    entities: [
      {
        uid: { type: 'Payments::User', id: principal },
        attrs: { tenantId: 'acme' },
        parents: [{ type: 'Payments::UserGroup', id: 'VIEWER' }],
      },
      {
        uid: { type: 'Payments::Account', id: resource },
        attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
        parents: [],
      },
    ],
  };
}

async function engineRows(sidecar) {
  const config = (minBatchSize) => ({
    engine: 'avp',
    policyStoreId: 'customers',
    region: 'us-east-1',
    endpoint: sidecar.avpUrl,
    mode: 'is-authorized',
    tokenField: 'auto',
    timeBudgetMs: 2_000,
    retries: 2,
    retryBaseMs: 25,
    circuitBreaker: { failureThreshold: 5, resetMs: 10_000 },
    minBatchSize,
  });
  const shapes = [
    {
      name: 'one decision per request',
      batches: () => Array.from({ length: 1000 }, (_, i) => [engineRequest(`u${i % 50}`, `a${i}`)]),
    },
    {
      name: 'UI permissions: 1 user × 20 actions/resources per page',
      batches: () =>
        Array.from({ length: 50 }, (_, b) =>
          Array.from({ length: 20 }, (_, i) => engineRequest(`u${b}`, `a${i}`)),
        ),
    },
    {
      name: 'list filter: 1 user × 100 resources',
      batches: () =>
        Array.from({ length: 10 }, (_, b) =>
          Array.from({ length: 100 }, (_, i) => engineRequest(`u${b}`, `a${b}-${i}`)),
        ),
    },
    {
      name: 'mixed batch: 10 requests, random users and resources',
      batches: () =>
        Array.from({ length: 100 }, () =>
          Array.from({ length: 10 }, () =>
            engineRequest(`u${Math.floor(Math.random() * 20)}`, `a${Math.floor(Math.random() * 20)}`),
          ),
        ),
    },
  ];
  const rows = [];
  for (const minBatchSize of [2, 30]) {
    for (const shape of shapes) {
      const engine = new AvpStoreEngine({
        name: 'customers',
        config: config(minBatchSize),
        sdk: { credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
      });
      await engine.start();
      const latencies = [];
      const started = performance.now();
      for (const batch of shape.batches()) {
        const t = performance.now();
        const answers = await engine.decide(batch);
        latencies.push(performance.now() - t);
        if (answers.some((a) => a.kind !== 'evaluated'))
          throw new Error(`${shape.name}: ${JSON.stringify(answers.find((a) => a.kind !== 'evaluated'))}`);
      }
      const elapsed = (performance.now() - started) / 1000;
      const c = engine.counters();
      const single = c.calls.IsAuthorized;
      const batched = c.calls.BatchIsAuthorized;
      const decisions = c.decisions.evaluated;
      await engine.close();
      rows.push({
        name: shape.name,
        minBatchSize,
        decisions,
        single: (single / decisions) * 1000,
        batched: (batched / decisions) * 1000,
        // AVP list prices (us-east-1): $5 per million single calls; batch calls $150 per million
        // in the first tier (first 40 M a month), $75 next 60 M, $40 beyond.
        cost: (((single * 5 + batched * 150) / decisions) * 1e6) / 1e6,
        costTop: (((single * 5 + batched * 40) / decisions) * 1e6) / 1e6,
        p50: median(latencies),
        perSecond: decisions / elapsed,
      });
      process.stderr.write(
        `engine ${shape.name} (minBatchSize ${minBatchSize}): ${JSON.stringify(rows.at(-1))}\n`,
      );
    }
  }
  return rows;
}

/** A sidecar (in this process) whose store is the avp engine, with the decision cache on or off. */
async function cacheRows(peer) {
  // The peer ignores signatures; the SDK's default chain finds these in the environment.
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const questions = (distinct) =>
    Array.from({ length: 1000 }, (_, i) => {
      const n = distinct >= 1000 ? i : Math.floor(random() * distinct);
      return engineRequest(`u${n % 10}`, `a${Math.floor(n / 10)}`);
    });
  const rows = [];
  for (const [enabled, distinct] of [
    [false, 100],
    [true, 100],
    [true, 1000],
  ]) {
    const loaded = configFromObject(
      {
        server: { port: 0 },
        policies: { watch: false },
        // Its stdout is this script's markdown: no decision lines there.
        decisionLog: { enabled: false },
        stores: {
          remote: {
            engine: 'avp',
            policyStoreId: 'customers',
            region: 'us-east-1',
            endpoint: peer.avpUrl,
            timeBudgetMs: 2000,
          },
        },
        cache: { decisions: { enabled } },
        metrics: { defaultMetrics: false },
      },
      ROOT,
    );
    const sidecar = await startInProcess(loaded, createLogger('silent'));
    try {
      const engine = sidecar.stores.get('remote');
      const before = engine.counters().calls.IsAuthorized;
      const latencies = [];
      let cached = 0;
      for (const q of questions(distinct)) {
        const t = performance.now();
        const d = await sidecar.pipeline.decide({
          subject: { kind: 'principal', principal: q.principal },
          store: 'remote',
          action: q.action,
          resource: q.resource,
          context: q.context,
          entities: q.entities,
        });
        latencies.push(performance.now() - t);
        if (d.reason) throw new Error(`cache rows: ${d.reason} ${d.message}`);
        if (d.cached) cached++;
      }
      const calls = engine.counters().calls.IsAuthorized - before;
      rows.push({ enabled, distinct, calls, cached, p50: median(latencies) });
      process.stderr.write(
        `cache ${enabled ? 'on' : 'off'}, ${distinct} distinct: ${calls} calls, ${cached} cached\n`,
      );
    } finally {
      await sidecar.close();
    }
  }
  return rows;
}

async function main() {
  const sidecar = await startSidecar();
  try {
    const door = await doorRows(sidecar);
    const engine = await engineRows(sidecar);
    const cache = await cacheRows(sidecar);
    out(
      `## AVP benchmark (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores)`,
    );
    out('');
    out(
      `Command: \`npm run build && node bench/avp.mjs\` (${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections, medians; sidecar pinned to core 0, load on core 1).`,
    );
    out('');
    out('| AVP door row | requests/s | decisions/s | p50 ms | p99 ms |');
    out('| --- | ---: | ---: | ---: | ---: |');
    for (const r of door)
      out(`| ${r.name} | ${Math.round(r.rps)} | ${Math.round(r.decisions)} | ${r.p50} | ${r.p99} |`);
    out('');
    out(
      '| avp engine, decisions sent as | minBatchSize | IsAuthorized calls / 1,000 decisions | BatchIsAuthorized calls / 1,000 | $ per million decisions (tier 1 / > 100 M) | p50 ms per decide() |',
    );
    out('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of engine)
      out(
        `| ${r.name} | ${r.minBatchSize} | ${r.single.toFixed(0)} | ${r.batched.toFixed(1)} | ${r.cost.toFixed(2)} / ${r.costTop.toFixed(2)} | ${r.p50.toFixed(1)} |`,
      );
    out('');
    out(
      '| sidecar with an avp store, 1,000 decisions | distinct questions | AVP calls | served from cache | $ per million decisions (single calls) | p50 ms per decision |',
    );
    out('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of cache)
      out(
        `| decision cache ${r.enabled ? 'on' : 'off'} | ${r.distinct} | ${r.calls} | ${r.cached} | ${((r.calls / 1000) * 5).toFixed(2)} | ${r.p50.toFixed(2)} |`,
      );
  } finally {
    sidecar.stop();
  }
}

// The load (autocannon, in this process) on core 1, the sidecar on core 0.
await runOnCore1(main);
