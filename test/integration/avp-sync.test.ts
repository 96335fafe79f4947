import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AvpSyncStoreConfig } from '../../src/config/index.js';
import { AvpSyncStoreEngine, type SyncResult } from '../../src/engines/avp-sync.js';
import type { EngineRequest } from '../../src/core/engine.js';
import type { Sidecar } from '../../src/server.js';
import {
  peerStores,
  staticEntities,
  storeIdOf,
  syncConfig,
  TEST_CREDENTIALS,
  TEST_SDK,
} from '../support/avp-fixtures.js';
import { PeerStore, startAvpPeer, type AvpPeer } from '../support/avp-peer.js';
import { startTestSidecar } from '../support/sidecar.js';

/**
 * The avp-sync engine against the peer's policy-management API: changes show up after one
 * interval, only what changed is fetched, a failed refresh keeps the last good set, and past the
 * maximum staleness every decision is a DENY and /readyz is red.
 */
let peer: AvpPeer;
const engines: AvpSyncStoreEngine[] = [];

beforeAll(async () => {
  peer = await startAvpPeer({ stores: peerStores() });
});
afterEach(() => {
  for (const k of Object.keys(peer.faults)) delete peer.faults[k as keyof typeof peer.faults];
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await peer?.close();
});

/** A fresh copy of the services store in the peer, so each test changes its own. */
let copies = 0;
function freshStore(): PeerStore {
  const source = peer.stores.get(storeIdOf('services'))!;
  const copy = new PeerStore(`PSsynctest${copies++}`);
  for (const [id, t] of source.templates) copy.putTemplate(id, t.statement);
  for (const [id, p] of source.policies) if (p.statement) copy.putPolicy(id, p.statement);
  copy.setSchema(source.schema);
  peer.stores.set(copy.policyStoreId, copy);
  return copy;
}

function engine(store: PeerStore, extra: Partial<AvpSyncStoreConfig> = {}, results: SyncResult[] = []) {
  const e = new AvpSyncStoreEngine({
    name: 'services',
    config: { ...syncConfig('services', peer.url, extra), policyStoreId: store.policyStoreId },
    staticEntities: staticEntities('services'),
    sdk: TEST_SDK,
    observer: { sync: ({ result }) => results.push(result) },
  });
  engines.push(e);
  return e;
}

const screen = (scopes: string[]): EngineRequest => ({
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  context: {},
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes }, parents: [] }],
});

const decide = async (e: AvpSyncStoreEngine, r: EngineRequest) => (await e.decide([r]))[0]!;

