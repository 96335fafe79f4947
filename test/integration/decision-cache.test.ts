import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { scrape, total } from '../support/prometheus.js';
import { postJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';
import { waitFor } from '../support/temp.js';

type Body = {
  store: string;
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, unknown>;
  entities: { uid: { type: string; id: string }; attrs: Record<string, unknown>; parents: unknown[] }[];
};

/** alice, a PAYMENT_INITIATOR of acme, initiates a payment from acme's BUSINESS account: ALLOW. */
const base = (): Body => ({
  store: 'customers',
  principal: { type: 'Payments::User', id: 'alice' },
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: { type: 'Payments::Account', id: 'acme-ops' },
  context: { destinationCountry: 'DE' },
  entities: [
    {
      uid: { type: 'Payments::User', id: 'alice' },
      attrs: { tenantId: 'acme', country: 'GB' },
      parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
    },
    {
      uid: { type: 'Payments::Account', id: 'acme-ops' },
      attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
      parents: [{ type: 'Payments::Tenant', id: 'acme' }],
    },
  ],
});

let dir: string;
let sidecar: Sidecar;
const ask = async (body: Body) => (await postJson(`${sidecar.url}/v1/is-authorized`, body)).json;

beforeAll(async () => {
  // A private copy of the stores, watched, so that a test can edit a policy.
  dir = mkdtempSync(path.join(tmpdir(), 'authz-cache-'));
  cpSync(path.join(REPO_ROOT, 'policies'), path.join(dir, 'policies'), { recursive: true });
  sidecar = await startTestSidecar({ policies: { watch: true, reloadDebounceMs: 20 } }, dir);
});
afterAll(async () => {
  await sidecar?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('decision cache through /v1/is-authorized', () => {
  it('answers the same request from the cache the second time, with the same decision', async () => {
    const first = await ask(base());
    const second = await ask(base());
    expect(first).toMatchObject({ decision: 'ALLOW', cached: false });
    expect(second).toEqual({ ...first, decisionId: second.decisionId, cached: true });
    expect(second.decisionId).not.toBe(first.decisionId);
  });

  it('hits whatever the order of entities and of object keys', async () => {
    await ask(base());
    const b = base();
    const reordered = {
      entities: [...b.entities].reverse().map((e) => ({ parents: e.parents, attrs: e.attrs, uid: e.uid })),
      context: b.context,
      resource: { id: b.resource.id, type: b.resource.type },
      action: b.action,
      principal: b.principal,
      store: b.store,
    };
    expect(await ask(reordered as Body)).toMatchObject({ decision: 'ALLOW', cached: true });
  });

  const changes: [string, (b: Body) => void, 'ALLOW' | 'DENY'][] = [
    ['a principal attribute', (b) => (b.entities[0]!.attrs.tenantId = 'globex'), 'DENY'],
    ['an unused principal attribute', (b) => (b.entities[0]!.attrs.country = 'FR'), 'ALLOW'],
    [
      'a parent group',
      (b) => (b.entities[0]!.parents = [{ type: 'Payments::UserGroup', id: 'VIEWER' }]),
      'DENY',
    ],
    ['a resource attribute', (b) => (b.entities[1]!.attrs.accountType = 'PERSONAL'), 'DENY'],
    ['a context value', (b) => (b.context.destinationCountry = 'KP'), 'DENY'],
    ['a harmless context value', (b) => (b.context.destinationCountry = 'FR'), 'ALLOW'],
    [
      'an extra entity',
      (b) =>
        b.entities.push({
          uid: { type: 'Payments::User', id: 'carol' },
          attrs: { tenantId: 'acme' },
          parents: [],
        }),
      'ALLOW',
    ],
  ];
  it.each(changes)('misses when only %s changes', async (_what, change, expected) => {
    await ask(base()); // cached by now
    const b = base();
    change(b);
    expect(await ask(b)).toMatchObject({ decision: expected, cached: false });
    expect(await ask(b)).toMatchObject({ decision: expected, cached: true });
  });

  it('never lets two principals share an entry, even with identical attributes', async () => {
    await ask(base());
    const b = base();
    b.principal.id = 'alice2';
    b.entities[0]!.uid.id = 'alice2';
    expect(await ask(b)).toMatchObject({ decision: 'ALLOW', cached: false });
  });

  it('does not cache a request the engine rejects', async () => {
    const b = base();
    b.entities[0]!.attrs.tenantId = 42; // the schema wants a String
    expect(await ask(b)).toMatchObject({ reason: 'invalid_request', cached: false });
    expect(await ask(b)).toMatchObject({ reason: 'invalid_request', cached: false });
  });

  it('serves the new decision after a policy edit (the store version is in the key)', async () => {
    const before = await ask(base());
    expect(before).toMatchObject({ decision: 'ALLOW' });
    const oldVersion = before.storeVersion;
    appendFileSync(
      path.join(dir, 'policies/customers/accounts.cedar'),
      '\n@id("freeze-initiation")\nforbid (principal, action == Payments::Action::"InitiatePayment", resource);\n',
    );
    await waitFor(
      'the store to reload',
      async () => (sidecar.stores.get('customers')!.status().version !== oldVersion ? true : undefined),
      10_000,
      20,
    );
    const after = await ask(base());
    expect(after).toMatchObject({
      decision: 'DENY',
      cached: false,
      determiningPolicies: [{ policyId: 'freeze-initiation' }],
    });
    expect(after.storeVersion).not.toBe(oldVersion);
    expect(await ask(base())).toMatchObject({ decision: 'DENY', cached: true });

    const metrics = await scrape(sidecar.url);
    expect(total(metrics, 'authz_policy_reloads_total', { store: 'customers', result: 'success' })).toBe(1);
    const info = metrics.samples.filter(
      (s) => s.name === 'authz_policy_store_info' && s.labels.store === 'customers',
    );
    expect(info.map((s) => [s.labels.version, s.value])).toEqual([[after.storeVersion, 1]]);
  });
});

describe('decision cache bound', () => {
  let small: Sidecar;
  beforeAll(async () => {
    small = await startTestSidecar({ policies: { watch: false }, cache: { decisions: { maxEntries: 5 } } });
  });
  afterAll(async () => small?.close());

  it('stays at maxEntries under a flood of unique requests', async () => {
    for (let i = 0; i < 40; i++) {
      const b = base();
      b.context.destinationCountry = `X${i}`;
      expect((await postJson(`${small.url}/v1/is-authorized`, b)).json).toMatchObject({ cached: false });
    }
    const metrics = await scrape(small.url);
    expect(total(metrics, 'authz_cache_size', { cache: 'decisions' })).toBe(5);
    expect(total(metrics, 'authz_cache_evictions_total', { cache: 'decisions' })).toBe(35);
    expect(total(metrics, 'authz_cache_misses_total', { cache: 'decisions' })).toBe(40);
  });
});

describe('decision cache off', () => {
  it('evaluates every request when disabled', async () => {
    const off = await startTestSidecar({
      policies: { watch: false },
      cache: { decisions: { enabled: false } },
    });
    try {
      for (let i = 0; i < 2; i++)
        expect((await postJson(`${off.url}/v1/is-authorized`, base())).json).toMatchObject({ cached: false });
    } finally {
      await off.close();
    }
  });
});
