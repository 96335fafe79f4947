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

describe('pipeline.decideRaw: a byte-identical repeat answered before parsing', () => {
  /** Like the token cache: the same Caller object for the same token, and a count of verifications. */
  function cachingIdentifier() {
    const callers = new Map<string, Caller>();
    let verifications = 0;
    const id: Identifier = {
      async identify(token) {
        verifications++;
        const known = callers.get(token ?? '');
        if (known) return known;
        const caller = await identifier.identify(token);
        callers.set(token!, caller);
        return caller;
      },
    };
    return { id, verifications: () => verifications };
  }

  it('parses the first request, and not its repeat; a reload makes the repeat parsed and decided again', async () => {
    const { store, stores, seen } = fakeStore();
    const events: DecisionEvent[] = [];
    const pipeline = createPipeline({
      stores,
      cache: newCache(),
      observers: [{ onDecision: (e) => events.push(e) }],
    });
    let parses = 0;
    const parse = () => (parses++, stated());
    const raw = { door: 'is-authorized', text: '{"same":"bytes"}' };
    const first = await pipeline.decideRaw(raw, null, parse);
    // The second time the semantic key answers (and the bytes are remembered); from the third on,
    // the bytes alone.
    const second = await pipeline.decideRaw(raw, null, parse);
    const repeat = await pipeline.decideRaw(raw, null, parse);
    expect([first.cached, second.cached, repeat.cached, parses, seen.length]).toEqual([
      false,
      true,
      true,
      2,
      1,
    ]);
    expect(repeat).toMatchObject({
      decision: 'ALLOW',
      store: 'docs',
      storeVersion: 'v1',
      principal: { id: 'alice' },
    });
    expect(repeat.decisionId).not.toBe(first.decisionId);
    // Observers see the repeat like any decision: the request and what the store was asked.
    expect(events[2]).toMatchObject({
      decision: repeat,
      request: { action: { id: 'read' } },
      evaluated: { principal: { id: 'alice' } },
    });
    expect(events[2]!.request).not.toHaveProperty('raw');
    // Other bytes (the same question in another key order) are parsed, and answered by the semantic key.
    const reordered = await pipeline.decideRaw({ ...raw, text: '{ "same":"bytes"}' }, null, parse);
    expect([reordered.cached, parses, seen.length]).toEqual([true, 3, 1]);
    store.version = 'v2';
    store.answer = () => evaluatedAnswer(false, 'v2');
    const afterReload = await pipeline.decideRaw(raw, null, parse);
    expect([afterReload.decision, afterReload.cached, parses, seen.length]).toEqual(['DENY', false, 4, 2]);
  });

  it('a repeat by another token is parsed and decided for its own caller; a bad token is verified once', async () => {
    const { stores, seen } = fakeStore((r) => evaluatedAnswer(r.principal.id === 'alice'));
    const ids = cachingIdentifier();
    const pipeline = createPipeline({ stores, identifier: ids.id, cache: newCache() });
    let parses = 0;
    const raw = { door: 'authorize', text: '{"q":1}' };
    const ask = (token: string) => pipeline.decideRaw(raw, token, () => (parses++, tokenRequest(token)));
    await ask('SECRET-alice-acme');
    await ask('SECRET-alice-acme');
    const again = await ask('SECRET-alice-acme');
    expect([again.cached, parses]).toEqual([true, 2]);
    const bob = await ask('SECRET-bob-acme');
    expect([bob.decision, bob.cached, parses, seen.length]).toEqual(['DENY', false, 3, 2]);
    const before = ids.verifications();
    const bad = await ask('forged');
    expect([bad.decision, bad.reason, parses]).toEqual(['DENY', 'expired', 4]);
    expect(ids.verifications() - before).toBe(1);
  });

  it('repeat answers only a repeat; its miss, handed to decideRaw, spares the second verification', async () => {
    const { stores, seen } = fakeStore();
    const ids = cachingIdentifier();
    const pipeline = createPipeline({ stores, identifier: ids.id, cache: newCache() });
    const raw = { door: 'authorize', text: '{"q":2}' };
    let parses = 0;
    const parse = () => (parses++, tokenRequest('SECRET-alice-acme'));
    const first = await pipeline.repeat(raw, 'SECRET-alice-acme');
    expect([first.decision, parses, ids.verifications()]).toEqual([undefined, 0, 1]);
    const decided = await pipeline.decideRaw(raw, 'SECRET-alice-acme', parse, first.miss);
    expect([decided.decision, decided.cached, parses, ids.verifications(), seen.length]).toEqual([
      'ALLOW',
      false,
      1,
      1,
      1,
    ]);
    // The semantic key answers the second time (remembering the bytes); from then on `repeat` does.
    await pipeline.decideRaw(raw, 'SECRET-alice-acme', parse);
    const found = await pipeline.repeat(raw, 'SECRET-alice-acme');
    expect([found.decision?.decision, found.decision?.cached, parses, seen.length]).toEqual([
      'ALLOW',
      true,
      2,
      1,
    ]);
    // Another caller's bytes are not a repeat, and a bad token is a miss carrying its failure.
    expect((await pipeline.repeat(raw, 'SECRET-bob-acme')).decision).toBeUndefined();
    const bad = await pipeline.repeat(raw, 'forged');
    const before = ids.verifications();
    const refused = await pipeline.decideRaw(raw, 'forged', () => tokenRequest('forged'), bad.miss);
    expect([refused.decision, refused.reason, ids.verifications() - before]).toEqual(['DENY', 'expired', 0]);
  });

  it('a token known only after parsing (in the body) is never answered from the bytes', async () => {
    const { stores, seen } = fakeStore();
    const pipeline = createPipeline({ stores, identifier: cachingIdentifier().id, cache: newCache() });
    let parses = 0;
    const raw = { door: 'authorize', text: '{"token":"SECRET-alice-acme"}' };
    for (let i = 0; i < 2; i++)
      await pipeline.decideRaw(raw, undefined, () => (parses++, tokenRequest('SECRET-alice-acme')));
    expect([parses, seen.length]).toEqual([2, 1]);
  });
});
