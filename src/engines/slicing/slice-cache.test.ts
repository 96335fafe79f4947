import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { SliceCache } from './slice-cache.js';
import { reserveWasmMemory, wasmMemoryBytes } from './wasm-memory.js';

const decide = (policySetId: string) => {
  const answer = cedar.statefulIsAuthorized({
    principal: { type: 'U', id: 'a' },
    action: { type: 'Action', id: 'read' },
    resource: { type: 'D', id: 'd' },
    context: {},
    entities: [],
    preparsedPolicySetId: policySetId,
  });
  if (answer.type !== 'success') throw new Error('failed');
  return answer.response.diagnostics.reason;
};
const set = (id: string): cedar.PolicySet => ({
  staticPolicies: { [id]: 'permit(principal, action, resource);' },
});

describe('SliceCache', () => {
  it('reuses a fixed pool of preparse ids, evicting the least recently used subset', () => {
    const cache = new SliceCache('slice:test', 3);
    const ids = new Set<string>();
    for (const key of ['a', 'b', 'c']) {
      const added = cache.add(key, set(key));
      expect(added.ok).toBe(true);
      if (added.ok) ids.add(added.id);
    }
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used; b the least
    for (const key of ['d', 'e', 'f', 'g']) {
      const added = cache.add(key, set(key));
      if (added.ok) ids.add(added.id);
    }
    expect(cache.size).toBe(3);
    expect([...ids].sort()).toEqual(['slice:test:0', 'slice:test:1', 'slice:test:2']);
    expect(cache.get('b')).toBeUndefined();
    // A reused id holds the new subset, not the evicted one.
    for (const key of ['e', 'f', 'g']) expect(decide(cache.get(key)!)).toEqual([key]);
  });

  it('gives the id back when Cedar refuses a subset', () => {
    const cache = new SliceCache('slice:bad', 1);
    const bad = cache.add('x', { staticPolicies: { x: 'permit(' } });
    expect(bad.ok).toBe(false);
    expect(cache.size).toBe(0);
    const good = cache.add('y', set('y'));
    expect(good).toEqual({ ok: true, id: 'slice:bad:0' });
  });
});

describe('reserveWasmMemory', () => {
  it('grows Cedar’s memory once, through its allocator, and only once per process', () => {
    const first = reserveWasmMemory(48 * 1_048_576);
    expect(first.bytes).toBeGreaterThanOrEqual(48 * 1_048_576);
    expect(wasmMemoryBytes()).toBe(first.bytes);
    // The reserved space is reused: work afterwards does not grow the memory.
    const policies: Record<string, string> = {};
    for (let i = 0; i < 300; i++) policies[`p${i}`] = `permit(principal == U::"u${i}", action, resource);`;
    for (let i = 0; i < 20; i++) cedar.preparsePolicySet(`reserve-test-${i}`, { staticPolicies: policies });
    expect(wasmMemoryBytes()).toBe(first.bytes);
    const second = reserveWasmMemory(512 * 1_048_576);
    expect(second.ms).toBe(0);
    expect(wasmMemoryBytes()).toBe(first.bytes);
  });
});
