import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AvpStoreConfig } from '../../src/config/index.js';
import { AvpStoreEngine } from '../../src/engines/avp.js';
import type { AvpObserver } from '../../src/engines/avp-options.js';
import type { EngineAnswer, EngineRequest } from '../../src/core/engine.js';
import { startAvpPeer, type AvpPeer } from '../support/avp-peer.js';
import { avpConfig, peerStores, staticEntities, TEST_SDK } from '../support/avp-fixtures.js';

/**
 * The `avp` engine against a peer that misbehaves: it never answers ALLOW for a call that did not
 * come back well-formed, it answers in time, and it counts every failure.
 */
let peer: AvpPeer;
const engines: AvpStoreEngine[] = [];

// Timing bounds leave room for a loaded machine (the test peer shares the process and the cores);
// the slow peer answers after 2 s, so meeting them still proves nobody waited for it.
const SLACK_MS = 350;

beforeAll(async () => {
  peer = await startAvpPeer({ stores: peerStores() });
  await engine().start(); // the process's first SDK call loads modules; do it before timing anything
  peer.resetCalls();
});
afterEach(async () => {
  for (const k of Object.keys(peer.faults)) delete peer.faults[k as keyof typeof peer.faults];
  await peer.idle(); // calls abandoned at the deadline must not land in the next test
  peer.resetCalls();
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await peer?.close();
});

/** A fresh engine; the peer's faults apply to its calls only (see PeerFaults.userAgent). */
function engine(
  extra: Partial<AvpStoreConfig> = {},
  observer?: AvpObserver,
  endpoint = peer.url,
  now?: () => number,
) {
  const userAgent = `fault-test-${engines.length}`;
  const e = new AvpStoreEngine({
    name: 'customers',
    config: avpConfig('customers', endpoint, extra),
    staticEntities: staticEntities('customers'),
    sdk: { ...TEST_SDK, customUserAgent: userAgent },
    ...(observer ? { observer } : {}),
    ...(now ? { now } : {}),
  });
  engines.push(e);
  peer.faults.userAgent = userAgent;
  return e;
}
const sent = (e: AvpStoreEngine) => e.counters().calls;

/** alice views an account of her tenant: ALLOW whenever it is evaluated. */
const allowed = (resource = 'acme-ops'): EngineRequest => ({
  principal: { type: 'Payments::User', id: 'alice' },
  action: { type: 'Payments::Action', id: 'ViewAccount' },
  resource: { type: 'Payments::Account', id: resource },
  context: {},
  entities: [
    {
      uid: { type: 'Payments::User', id: 'alice' },
      attrs: { tenantId: 'acme' },
      parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
    },
    {
      uid: { type: 'Payments::Account', id: resource },
      attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
      parents: [{ type: 'Payments::Tenant', id: 'acme' }],
    },
  ],
});

const notAllowed = (a: EngineAnswer | undefined) => !(a?.kind === 'evaluated' && a.allow);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

