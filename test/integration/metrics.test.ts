import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { find, parseExposition, scrape, total, type Exposition } from '../support/prometheus.js';
import { postJson, startTestSidecar, sampleStores } from '../support/sidecar.js';

const screen = (scopes: string[], store = 'services') => ({
  store,
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes } }],
});

let sidecar: Sidecar;
let other: Sidecar;
let metrics: Exposition;
let contentType: string | null;

beforeAll(async () => {
  sidecar = await startTestSidecar({ policies: { watch: false }, server: { bodyLimitBytes: 4096 } });
  other = await startTestSidecar({ policies: { watch: false } });
  const url = `${sidecar.url}/v1/is-authorized`;
  await postJson(url, screen(['payments/screen'])); // ALLOW from the engine
  await postJson(url, screen(['payments/screen'])); // ALLOW from the cache
  await postJson(url, screen(['payments/read'])); // DENY from the engine
  await postJson(url, screen(['payments/screen'], 'no-such-store')); // 404 unknown_store
  await postJson(url, '{not json'); // 400, no decision
  await postJson(url, JSON.stringify({ ...screen([]), context: { pad: 'x'.repeat(5000) } })); // 413
  await fetch(`${sidecar.url}/healthz`);
  await fetch(`${sidecar.url}/no/such/path/acme-ops`); // 404, unmatched
  sidecar.metrics.tokenVerification('success');
  sidecar.metrics.tokenVerification('failure', 'expired');
  sidecar.metrics.tokenVerification('failure', 'a reason nobody defined');
  const res = await fetch(`${sidecar.url}/metrics`);
  contentType = res.headers.get('content-type');
  metrics = parseExposition(await res.text());
});
afterAll(async () => {
  await sidecar?.close();
  await other?.close();
});

describe('GET /metrics', () => {
  it('serves the Prometheus text format with the default process and Node.js metrics', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(metrics.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(metrics.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('declares every authz metric with its type', () => {
    expect(Object.fromEntries([...metrics.types].filter(([n]) => n.startsWith('authz_')))).toEqual({
      authz_decisions_total: 'counter',
      authz_decision_duration_seconds: 'histogram',
      authz_token_verifications_total: 'counter',
      authz_identity_lookups_total: 'counter',
      authz_cache_hits_total: 'counter',
      authz_cache_misses_total: 'counter',
      authz_cache_evictions_total: 'counter',
      authz_cache_size: 'gauge',
      authz_policy_store_info: 'gauge',
      authz_policy_reloads_total: 'counter',
      authz_engine_errors_total: 'counter',
      authz_http_requests_total: 'counter',
      authz_decision_logs_dropped_total: 'counter',
      authz_avp_calls_total: 'counter',
      authz_avp_call_duration_seconds: 'histogram',
      authz_avp_circuit_state: 'gauge',
      authz_policies_evaluated: 'histogram',
      authz_slice_cache_hits_total: 'counter',
      authz_slice_cache_misses_total: 'counter',
      authz_slice_cache_size: 'gauge',
      authz_store_evaluator: 'gauge',
      authz_evaluator_mismatches_total: 'counter',
      authz_shadow_decisions_total: 'counter',
      authz_decision_log_spool_bytes: 'gauge',
    });
  });

  it('counts decisions by store, caller type, decision, source and reason', () => {
    const decisions = find(metrics, 'authz_decisions_total').map((s) => ({ ...s.labels, n: s.value }));
    expect(decisions).toEqual(
      expect.arrayContaining([
        { store: 'services', caller_type: '', decision: 'ALLOW', source: 'engine', reason: '', n: 1 },
        { store: 'services', caller_type: '', decision: 'ALLOW', source: 'cache', reason: '', n: 1 },
        { store: 'services', caller_type: '', decision: 'DENY', source: 'engine', reason: '', n: 1 },
        { store: '', caller_type: '', decision: 'DENY', source: 'none', reason: 'unknown_store', n: 1 },
      ]),
    );
    expect(decisions).toHaveLength(4);
  });

  it('has a latency histogram whose buckets run from 25 µs to 1 s', () => {
    const buckets = find(metrics, 'authz_decision_duration_seconds_bucket', {
      store: 'services',
      source: 'engine',
    });
    const bounds = buckets.map((b) => b.labels.le);
    expect(bounds[0]).toBe('0.000025');
    expect(bounds).toContain('1');
    expect(bounds.at(-1)).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(2);
    expect(total(metrics, 'authz_decision_duration_seconds_count')).toBe(4);
    expect(total(metrics, 'authz_decision_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('counts cache hits and misses for the decision cache, and has token cache series', () => {
    expect(total(metrics, 'authz_cache_hits_total', { cache: 'decisions' })).toBe(1);
    expect(total(metrics, 'authz_cache_misses_total', { cache: 'decisions' })).toBe(2);
    expect(total(metrics, 'authz_cache_size', { cache: 'decisions' })).toBe(2);
    expect(find(metrics, 'authz_cache_hits_total', { cache: 'tokens' })).toHaveLength(1);
  });

  it('counts token verifications with bounded reasons', () => {
    const t = find(metrics, 'authz_token_verifications_total').map((s) => ({ ...s.labels, n: s.value }));
    expect(t).toEqual(
      expect.arrayContaining([
        { result: 'success', reason: '', n: 1 },
        { result: 'failure', reason: 'expired', n: 1 },
        { result: 'failure', reason: 'invalid_token', n: 1 },
      ]),
    );
  });

  it('labels each store with its version', () => {
    const info = find(metrics, 'authz_policy_store_info');
    expect(info.map((s) => s.labels.store).sort()).toEqual(sampleStores());
    for (const s of info) {
      expect(s.value).toBe(1);
      expect(s.labels.version).toBe(sidecar.stores.get(s.labels.store!)!.status().version);
      expect(s.labels.engine).toBe('local');
    }
  });

  it('counts HTTP requests by route pattern, method and status, never by raw path', () => {
    const http = find(metrics, 'authz_http_requests_total').map(
      (s) => `${s.labels.method} ${s.labels.route} ${s.labels.status} ${s.value}`,
    );
    expect(http.sort()).toEqual(
      [
        'POST /v1/is-authorized 200 3',
        'POST /v1/is-authorized 404 1',
        'POST /v1/is-authorized 400 1',
        'POST /v1/is-authorized 413 1',
        'GET /healthz 200 1',
        'GET unmatched 404 1',
      ].sort(),
    );
  });

  it('never uses a principal, resource or path as a label value', () => {
    const values = metrics.samples.flatMap((s) => Object.values(s.labels));
    for (const leak of ['fraud-svc', 'p1', 'acme-ops', '/no/such/path', 'no-such-store', 'nobody'])
      expect(values.some((v) => v.includes(leak))).toBe(false);
  });

  it('keeps the registries of two sidecars in one process apart', async () => {
    await postJson(`${other.url}/v1/is-authorized`, screen(['payments/screen']));
    const theirs = await scrape(other.url);
    expect(total(theirs, 'authz_decisions_total')).toBe(1);
    const ours = await scrape(sidecar.url);
    expect(total(ours, 'authz_decisions_total')).toBe(4);
    expect(total(ours, 'authz_http_requests_total', { route: '/metrics' })).toBe(1);
  });
});

describe('metrics off', () => {
  it('answers 404 on /metrics when disabled', async () => {
    const off = await startTestSidecar({ policies: { watch: false }, metrics: { enabled: false } });
    try {
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
