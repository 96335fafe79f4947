import { readFileSync } from 'node:fs';
import path from 'node:path';
import { uidKey, type CedarValue, type Entity, type EntityUid } from '../../src/cedar/types.js';
import type { AvpStoreConfig, AvpSyncStoreConfig } from '../../src/config/index.js';
import type { EngineAnswer, EngineRequest } from '../../src/core/engine.js';
import { readTestSuite } from '../../src/cli/test-cases.js';
import { PeerStore } from './avp-peer.js';
import { REPO_ROOT } from './sidecar.js';

/** Test-only credentials: the SDK signs with them, the peer ignores the signature. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
export const TEST_SDK = { credentials: TEST_CREDENTIALS };

export const SAMPLE_STORES = ['customers', 'internal', 'services'] as const;
export type SampleStore = (typeof SAMPLE_STORES)[number];

/** An AVP-looking policy store id for a sample store. */
export const storeIdOf = (store: string) => `PS${store}0000000000000`.slice(0, 22);

export const storeDir = (store: string) => path.join(REPO_ROOT, 'policies', store);

export function staticEntities(store: string): Entity[] {
  try {
    return JSON.parse(readFileSync(path.join(storeDir(store), 'entities.json'), 'utf8')) as Entity[];
  } catch {
    return [];
  }
}

export function peerStores(): PeerStore[] {
  return SAMPLE_STORES.map((s) => PeerStore.fromDir(storeIdOf(s), storeDir(s)));
}

export function avpConfig(
  store: string,
  endpoint: string,
  extra: Partial<AvpStoreConfig> = {},
): AvpStoreConfig {
  return {
    engine: 'avp',
    policyStoreId: storeIdOf(store),
    region: 'us-east-1',
    endpoint,
    mode: 'is-authorized',
    tokenField: 'auto',
    timeBudgetMs: 10_000,
    retries: 2,
    retryBaseMs: 5,
    circuitBreaker: { failureThreshold: 5, resetMs: 10_000 },
    minBatchSize: 2,
    ...extra,
  };
}

export function syncConfig(
  store: string,
  endpoint: string,
  extra: Partial<AvpSyncStoreConfig> = {},
): AvpSyncStoreConfig {
  return {
    engine: 'avp-sync',
    policyStoreId: storeIdOf(store),
    region: 'us-east-1',
    endpoint,
    refreshSeconds: 60,
    maxStalenessSeconds: 900,
    ...extra,
  };
}

/** The entities a request needs: its principal, its resource and what they reach (parents, entity attributes). */
function closure(roots: EntityUid[], pool: Map<string, Entity>): Entity[] {
  const out = new Map<string, Entity>();
  const queue = [...roots];
  const refs = (v: CedarValue | undefined) => {
    if (v && typeof v === 'object') {
      if (Array.isArray(v)) v.forEach(refs);
      else if (v.__entity && typeof v.__entity === 'object') queue.push(v.__entity as unknown as EntityUid);
      else Object.values(v).forEach(refs);
    }
  };
  while (queue.length) {
    const uid = queue.pop()!;
    const key = uidKey(uid);
    const e = pool.get(key);
    if (!e || out.has(key)) continue;
    out.set(key, e);
    queue.push(...e.parents);
    refs(e.attrs);
  }
  return [...out.values()];
}

export interface ParityCase {
  store: SampleStore;
  name: string;
  request: EngineRequest;
}

const dec = (arg: string) => ({ __extn: { fn: 'decimal', arg } });
const ip = (arg: string) => ({ __extn: { fn: 'ip', arg } });
const uid = (type: string, id: string) => ({ type: `Payments::${type}`, id });
const act = (id: string) => uid('Action', id);

/**
 * The parity requests: every case of the sample stores' tests.yaml, then a cross product of the
 * customers' users with actions, resources and contexts (decimal and ip values), then traps for
 * batching (a request that lacks an entity another request brings). Each request carries only the
 * entities it reaches, as a real caller would send them.
 */