describe('the avp engine fails closed', () => {
  it('answers ALLOW when the peer is healthy (the baseline the faults break)', async () => {
    const [a] = await engine().decide([allowed()]);
    expect(a).toMatchObject({ kind: 'evaluated', allow: true, determiningPolicies: ['viewers-read'] });
  });

  it('a slow AVP past the time budget: DENY (engine_unavailable) in time, counted as a timeout', async () => {
    peer.faults.delayMs = 2_000;
    const e = engine({ timeBudgetMs: 150 });
    const { value, ms } = await timed(() => e.decide([allowed(), allowed('acme-2')]));
    expect(ms).toBeLessThan(150 + SLACK_MS);
    expect(value.every(notAllowed)).toBe(true);
    expect(value[0]).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(e.counters().outcomes.timeout).toBeGreaterThanOrEqual(1);
    expect(e.counters().decisions.failed).toBe(2);
  });

  it('throttling is retried with backoff and then succeeds', async () => {
    peer.faults.throttle = 2;
    const e = engine({ retries: 2 });
    const [a] = await e.decide([allowed()]);
    expect(a).toMatchObject({ kind: 'evaluated', allow: true });
    expect(sent(e).IsAuthorized).toBe(3);
    expect(e.counters()).toMatchObject({ retries: 2, outcomes: { throttled: 2, ok: 1 } });
  });

  it('throttling that does not stop: retried, then DENY', async () => {
    peer.faults.throttle = Infinity;
    const e = engine({ retries: 2 });
    const [a] = await e.decide([allowed()]);
    expect(a).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(sent(e).IsAuthorized).toBe(3);
    expect(e.counters().outcomes.throttled).toBe(3);
  });

  it('retries stay inside the budget', async () => {
    peer.faults.throttle = Infinity;
    peer.faults.delayMs = 40;
    const e = engine({ retries: 10, retryBaseMs: 30, timeBudgetMs: 200 });
    const { value, ms } = await timed(() => e.decide([allowed()]));
    expect(value[0]).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(ms).toBeLessThan(200 + SLACK_MS);
    expect(sent(e).IsAuthorized).toBeLessThan(11);
  });

  it('5xx: retried; a lasting one is a DENY', async () => {
    peer.faults.serverError = 1;
    const e = engine({ retries: 1 });
    expect((await e.decide([allowed()]))[0]).toMatchObject({ kind: 'evaluated', allow: true });
    peer.faults.serverError = Infinity;
    const [a] = await e.decide([allowed()]);
    expect(a).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(e.counters().outcomes.server_error).toBe(3);
  });

  it('connection refused: DENY at once, counted as a network failure', async () => {
    const dead = await startAvpPeer();
    const url = dead.url;
    await dead.close();
    const e = engine({ retries: 1 }, undefined, url);
    const { value, ms } = await timed(() => e.decide([allowed()]));
    expect(value[0]).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(ms).toBeLessThan(1_000); // no waiting for a budget of 10 s
    expect(e.counters().outcomes.network).toBe(2);
  });

  it('a malformed response (not JSON, or a decision that is neither ALLOW nor DENY) is a DENY, not retried', async () => {
    const e = engine();
    peer.faults.malformed = 1;
    const [a] = await e.decide([allowed()]);
    expect(a).toMatchObject({ kind: 'failed', reason: 'engine_error' });
    peer.faults.badShape = 1;
    const [b] = await e.decide([allowed()]);
    expect(b).toMatchObject({ kind: 'failed', reason: 'engine_error' });
    expect(sent(e).IsAuthorized).toBe(2);
    expect(e.counters().outcomes.malformed).toBe(2);
  });

  it('a malformed batch response fails every decision of the call', async () => {
    peer.faults.badShape = 1;
    const e = engine();
    const answers = await e.decide([allowed('a1'), allowed('a2'), allowed('a3')]);
    expect(sent(e).BatchIsAuthorized).toBe(1);
    expect(answers.every((a) => a.kind === 'failed')).toBe(true);
  });

  it('one invalid request in a batch call does not take its neighbours down', async () => {
    const e = engine();
    const bad = allowed('acme-bad');
    bad.entities[1]!.attrs = { tenantId: 7 }; // the schema wants a string
    const answers = await e.decide([allowed('a1'), bad, allowed('a3')]);
    expect(answers.map((a) => a.kind)).toEqual(['evaluated', 'invalid', 'evaluated']);
    expect(sent(e)).toMatchObject({ BatchIsAuthorized: 1, IsAuthorized: 3 });
    expect(e.counters().outcomes.validation).toBe(2);
  });

  it('a value Cedar cannot hold never leaves the sidecar', async () => {
    const e = engine();
    const [a] = await e.decide([{ ...allowed(), context: { amount: 1.5 } }]);
    expect(a).toMatchObject({ kind: 'invalid', message: 'context.amount: Cedar longs are whole numbers' });
    expect(sent(e).IsAuthorized + sent(e).BatchIsAuthorized).toBe(0);
  });

  it('the circuit opens after consecutive failures, refuses without calling, and closes again', async () => {
    const states: string[] = [];
    // The breaker's clock is the test's: real time plus what the test skips ahead.
    let skipped = 0;
    const e = engine(
      { retries: 0, circuitBreaker: { failureThreshold: 3, resetMs: 300 } },
      { circuit: ({ state }) => states.push(state) },
      peer.url,
      () => Date.now() + skipped,
    );
    peer.faults.serverError = Infinity;
    for (let i = 0; i < 3; i++) expect(notAllowed((await e.decide([allowed()]))[0])).toBe(true);
    expect(e.circuitState()).toBe('open');
    expect(e.status()).toMatchObject({ circuit: 'open', ready: true });
    // Open: refused at once, nothing sent.
    const { value, ms } = await timed(() => e.decide([allowed()]));
    expect(value[0]).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(ms).toBeLessThan(SLACK_MS);
    expect(sent(e).IsAuthorized).toBe(3);
    expect(e.counters().outcomes.circuit_open).toBe(1);
    // After resetMs one probe goes out; it fails, so the circuit opens again.
    skipped += 300;
    expect(e.circuitState()).toBe('half-open');
    expect(notAllowed((await e.decide([allowed()]))[0])).toBe(true);
    expect(e.circuitState()).toBe('open');
    // AVP recovers: the next probe succeeds and closes the circuit.
    peer.faults.serverError = 0;
    skipped += 300;
    expect((await e.decide([allowed()]))[0]).toMatchObject({ kind: 'evaluated', allow: true });
    expect(e.circuitState()).toBe('closed');
    expect((await e.decide([allowed()]))[0]).toMatchObject({ kind: 'evaluated', allow: true });
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(e.counters().circuitOpened).toBe(2);
  });

  it('a peer that refuses connections and comes back: DENY while away, ALLOW after', async () => {
    const e = engine({ retries: 0, circuitBreaker: { failureThreshold: 100, resetMs: 100 } });
    await peer.refuse();
    try {
      expect((await e.decide([allowed()]))[0]).toMatchObject({
        kind: 'failed',
        reason: 'engine_unavailable',
      });
    } finally {
      await peer.restore();
    }
    expect((await e.decide([allowed()]))[0]).toMatchObject({ kind: 'evaluated', allow: true });
  });

  it('reports every call to the observer with bounded labels', async () => {
    const seen: string[] = [];
    const e = engine(
      { retries: 1 },
      { call: ({ operation, outcome }) => seen.push(`${operation}:${outcome}`) },
    );
    peer.faults.throttle = 1;
    await e.decide([allowed()]);
    await e.decide([allowed('b1'), allowed('b2')]);
    expect(seen).toEqual(['IsAuthorized:throttled', 'IsAuthorized:ok', 'BatchIsAuthorized:ok']);
  });
});