describe('the avp-sync engine', () => {
  it('pulls policies and schema, then decides locally without calling AVP per decision', async () => {
    const store = freshStore();
    const e = engine(store);
    await e.start();
    const before = e.calls();
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({
      kind: 'evaluated',
      allow: true,
      determiningPolicies: ['screen-with-scope'],
    });
    expect(e.calls()).toEqual(before);
    expect(before).toMatchObject({ ListPolicies: 1, GetPolicy: 4, ListPolicyTemplates: 1, GetSchema: 1 });
    expect(e.status()).toMatchObject({ ready: true, engine: 'avp-sync', policies: 4 });
  });

  it('a policy added, changed and deleted shows up after one interval; only changed policies are fetched', async () => {
    const store = freshStore();
    const results: SyncResult[] = [];
    const e = engine(store, { refreshSeconds: 1, maxStalenessSeconds: 30 }, results);
    await e.start();
    const next = async () => {
      const n = results.length;
      await vi.waitFor(() => expect(results.length).toBeGreaterThan(n), { timeout: 3_000, interval: 20 });
      return results.at(-1)!;
    };

    store.putPolicy(
      'no-screening-of-p1',
      '@id("no-screening-of-p1")\nforbid (principal, action, resource == Payments::Payment::"p1");',
    );
    const added = await next();
    expect(added).toMatchObject({ ok: true, changed: true, fetched: { policies: 1, templates: 0 } });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({
      allow: false,
      determiningPolicies: ['no-screening-of-p1'],
    });

    store.putPolicy(
      'no-screening-of-p1',
      'forbid (principal, action, resource == Payments::Payment::"p1") when { context has frozen };',
    );
    expect(await next()).toMatchObject({ ok: true, changed: true, fetched: { policies: 1 } });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({ allow: true });

    store.deletePolicy('screen-with-scope');
    expect(await next()).toMatchObject({ ok: true, changed: true, fetched: { policies: 0 } });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({
      allow: false,
      determiningPolicies: [],
    });

    // Nothing changed: nothing fetched, no new version.
    const version = e.status().version;
    expect(await next()).toMatchObject({ ok: true, changed: false, fetched: { policies: 0, templates: 0 } });
    expect(e.status().version).toBe(version);
    await e.close(); // no background refreshes during the other tests
  });

  it('templates and template-linked policies sync, and a changed template re-applies to its links', async () => {
    const store = freshStore();
    const e = engine(store);
    await e.start();
    store.putTemplate(
      'screen-one-payment',
      'permit (principal == ?principal, action == Payments::Action::"SettlePayment", resource == ?resource);',
    );
    store.putLink(
      'reporting-settles-p1',
      'screen-one-payment',
      { type: 'Payments::Service', id: 'fraud-svc' },
      { type: 'Payments::Payment', id: 'p1' },
    );
    const settle = { ...screen([]), action: { type: 'Payments::Action', id: 'SettlePayment' } };
    const p1 = {
      uid: { type: 'Payments::Payment', id: 'p1' },
      attrs: {
        tenantId: 'acme',
        amount: { __extn: { fn: 'decimal', arg: '10.00' } },
        currency: 'EUR',
        destinationCountry: 'DE',
        status: 'PENDING',
      },
      parents: [],
    };
    settle.entities = [...settle.entities, p1];
    expect(await e.syncNow()).toMatchObject({
      ok: true,
      changed: true,
      fetched: { policies: 0, templates: 1 },
    });
    expect(await decide(e, settle)).toMatchObject({
      allow: true,
      determiningPolicies: ['reporting-settles-p1'],
    });

    store.putTemplate(
      'screen-one-payment',
      'permit (principal == ?principal, action == Payments::Action::"SettlePayment", resource == ?resource) when { resource.status == "APPROVED" };',
    );
    expect(await e.syncNow()).toMatchObject({ ok: true, changed: true, fetched: { templates: 1 } });
    expect(await decide(e, settle)).toMatchObject({ allow: false });
  });

  it('slices the pulled policies like a local store when slicing is on: same answers, fewer policies', async () => {
    const store = freshStore();
    store.putTemplate(
      'screen-one-payment',
      'permit (principal == ?principal, action == Payments::Action::"SettlePayment", resource == ?resource);',
    );
    store.putLink(
      'reporting-settles-p1',
      'screen-one-payment',
      { type: 'Payments::Service', id: 'fraud-svc' },
      { type: 'Payments::Payment', id: 'p1' },
    );
    const evaluated: number[] = [];
    const sliced = new AvpSyncStoreEngine({
      name: 'services-sliced',
      config: { ...syncConfig('services', peer.url), policyStoreId: store.policyStoreId },
      staticEntities: staticEntities('services'),
      sdk: TEST_SDK,
      slicing: { mode: 'on', autoThreshold: 0, cacheSize: 10 },
      sliceStats: { onDecision: (_store, n) => evaluated.push(n), onCacheSize: () => {} },
    });
    engines.push(sliced);
    const plain = engine(store);
    await Promise.all([sliced.start(), plain.start()]);
    const settle: EngineRequest = {
      ...screen([]),
      action: { type: 'Payments::Action', id: 'SettlePayment' },
    };
    for (const r of [screen(['payments/screen']), screen(['payments/read']), settle])
      expect(await decide(sliced, r)).toEqual(await decide(plain, r));
    expect(await decide(sliced, settle)).toMatchObject({ determiningPolicies: ['reporting-settles-p1'] });
    expect(sliced.sliced).toBe(true);
    expect(sliced.status().slicing).toBeDefined();
    expect(plain.status().slicing).toBeUndefined();
    expect(Math.max(...evaluated)).toBeLessThan(sliced.status().policies!);
  });

  it('a refresh that fails keeps the last good set', async () => {
    const store = freshStore();
    const e = engine(store);
    await e.start();
    const version = e.status().version;
    peer.faults.serverError = Infinity;
    peer.faults.operations = [
      'ListPolicies',
      'GetPolicy',
      'ListPolicyTemplates',
      'GetPolicyTemplate',
      'GetSchema',
    ];
    store.deletePolicy('screen-with-scope');
    const failed = await e.syncNow();
    expect(failed).toMatchObject({ ok: false, changed: false });
    expect(failed.error).toMatch(/InternalServerException/);
    expect(e.status()).toMatchObject({ ready: true, version, lastError: failed.error });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({ allow: true });
  });

  it('a refresh whose policies do not validate keeps the last good set and says why', async () => {
    const store = freshStore();
    const e = engine(store);
    await e.start();
    store.putPolicy('typo', 'permit (principal, action == Payments::Action::"ScreenPaymnet", resource);');
    const result = await e.syncNow();
    expect(result.ok).toBe(false);
    expect(e.status().lastError).toMatch(/avp:PSsynctest\d+\/policies\/typo/);
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({ allow: true });
    store.deletePolicy('typo');
    expect(await e.syncNow()).toMatchObject({ ok: true });
    expect(e.status().lastError).toBeUndefined();
  });

  it('past maxStalenessSeconds every decision is a DENY (engine_unavailable) and the store is not ready', async () => {
    let now = Date.now();
    const store = freshStore();
    const e = new AvpSyncStoreEngine({
      name: 'services',
      config: {
        ...syncConfig('services', peer.url, { refreshSeconds: 60, maxStalenessSeconds: 120 }),
        policyStoreId: store.policyStoreId,
      },
      sdk: TEST_SDK,
      now: () => now,
    });
    engines.push(e);
    await e.start();
    now += 119_000;
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({ allow: true });
    now += 2_000;
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({
      kind: 'failed',
      reason: 'engine_unavailable',
    });
    expect(e.status()).toMatchObject({ ready: false });
    // A good sync makes it fresh again.
    expect(await e.syncNow()).toMatchObject({ ok: true, changed: false });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({ allow: true });
  });

  it('an unreachable AVP at startup: not ready, DENY, then ready once a sync succeeds', async () => {
    const store = freshStore();
    peer.faults.serverError = Infinity;
    const e = engine(store);
    await e.start();
    expect(e.status()).toMatchObject({ ready: false });
    expect(await decide(e, screen(['payments/screen']))).toMatchObject({
      kind: 'failed',
      reason: 'engine_unavailable',
    });
    peer.faults.serverError = 0;
    expect(await e.syncNow()).toMatchObject({ ok: true, changed: true });
    expect(e.status()).toMatchObject({ ready: true });
  });
});

