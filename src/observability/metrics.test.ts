import { describe, expect, it } from 'vitest';
import { parseExposition, total } from '../../test/support/prometheus.js';
import type { StoreStatus } from '../core/engine.js';
import type { Decision } from '../core/decision.js';
import { createMetrics, decisionSource } from './metrics.js';

const decision = (extra: Partial<Decision>): Decision => ({
  decision: 'ALLOW',
  decisionId: 'x',
  determiningPolicies: [],
  errors: [],
  cached: false,
  ...extra,
});

async function read(m: ReturnType<typeof createMetrics>) {
  return parseExposition(await m.registry.metrics());
}

describe('metrics', () => {
  it('maps caller types outside the configured set to "other" and a missing one to ""', async () => {
    const m = createMetrics({ callerTypes: ['user', 'service'], defaultMetrics: false });
    for (const callerType of ['user', 'service', 'internal', 'alice@example.com', undefined])
      m.observer.onDecision({
        request: {} as never,
        decision: decision({ store: 's', ...(callerType ? { callerType } : {}) }),
        durationSeconds: 0.0001,
      });
    const exp = await read(m);
    const byType = (t: string) => total(exp, 'authz_decisions_total', { caller_type: t });
    expect([byType('user'), byType('service'), byType('other'), byType('')]).toEqual([1, 1, 2, 1]);
  });

  it('tells the source of a decision apart', () => {
    expect(decisionSource(decision({ cached: true }))).toBe('cache');
    expect(decisionSource(decision({}))).toBe('engine');
    expect(decisionSource(decision({ decision: 'DENY', reason: 'expired' }))).toBe('none');
  });

  it('shows only the store versions being served, so a reload replaces the series', async () => {
    let statuses: StoreStatus[] = [{ name: 'a', engine: 'local', ready: true, version: 'v1' }];
    const m = createMetrics({ callerTypes: [], defaultMetrics: false, stores: { statuses: () => statuses } });
    expect(total(await read(m), 'authz_policy_store_info', { store: 'a', version: 'v1' })).toBe(1);
    statuses = [{ name: 'a', engine: 'local', ready: true, version: 'v2' }];
    m.policyReload('a', 'success');
    const exp = await read(m);
    expect(
      exp.samples.filter((s) => s.name === 'authz_policy_store_info').map((s) => s.labels.version),
    ).toEqual(['v2']);
    expect(total(exp, 'authz_policy_reloads_total', { store: 'a', result: 'success' })).toBe(1);
  });

  it('bounds engine error reasons and HTTP methods, and counts dropped log lines', async () => {
    const m = createMetrics({ callerTypes: [], defaultMetrics: false });
    m.engineError('local', 'engine_error');
    m.engineError('avp', 'something a remote said');
    m.httpRequest('/x', 'BREW', 418);
    m.decisionLogDropped();
    m.decisionLogDropped();
    const exp = await read(m);
    expect(total(exp, 'authz_engine_errors_total', { engine: 'local', reason: 'engine_error' })).toBe(1);
    expect(total(exp, 'authz_engine_errors_total', { engine: 'avp', reason: 'internal_error' })).toBe(1);
    expect(total(exp, 'authz_http_requests_total', { method: 'other', status: '418' })).toBe(1);
    expect(total(exp, 'authz_decision_logs_dropped_total')).toBe(2);
  });

  it('reads cache sizes when scraped', async () => {
    const m = createMetrics({ callerTypes: [], defaultMetrics: false });
    let size = 3;
    const c = m.cache('tokens', () => size);
    c.hit();
    c.miss();
    c.evict();
    size = 7;
    const exp = await read(m);
    expect(total(exp, 'authz_cache_size', { cache: 'tokens' })).toBe(7);
    for (const n of ['hits', 'misses', 'evictions'])
      expect(total(exp, `authz_cache_${n}_total`, { cache: 'tokens' })).toBe(1);
  });

  it('counts AVP calls and reads circuit states from the stores', async () => {
    const statuses: StoreStatus[] = [
      { name: 'remote', engine: 'avp', ready: true, version: 'avp:ps-1', circuit: 'open' },
      { name: 'local', engine: 'local', ready: true, version: 'v1' },
    ];
    const m = createMetrics({ callerTypes: [], defaultMetrics: false, stores: { statuses: () => statuses } });
    m.avp.call?.({ store: 'remote', operation: 'IsAuthorized', outcome: 'ok', durationSeconds: 0.02 });
    m.avp.call?.({ store: 'remote', operation: 'IsAuthorized', outcome: 'circuit_open', durationSeconds: 0 });
    const exp = await read(m);
    expect(total(exp, 'authz_avp_calls_total', { store: 'remote', outcome: 'ok' })).toBe(1);
    expect(total(exp, 'authz_avp_calls_total', { outcome: 'circuit_open' })).toBe(1);
    expect(total(exp, 'authz_avp_call_duration_seconds_count', { store: 'remote' })).toBe(1);
    const circuit = exp.samples.filter((s) => s.name === 'authz_avp_circuit_state');
    expect(circuit.map((s) => `${s.labels.store} ${s.labels.state} ${s.value}`).sort()).toEqual([
      'remote closed 0',
      'remote half-open 0',
      'remote open 1',
    ]);
  });

  it('counts policies evaluated and slice cache results', async () => {
    const m = createMetrics({ callerTypes: [], defaultMetrics: false });
    m.slices.onDecision('tenants', 3, 'hit');
    m.slices.onDecision('tenants', 4, 'miss');
    m.slices.onDecision('small', 27, 'none');
    m.slices.onCacheSize('tenants', 1);
    const exp = await read(m);
    expect(total(exp, 'authz_policies_evaluated_count', { store: 'tenants' })).toBe(2);
    expect(total(exp, 'authz_policies_evaluated_sum', { store: 'small' })).toBe(27);
    expect(total(exp, 'authz_slice_cache_hits_total', { store: 'tenants' })).toBe(1);
    expect(
      total(exp, 'authz_slice_cache_hits_total', { store: 'small' }) +
        total(exp, 'authz_slice_cache_misses_total', { store: 'small' }),
    ).toBe(0);
    expect(total(exp, 'authz_slice_cache_size', { store: 'tenants' })).toBe(1);
  });
});