describe('cancellation: a caller that goes away stops the AVP calls made for it', () => {
  it('an aborted signal abandons the call at once, without retries, and answers DENY', async () => {
    const outcomes: string[] = [];
    const e = engine({ timeBudgetMs: 5_000, retries: 3 }, { call: (ev) => outcomes.push(ev.outcome) });
    peer.faults.delayMs = 2_000;
    const controller = new AbortController();
    const started = Date.now();
    const pending = e.decide([{ ...allowed(), signal: controller.signal }]);
    setTimeout(() => controller.abort(), 100);
    const [answer] = await pending;
    expect(Date.now() - started).toBeLessThan(100 + SLACK_MS + 500);
    expect(answer).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
    expect(outcomes).toEqual(['cancelled']);
    expect(sent(e).IsAuthorized).toBe(1);
  });

  it('a deadline sooner than the budget (a proxy’s own timeout) ends the call then', async () => {
    const e = engine({ timeBudgetMs: 5_000, retries: 0 });
    peer.faults.delayMs = 2_000;
    const started = Date.now();
    const [answer] = await e.decide([{ ...allowed(), deadline: Date.now() + 200 }]);
    expect(Date.now() - started).toBeLessThan(200 + SLACK_MS + 500);
    expect(answer).toMatchObject({ kind: 'failed', reason: 'engine_unavailable' });
  });
});
