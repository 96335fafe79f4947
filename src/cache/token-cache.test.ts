import { describe, expect, it } from 'vitest';
import { createTokenCache, tokenKey } from './token-cache.js';

function setup(maxEntries = 10, ttlMs = 60_000) {
  let clock = 1_700_000_000_000;
  const counts = { hit: 0, miss: 0, evict: 0 };
  const cache = createTokenCache<{ sub: string }>({
    maxEntries,
    ttlMs,
    now: () => clock,
    metrics: { hit: () => counts.hit++, miss: () => counts.miss++, evict: () => counts.evict++ },
  });
  return {
    cache,
    counts,
    nowSeconds: () => clock / 1000,
    advance: (ms: number) => (clock += ms),
  };
}

describe('verified-token cache', () => {
  it('returns what was stored for the same token, and nothing for another', () => {
    const { cache, counts } = setup();
    cache.set('token-a', { sub: 'alice' });
    expect(cache.get('token-a')).toEqual({ sub: 'alice' });
    expect(cache.get('token-b')).toBeUndefined();
    expect(counts).toEqual({ hit: 1, miss: 1, evict: 0 });
  });

  it('keeps a token until its TTL when exp is later', () => {
    const { cache, advance, nowSeconds } = setup(10, 60_000);
    cache.set('t', { sub: 'a' }, nowSeconds() + 3_600);
    advance(59_999);
    expect(cache.get('t')).toBeDefined();
    advance(1);
    expect(cache.get('t')).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('keeps a token until its exp when the TTL is later', () => {
    const { cache, advance, nowSeconds } = setup(10, 60_000);
    cache.set('t', { sub: 'a' }, nowSeconds() + 10);
    advance(9_999);
    expect(cache.get('t')).toBeDefined();
    advance(1);
    expect(cache.get('t')).toBeUndefined();
  });

  it('does not store a token that has already expired', () => {
    const { cache, nowSeconds } = setup();
    cache.set('t', { sub: 'a' }, nowSeconds());
    cache.set('u', { sub: 'a' }, nowSeconds() - 60);
    expect(cache.size()).toBe(0);
  });

  it('stays at its bound under a flood of unique tokens', () => {
    const { cache, counts } = setup(100);
    for (let i = 0; i < 5_000; i++) cache.set(`token-${i}`, { sub: String(i) });
    expect(cache.size()).toBe(100);
    expect(counts.evict).toBe(4_900);
    expect(cache.get('token-4999')).toEqual({ sub: '4999' });
    expect(cache.get('token-0')).toBeUndefined();
  });

  it('keys by a hash, never by the raw token', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
    expect(tokenKey(token)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(tokenKey(token)).not.toContain(token.slice(0, 10));
  });
});
