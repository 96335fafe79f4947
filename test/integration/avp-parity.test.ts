import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvpStoreEngine } from '../../src/engines/avp.js';
import { AvpSyncStoreEngine } from '../../src/engines/avp-sync.js';
import type { EngineRequest, StoreEngine } from '../../src/core/engine.js';
import { LocalStoreEngine } from '../../src/engines/local.js';
import { startAvpPeer, type AvpPeer } from '../support/avp-peer.js';
import {
  avpConfig,
  parityCases,
  peerStores,
  SAMPLE_STORES,
  staticEntities,
  storeDir,
  summary,
  syncConfig,
  TEST_SDK,
  type SampleStore,
} from '../support/avp-fixtures.js';

/**
 * The same requests through the local engine (policies/ on disk), the `avp` engine (the real AWS
 * SDK against the AVP-protocol peer holding the same policies) and the `avp-sync` engine (policies
 * pulled from the peer, evaluated here) give identical decisions, determining policies and
 * erroring policies.
 */
let peer: AvpPeer;
const engines = new Map<
  SampleStore,
  { local: LocalStoreEngine; avp: AvpStoreEngine; sync: AvpSyncStoreEngine }
>();
const cases = parityCases();

beforeAll(async () => {
  peer = await startAvpPeer({ stores: peerStores() });
  for (const store of SAMPLE_STORES) {
    const local = new LocalStoreEngine(store, storeDir(store));
    local.load();
    const avp = new AvpStoreEngine({
      name: store,
      config: avpConfig(store, peer.url),
      staticEntities: staticEntities(store),
      sdk: TEST_SDK,
    });
    const sync = new AvpSyncStoreEngine({
      name: `${store}-sync`,
      config: syncConfig(store, peer.url),
      staticEntities: staticEntities(store),
      sdk: TEST_SDK,
    });
    await sync.start();
    engines.set(store, { local, avp, sync });
  }
});
afterAll(async () => {
  for (const e of engines.values()) await Promise.all([e.avp.close(), e.sync.close(), e.local.close()]);
  await peer?.close();
});

async function answersOf(engine: StoreEngine, requests: EngineRequest[], oneByOne: boolean) {
  if (!oneByOne) return engine.decide(requests);
  return Promise.all(requests.map(async (r) => (await engine.decide([r]))[0]!));
}

describe('parity: local, avp and avp-sync decide alike', () => {
  it('has 60+ requests covering users, services, groups, links, context, decimal and ip values', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const text = JSON.stringify(cases);
    for (const needle of [
      'Payments::Service',
      'Payments::Employee',
      '"fn":"decimal"',
      '"fn":"ip"',
      'carol',
      'dan',
    ])
      expect(text).toContain(needle);
    expect(cases.filter((c) => c.store === 'services').length).toBeGreaterThan(5);
  });

  it('the sync engine has synced every sample store', () => {
    for (const { sync } of engines.values()) {
      expect(sync.status()).toMatchObject({ ready: true, engine: 'avp-sync' });
      expect(sync.status().syncAgeSeconds).toBeLessThan(60);
    }
  });

  for (const oneByOne of [true, false]) {
    it(`gives identical answers ${oneByOne ? 'one request per call' : 'as one batch per store'}`, async () => {
      peer.resetCalls();
      const table: string[] = [];
      let allows = 0;
      for (const store of SAMPLE_STORES) {
        const subset = cases.filter((c) => c.store === store);
        const requests = subset.map((c) => c.request);
        const { local, avp, sync } = engines.get(store)!;
        const [l, a, s] = await Promise.all([
          answersOf(local, requests, oneByOne),
          answersOf(avp, requests, oneByOne),
          answersOf(sync, requests, oneByOne),
        ]);
        subset.forEach((c, i) => {
          expect(l[i]!.kind, `${c.name}: local answer ${summary(l[i])}`).toBe('evaluated');
          if (summary(l[i]).startsWith('ALLOW')) allows++;
          table.push(`${c.name} | local ${summary(l[i])} | avp ${summary(a[i])} | sync ${summary(s[i])}`);
        });
        expect(a.map(summary), `avp vs local for ${store}`).toEqual(l.map(summary));
        expect(s.map(summary), `avp-sync vs local for ${store}`).toEqual(l.map(summary));
      }
      // Both outcomes are represented, and the avp engine really called the peer.
      expect(allows).toBeGreaterThan(10);
      expect(allows).toBeLessThan(cases.length - 10);
      const calls = peer.totalCalls(['IsAuthorized', 'BatchIsAuthorized']);
      if (oneByOne) expect(peer.calls.IsAuthorized).toBe(cases.length);
      else {
        expect(peer.calls.BatchIsAuthorized).toBeGreaterThan(0);
        expect(calls).toBeLessThan(cases.length / 2);
      }
    });
  }

  it('the batch traps were split: the request lacking pay-9 is denied even beside one that brings it', async () => {
    const traps = cases.filter((c) => c.name.includes('trap'));
    const { local, avp } = engines.get('customers')!;
    const l = await local.decide(traps.map((t) => t.request));
    const a = await avp.decide(traps.map((t) => t.request));
    expect(l.map(summary)).toEqual(a.map(summary));
    expect(summary(l[0])).toMatch(/^DENY/);
    expect(summary(l[1])).toMatch(/^ALLOW/);
  });
});
