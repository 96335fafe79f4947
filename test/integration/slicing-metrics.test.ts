import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { find, scrape, total, type Exposition } from '../support/prometheus.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

/**
 * Slicing metrics on the real sidecar: the sample `services` store sliced, the others not. The
 * slice cache is cedar-wasm's pool of preparsed slices, so these stores run on `wasm` (the native
 * evaluator evaluates a slice without preparsing it, and has no such cache).
 */
const screen = (scopes: string[], payment = 'p1') => ({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: payment },
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes } }],
});

let sidecar: Sidecar;
let metrics: Exposition;
beforeAll(async () => {
  sidecar = await startTestSidecar({
    policies: { watch: false },
    stores: { services: { slicing: 'on' }, customers: { slicing: 'off' } },
    slicing: { wasmMemoryMiB: 0 },
    cache: { decisions: { enabled: false } },
    evaluator: { default: 'wasm' },
  });
  const url = `${sidecar.url}/v1/is-authorized`;
  expect((await postJson(url, screen(['payments/screen']))).json.decision).toBe('ALLOW'); // miss
  expect((await postJson(url, screen(['payments/screen'], 'p2'))).json.decision).toBe('ALLOW'); // same slice: hit
  await postJson(url, { ...screen([]), store: 'customers' }); // unsliced
  metrics = await scrape(sidecar.url);
});
afterAll(async () => sidecar?.close());

describe('slicing metrics', () => {
  it('count slice cache misses and hits, and the cache size, per store', () => {
    expect(sidecar.stores.get('services')!.status().slicing).toEqual({ cachedSlices: 1 });
    expect(total(metrics, 'authz_slice_cache_misses_total', { store: 'services' })).toBe(1);
    expect(total(metrics, 'authz_slice_cache_hits_total', { store: 'services' })).toBe(1);
    expect(total(metrics, 'authz_slice_cache_size', { store: 'services' })).toBe(1);
    expect(find(metrics, 'authz_slice_cache_hits_total', { store: 'customers' })).toHaveLength(0);
  });

  it('observe the policies evaluated per decision: the slice when sliced, every policy when not', () => {
    const services = sidecar.stores.get('services')!.status().policies!;
    const customers = sidecar.stores.get('customers')!.status().policies!;
    expect(total(metrics, 'authz_policies_evaluated_count', { store: 'services' })).toBe(2);
    const sliced = total(metrics, 'authz_policies_evaluated_sum', { store: 'services' }) / 2;
    expect(sliced).toBeGreaterThan(0);
    expect(sliced).toBeLessThan(services);
    expect(total(metrics, 'authz_policies_evaluated_sum', { store: 'customers' })).toBe(customers);
  });
});
