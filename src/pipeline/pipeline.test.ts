import { describe, expect, it } from 'vitest';
import { createDecisionCache } from '../cache/decision-cache.js';
import { evaluatedAnswer, fakeStore } from '../../test/support/fake-store.js';
import { AuthzError } from '../core/errors.js';
import type { Caller, Identifier } from '../identity/types.js';
import { createPipeline, type DecisionEvent } from './pipeline.js';
import type { DecisionRequest } from '../core/decision.js';

const allow = (storeVersion: string) => evaluatedAnswer(true, storeVersion);

const stated = (id = 'alice', extra: Partial<DecisionRequest> = {}): DecisionRequest => ({
  subject: { kind: 'principal', principal: { type: 'User', id } },
  store: 'docs',
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd1' },
  context: {},
  entities: [{ uid: { type: 'User', id }, attrs: { tenant: 'acme' }, parents: [] }],
  ...extra,
});

const tokenRequest = (token: string): DecisionRequest => ({
  subject: { kind: 'token', token },
  store: 'docs',
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd1' },
  context: {},
  entities: [],
});

/** Tokens `SECRET-<id>-<tenant>` name a user and the tenant claim; anything else is expired. */
const identifier: Identifier = {
  async identify(token) {
    const m = /^SECRET-(\w+)-(\w+)$/.exec(token ?? '');
    if (!m) throw new AuthzError('expired');
    const caller: Caller = {
      type: 'user',
      issuer: 'test',
      principal: { uid: { type: 'User', id: m[1]! }, attrs: { tenant: m[2]! }, parents: [] },
      protectedTypes: ['User'],
      protectedContextKeys: [],
      context: {},
      claims: {},
    };
    return caller;
  },
};

const newCache = () => createDecisionCache({ maxEntries: 100, allowTtlMs: 60_000, denyTtlMs: 60_000 });

describe('pipeline cache stage', () => {
  it('answers the same request from the cache the second time, with a fresh id', async () => {
    const { stores, seen } = fakeStore();
    const events: DecisionEvent[] = [];
    const pipeline = createPipeline({
      stores,
      cache: newCache(),
      observers: [{ onDecision: (e) => events.push(e) }],
    });
    const first = await pipeline.decide(stated());
    const second = await pipeline.decide(stated());
    expect(seen).toHaveLength(1);
    expect(first).toMatchObject({ decision: 'ALLOW', cached: false, storeVersion: 'v1' });
    expect(second).toEqual({ ...first, decisionId: second.decisionId, cached: true });
    expect(second.decisionId).not.toBe(first.decisionId);
    expect(events.map((e) => e.decision.cached)).toEqual([false, true]);
  });

  it('never lets two principals share an entry', async () => {
    const { stores, seen } = fakeStore();
    const pipeline = createPipeline({ stores, cache: newCache() });
    await pipeline.decide(stated('alice'));
    expect((await pipeline.decide(stated('bob'))).cached).toBe(false);
    expect(seen).toHaveLength(2);
  });

  it('keys token callers on the principal the token resolves to, attributes included', async () => {
    const { stores, seen } = fakeStore();
    const pipeline = createPipeline({ stores, cache: newCache(), identifier });
    expect((await pipeline.decide(tokenRequest('SECRET-alice-acme'))).cached).toBe(false);
    // The same principal with another tenant claim is another decision.
    expect((await pipeline.decide(tokenRequest('SECRET-alice-globex'))).cached).toBe(false);
    expect((await pipeline.decide(tokenRequest('SECRET-alice-acme'))).cached).toBe(true);
    expect(seen.map((r) => r.entities[0]?.attrs.tenant)).toEqual(['acme', 'globex']);
  });

  it('never caches token failures', async () => {
    const { stores } = fakeStore();
    const cache = newCache();
    const pipeline = createPipeline({ stores, cache, identifier });
    for (let i = 0; i < 2; i++) {
      const d = await pipeline.decide(tokenRequest('not-a-token'));
      expect(d).toMatchObject({ decision: 'DENY', reason: 'expired', cached: false });
    }
    expect(cache.size()).toBe(0);
  });

  it('misses after the store version changes, and serves the new version', async () => {
    const { store, stores, seen } = fakeStore();
    const pipeline = createPipeline({ stores, cache: newCache() });
    await pipeline.decide(stated());
    store.version = 'v2';
    store.answer = () => ({ ...allow('v2'), allow: false, determiningPolicies: [] });
    const after = await pipeline.decide(stated());
    expect(after).toMatchObject({ decision: 'DENY', cached: false, storeVersion: 'v2' });
    expect((await pipeline.decide(stated())).cached).toBe(true);
    expect(seen).toHaveLength(2);
  });

  it('does not keep an answer when the store reloaded while it was evaluated', async () => {
    const { store, stores, seen } = fakeStore();
    store.answer = () => {
      store.version = 'v2'; // a reload lands between the lookup and the answer
      return allow('v2');
    };
    const cache = newCache();
    const pipeline = createPipeline({ stores, cache });
    await pipeline.decide(stated());
    expect(cache.size()).toBe(0);
    await pipeline.decide(stated()); // keyed on v2 now: evaluated and kept
    expect((await pipeline.decide(stated())).cached).toBe(true);
    expect(seen).toHaveLength(2);
  });

  it('does not cache invalid or failed engine answers, and counts engine errors', async () => {
    const { store, stores, seen } = fakeStore(() => ({
      kind: 'invalid',
      message: 'bad',
      storeVersion: 'v1',
    }));
    const errors: string[] = [];
    const pipeline = createPipeline({
      stores,
      cache: newCache(),
      metrics: { engineError: (engine, reason) => errors.push(`${engine}/${reason}`) },
    });
    await pipeline.decide(stated());
    expect(await pipeline.decide(stated())).toMatchObject({ reason: 'invalid_request', cached: false });
    store.answer = () => ({ kind: 'failed', reason: 'engine_unavailable', message: 'down' });
    await pipeline.decide(stated());
    expect(await pipeline.decide(stated())).toMatchObject({ reason: 'engine_unavailable', cached: false });
    store.answer = () => {
      throw new Error('crash');
    };
    expect(await pipeline.decide(stated())).toMatchObject({ decision: 'DENY', reason: 'engine_error' });
    expect(seen).toHaveLength(5);
    expect(errors).toEqual(['fake/engine_unavailable', 'fake/engine_unavailable', 'fake/engine_error']);
  });

  it('evaluates every time without a cache, or when the store has no version', async () => {
    const { store, stores, seen } = fakeStore();
    await createPipeline({ stores }).decide(stated());
    await createPipeline({ stores }).decide(stated());
    store.version = undefined;
    const pipeline = createPipeline({ stores, cache: newCache() });
    await pipeline.decide(stated());
    expect((await pipeline.decide(stated())).cached).toBe(false);
    expect(seen).toHaveLength(4);
  });

  it('serves hits and evaluates misses within one batch, in order', async () => {
    const { stores, seen } = fakeStore();
    const pipeline = createPipeline({ stores, cache: newCache() });
    await pipeline.decide(stated('alice'));
    const batch = await pipeline.decideBatch([stated('bob'), stated('alice'), stated('carol')]);
    expect(batch.map((d) => [d.principal?.id, d.cached])).toEqual([
      ['bob', false],
      ['alice', true],
      ['carol', false],
    ]);
    expect(seen.map((r) => r.principal.id)).toEqual(['alice', 'bob', 'carol']);
  });
});
