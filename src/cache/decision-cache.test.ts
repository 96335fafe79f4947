import { describe, expect, it } from 'vitest';
import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import { createDecisionCache } from './decision-cache.js';

const request = (id: string): EngineRequest => ({
  principal: { type: 'User', id: 'alice' },
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id },
  context: {},
  entities: [],
});
const evaluated = (allow: boolean, storeVersion = 'v1'): EngineAnswer => ({
  kind: 'evaluated',
  allow,
  determiningPolicies: allow ? ['p1'] : [],
  errors: [],
  storeVersion,
});

function setup(overrides: Partial<Parameters<typeof createDecisionCache>[0]> = {}) {
  let clock = 1_000;
  const counts = { hit: 0, miss: 0, evict: 0 };
  const cache = createDecisionCache({
    maxEntries: 100,
    allowTtlMs: 1_000,
    denyTtlMs: 100,
    now: () => clock,
    metrics: { hit: () => counts.hit++, miss: () => counts.miss++, evict: () => counts.evict++ },
    ...overrides,
  });
  return { cache, counts, advance: (ms: number) => (clock += ms) };
}

describe('decision cache', () => {
  it('answers the second lookup from the cache and counts hits and misses', () => {
    const { cache, counts } = setup();
    const first = cache.lookup('s', 'v1', request('d1'));
    expect(first.hit).toBeUndefined();
    cache.remember(first, evaluated(true));
    expect(cache.lookup('s', 'v1', request('d1')).hit).toEqual({
      allow: true,
      determiningPolicies: ['p1'],
      errors: [],
      storeVersion: 'v1',
    });
    expect(counts).toEqual({ hit: 1, miss: 1, evict: 0 });
  });

  it('keeps ALLOW and DENY for their own TTLs', () => {
    const { cache, advance } = setup();
    cache.remember(cache.lookup('s', 'v1', request('allow')), evaluated(true));
    cache.remember(cache.lookup('s', 'v1', request('deny')), evaluated(false));
    advance(150);
    expect(cache.lookup('s', 'v1', request('deny')).hit).toBeUndefined();
    expect(cache.lookup('s', 'v1', request('allow')).hit?.allow).toBe(true);
    advance(900);
    expect(cache.lookup('s', 'v1', request('allow')).hit).toBeUndefined();
  });

  it('does not cache a DENY when its TTL is 0', () => {
    const { cache } = setup({ denyTtlMs: 0 });
    cache.remember(cache.lookup('s', 'v1', request('d')), evaluated(false));
    expect(cache.lookup('s', 'v1', request('d')).hit).toBeUndefined();
  });

  it('never keeps invalid or failed answers', () => {
    const { cache } = setup();
    const l = cache.lookup('s', 'v1', request('d'));
    cache.remember(l, { kind: 'invalid', message: 'bad', storeVersion: 'v1' });
    cache.remember(l, { kind: 'failed', reason: 'engine_error', message: 'boom' });
    expect(cache.lookup('s', 'v1', request('d')).hit).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('does not keep an answer evaluated by another version than the key', () => {
    const { cache } = setup();
    cache.remember(cache.lookup('s', 'v1', request('d')), evaluated(true, 'v2'));
    expect(cache.size()).toBe(0);
  });

  it('drops a store version once a newer one is looked up, and ignores late answers of the old one', () => {
    const { cache } = setup();
    cache.remember(cache.lookup('s', 'v1', request('a')), evaluated(true));
    const late = cache.lookup('s', 'v1', request('b'));
    expect(cache.lookup('s', 'v2', request('a')).hit).toBeUndefined();
    expect(cache.size()).toBe(0);
    cache.remember(late, evaluated(true, 'v1')); // evaluated before the reload, answered after it
    expect(cache.size()).toBe(0);
    expect(cache.lookup('s', 'v1', request('b')).hit).toBeUndefined();
  });

  it('keeps stores apart', () => {
    const { cache } = setup();
    cache.remember(cache.lookup('a', 'v1', request('d')), evaluated(true));
    expect(cache.lookup('b', 'v1', request('d')).hit).toBeUndefined();
  });

  it('stays at its bound under a flood of unique keys, evicting the least recently used', () => {
    const { cache, counts } = setup({ maxEntries: 50 });
    cache.remember(cache.lookup('s', 'v1', request('keep')), evaluated(true));
    for (let i = 0; i < 10_000; i++) {
      cache.remember(cache.lookup('s', 'v1', request(`flood-${i}`)), evaluated(i % 2 === 0));
      if (i % 10 === 0) cache.lookup('s', 'v1', request('keep')); // recently used: survives
      expect(cache.size()).toBeLessThanOrEqual(50);
    }
    expect(cache.size()).toBe(50);
    expect(counts.evict).toBe(10_001 - 50);
    expect(cache.lookup('s', 'v1', request('keep')).hit).toBeDefined();
  });

  it('rejects a bound below 1', () => {
    expect(() => createDecisionCache({ maxEntries: 0, allowTtlMs: 1, denyTtlMs: 1 })).toThrow(TypeError);
  });
});

describe('decision cache: the raw first-level key', () => {
  const serving = (version: string | undefined) => () => version;

  it('answers a byte-identical repeat from the raw key alone, with the memo it was remembered with', () => {
    const { cache, counts } = setup();
    const first = cache.lookup('s', 'v1', request('d1'), 'door\0caller1\0{"a":1}');
    expect(cache.lookupRaw('door\0caller1\0{"a":1}', serving('v1'))).toBeUndefined();
    cache.remember(first, evaluated(true), { memo: 1 });
    const repeat = cache.lookupRaw('door\0caller1\0{"a":1}', serving('v1'));
    expect(repeat).toMatchObject({ store: 's', storeVersion: 'v1', hit: { allow: true }, memo: { memo: 1 } });
    // The first lookup's miss and the raw hit; a raw miss is not counted.
    expect(counts).toMatchObject({ hit: 1, miss: 1 });
  });

  it('a semantic hit under other bytes is remembered under those bytes too', () => {
    const { cache } = setup();
    cache.remember(cache.lookup('s', 'v1', request('d1'), 'raw-1'), evaluated(true), 'm1');
    const other = cache.lookup('s', 'v1', request('d1'), 'raw-2');
    expect(other.hit?.allow).toBe(true);
    expect(cache.lookupRaw('raw-2', serving('v1'))).toBeUndefined();
    cache.rememberRaw(other, 'm2');
    expect(cache.lookupRaw('raw-2', serving('v1'))).toMatchObject({ hit: { allow: true }, memo: 'm2' });
  });

  it('never serves a raw entry past its TTL, for another version or a store not serving, or over the size bound', () => {
    const { cache, advance } = setup();
    cache.remember(cache.lookup('s', 'v1', request('d1'), 'raw'), evaluated(false), 'm');
    advance(101); // DENY TTL is 100 ms
    expect(cache.lookupRaw('raw', serving('v1'))).toBeUndefined();
    cache.remember(cache.lookup('s', 'v1', request('d2'), 'raw2'), evaluated(true), 'm');
    expect(cache.lookupRaw('raw2', serving(undefined))).toBeUndefined();
    // A reload: the entry is dropped, not served again even if the old version came back.
    cache.remember(cache.lookup('s', 'v1', request('d3'), 'raw3'), evaluated(true), 'm');
    expect(cache.lookupRaw('raw3', serving('v2'))).toBeUndefined();
    expect(cache.lookupRaw('raw3', serving('v1'))).toBeUndefined();
    const long = 'x'.repeat(5_000);
    const l = cache.lookup('s', 'v2', request('d4'), long);
    expect(l.rawKey).toBeUndefined();
    cache.remember(l, evaluated(true), 'm');
    expect(cache.lookupRaw(long, serving('v2'))).toBeUndefined();
  });
});