export function parityCases(): ParityCase[] {
  const cases: ParityCase[] = [];
  const pools = new Map<SampleStore, Map<string, Entity>>();
  for (const store of SAMPLE_STORES) {
    const suite = readTestSuite(storeDir(store))!;
    const pool = new Map(suite.entities.map((e) => [uidKey(e.uid), e as Entity]));
    pools.set(store, pool);
    for (const c of suite.cases) {
      cases.push({
        store,
        name: `${store}: ${c.name}`,
        request: {
          principal: c.principal,
          action: c.action,
          resource: c.resource,
          context: c.context,
          entities: [...closure([c.principal, c.resource], pool), ...(c.entities as Entity[])],
        },
      });
    }
  }

  const customers = pools.get('customers')!;
  const users = ['alice', 'bob', 'erin', 'carol', 'dan', 'mallory'];
  const questions: [string, EntityUid, Record<string, CedarValue>][] = [
    ['ViewAccount', uid('Account', 'acme-ops'), {}],
    ['InitiatePayment', uid('Account', 'acme-ops'), { destinationCountry: 'DE', amount: dec('120.50') }],
    ['InitiatePayment', uid('Account', 'globex-main'), { destinationCountry: 'IR' }],
    ['ApprovePayment', uid('Payment', 'pay-1'), { sourceIp: ip('192.0.2.10') }],
    ['ApprovePayment', uid('Payment', 'pay-3'), { mfa: true, token: { scope: ['payments/approve'] } }],
    ['ViewPayment', uid('Payment', 'pay-2'), { sourceIp: ip('2001:db8::1') }],
  ];
  for (const user of users)
    for (const [action, resource, context] of questions) {
      const principal = uid('User', user);
      cases.push({
        store: 'customers',
        name: `customers: ${user} ${action} ${resource.id}`,
        request: {
          principal,
          action: act(action),
          resource,
          context,
          entities: closure([principal, resource], customers),
        },
      });
    }

  // Traps: pay-9 is supplied by one request and missing from the other two. Batched together,
  // the two would see it and could be allowed; alone they error (and are denied).
  const pay9: Entity = {
    uid: uid('Payment', 'pay-9'),
    attrs: {
      tenantId: 'acme',
      amount: dec('100.00'),
      currency: 'EUR',
      destinationCountry: 'DE',
      initiatedBy: { __entity: uid('User', 'alice') },
    },
    parents: [uid('Account', 'acme-ops')],
  };
  const bob = closure([uid('User', 'bob')], customers);
  cases.push(
    {
      store: 'customers',
      name: 'customers: trap, bob approves pay-9 without supplying it',
      request: {
        principal: uid('User', 'bob'),
        action: act('ApprovePayment'),
        resource: pay9.uid,
        context: {},
        entities: bob,
      },
    },
    {
      store: 'customers',
      name: 'customers: trap, bob views pay-9 with it',
      request: {
        principal: uid('User', 'bob'),
        action: act('ViewPayment'),
        resource: pay9.uid,
        context: {},
        entities: [...bob, pay9, ...closure([uid('Account', 'acme-ops')], customers)],
      },
    },
    {
      store: 'customers',
      name: 'customers: trap, erin approves pay-9 without supplying it',
      request: {
        principal: uid('User', 'erin'),
        action: act('ApprovePayment'),
        resource: pay9.uid,
        context: { mfa: true },
        entities: closure([uid('User', 'erin')], customers),
      },
    },
  );
  return cases;
}

/** What parity compares: decision, determining policies and the policies that errored (sorted). */
export function summary(a: EngineAnswer | undefined): string {
  if (!a) return 'no answer';
  if (a.kind !== 'evaluated') return `${a.kind}${a.kind === 'failed' ? `:${a.reason}` : ''}`;
  return `${a.allow ? 'ALLOW' : 'DENY'} by [${[...a.determiningPolicies].sort().join(',')}] errors [${a.errors
    .map((e) => e.policyId)
    .sort()
    .join(',')}]`;
}