describe('avp-sync in the sidecar', () => {
  let sidecar: Sidecar;
  afterAll(async () => {
    await sidecar?.close();
    vi.unstubAllEnvs();
  });

  it('/readyz turns red and decisions DENY once the last good sync is older than maxStalenessSeconds', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const store = freshStore();
    sidecar = await startTestSidecar({
      policies: { watch: false },
      stores: {
        services: {
          engine: 'avp-sync',
          policyStoreId: store.policyStoreId,
          region: 'us-east-1',
          endpoint: peer.url,
          refreshSeconds: 1,
          maxStalenessSeconds: 2,
        },
      },
    });
    const ask = () =>
      fetch(`${sidecar.url}/v1/is-authorized`, {
        method: 'POST',
        body: JSON.stringify({ store: 'services', ...screen(['payments/screen']) }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(200);
    expect(await ask()).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'screen-with-scope' }],
    });
    const ready = (await (await fetch(`${sidecar.url}/readyz`)).json()) as {
      stores: Record<string, unknown>[];
    };
    expect(ready.stores[0]).toMatchObject({
      engine: 'avp-sync',
      ready: true,
      lastSyncAt: expect.any(String),
    });

    peer.faults.serverError = Infinity;
    await vi.waitFor(async () => expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(503), {
      timeout: 6_000,
      interval: 100,
    });
    expect(await ask()).toMatchObject({ decision: 'DENY', reason: 'engine_unavailable' });

    peer.faults.serverError = 0;
    await vi.waitFor(async () => expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(200), {
      timeout: 6_000,
      interval: 100,
    });
    expect(await ask()).toMatchObject({ decision: 'ALLOW' });
  });
});
