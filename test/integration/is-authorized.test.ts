import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTestSuite } from '../../src/cli/test-cases.js';
import type { Sidecar } from '../../src/server.js';
import { postJson, REPO_ROOT, startTestSidecar, sampleStores } from '../support/sidecar.js';

let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({ policies: { watch: false } });
});
afterAll(async () => sidecar?.close());

const url = () => `${sidecar.url}/v1/is-authorized`;
const uid = (type: string, id: string) => ({ type: `Payments::${type}`, id });
const action = (id: string) => uid('Action', id);

const screen = (scopes: string[]) => ({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes } }],
});

describe('POST /v1/is-authorized', () => {
  it('allows with the scope and names the determining policy', async () => {
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, screen(['payments/screen']));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'services',
      determiningPolicies: [{ policyId: 'screen-with-scope' }],
      errors: [],
    });
    expect(res.json.storeVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(res.json.decisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('denies without the scope (200, evaluated)', async () => {
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, screen(['payments/read']));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
  });

  it('answers the whole decision shape, and a fresh decision id each time', async () => {
    // A resource no other test asks about, so the first answer is evaluated, not cached.
    const body = {
      ...screen(['payments/screen']),
      resource: { type: 'Payments::Payment', id: 'shape-check' },
    };
    const first = await postJson(url(), body);
    const second = await postJson(url(), body);
    expect(Object.keys(first.json).sort()).toEqual(
      ['cached', 'decision', 'decisionId', 'determiningPolicies', 'errors', 'store', 'storeVersion'].sort(),
    );
    // The decision cache answers a repeat (the first test asked the same); each answer still has its own id.
    expect(typeof first.json.cached).toBe('boolean');
    expect(second.json.cached).toBe(true);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(second.json.decisionId).not.toBe(first.json.decisionId);
    expect(second.json.storeVersion).toBe(first.json.storeVersion);
  });
});

const customersEntities = [
  {
    uid: uid('User', 'alice'),
    attrs: { tenantId: 'acme' },
    parents: [uid('UserGroup', 'PAYMENT_INITIATOR')],
  },
  {
    uid: uid('User', 'erin'),
    attrs: { tenantId: 'acme', approvalLimit: { __extn: { fn: 'decimal', arg: '500000.00' } } },
    parents: [uid('UserGroup', 'TREASURER')],
  },
  { uid: uid('User', 'carol'), attrs: { tenantId: 'acme' }, parents: [] },
  {
    uid: uid('Account', 'acme-ops'),
    attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
    parents: [uid('Tenant', 'acme')],
  },
  {
    uid: uid('Account', 'globex-main'),
    attrs: { tenantId: 'globex', accountType: 'BUSINESS', country: 'US' },
    parents: [uid('Tenant', 'globex')],
  },
  {
    uid: uid('Payment', 'big'),
    attrs: {
      tenantId: 'acme',
      amount: { __extn: { fn: 'decimal', arg: '250000.00' } },
      currency: 'EUR',
      destinationCountry: 'DE',
      initiatedBy: { __entity: uid('User', 'alice') },
    },
    parents: [uid('Account', 'acme-ops')],
  },
];

const internalEntities = [
  {
    uid: uid('Employee', 'olivia'),
    attrs: { department: 'ops', level: 4 },
    parents: [uid('EmployeeGroup', 'OPS')],
  },
  {
    uid: uid('Employee', 'ivan'),
    attrs: { department: 'risk', level: 5 },
    parents: [uid('EmployeeGroup', 'INVESTIGATOR')],
  },
  {
    uid: uid('Account', 'acme-ops'),
    attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
    parents: [uid('Tenant', 'acme')],
  },
];

const servicesEntities = [
  { uid: uid('Service', 'settlement-svc'), attrs: { scopes: ['payments/settle'] }, parents: [] },
  { uid: uid('Service', 'statements-svc'), attrs: { scopes: ['accounts/read'] }, parents: [] },
  {
    uid: uid('Payment', 'p-ok'),
    attrs: {
      tenantId: 'acme',
      amount: { __extn: { fn: 'decimal', arg: '10.00' } },
      currency: 'EUR',
      destinationCountry: 'DE',
      status: 'APPROVED',
    },
    parents: [],
  },
];

const ip = (arg: string) => ({ __extn: { fn: 'ip', arg } });

/** [name, store, principal, action, resource, context, decision, determining policies, erroring policies] */
const decisions: [string, string, object, object, object, object, 'ALLOW' | 'DENY', string[], string[]][] = [
  // customers
  [
    'customers: an initiator pays from a business account',
    'customers',
    uid('User', 'alice'),
    action('InitiatePayment'),
    uid('Account', 'acme-ops'),
    { destinationCountry: 'DE' },
    'ALLOW',
    ['initiator-business-accounts'],
    [],
  ],
  [
    'customers: a sanctioned destination is forbidden',
    'customers',
    uid('User', 'alice'),
    action('InitiatePayment'),
    uid('Account', 'acme-ops'),
    { destinationCountry: 'IR' },
    'DENY',
    ['sanctioned-destinations'],
    [],
  ],
  [
    'customers: another tenant is isolated',
    'customers',
    uid('User', 'alice'),
    action('ViewAccount'),
    uid('Account', 'globex-main'),
    {},
    'DENY',
    ['tenant-isolation'],
    [],
  ],
  [
    'customers: a treasurer approves with MFA',
    'customers',
    uid('User', 'erin'),
    action('ApprovePayment'),
    uid('Payment', 'big'),
    { mfa: true },
    'ALLOW',
    ['approver-within-limit'],
    [],
  ],
  [
    'customers: a delegation link opens one account',
    'customers',
    uid('User', 'carol'),
    action('InitiatePayment'),
    uid('Account', 'acme-ops'),
    {},
    'ALLOW',
    ['delegate-carol-acme-ops'],
    [],
  ],
  // internal
  [
    'internal: ops read from the corporate network',
    'internal',
    uid('Employee', 'olivia'),
    action('ViewAccount'),
    uid('Account', 'acme-ops'),
    { sourceIp: ip('10.9.8.7') },
    'ALLOW',
    ['ops-read-any-tenant'],
    [],
  ],
  [
    'internal: not from outside it',
    'internal',
    uid('Employee', 'olivia'),
    action('ViewAccount'),
    uid('Account', 'acme-ops'),
    { sourceIp: ip('192.0.2.1') },
    'DENY',
    [],
    [],
  ],
  [
    'internal: staff change nothing',
    'internal',
    uid('Employee', 'olivia'),
    action('UpdateAccount'),
    uid('Account', 'acme-ops'),
    { sourceIp: ip('10.0.0.1') },
    'DENY',
    ['internal-read-only'],
    [],
  ],
  // `has` on an entity that was not supplied is false, not an error: no policy errors here.
  [
    'internal: ops read a payment that was not supplied',
    'internal',
    uid('Employee', 'olivia'),
    action('ViewPayment'),
    uid('Payment', 'not-supplied'),
    { ticket: 'INC-1', sourceIp: ip('10.1.1.1') },
    'ALLOW',
    ['ops-read-any-tenant'],
    [],
  ],
  // services
  [
    'services: settlement with the scope',
    'services',
    uid('Service', 'settlement-svc'),
    action('SettlePayment'),
    uid('Payment', 'p-ok'),
    {},
    'ALLOW',
    ['settle-with-scope'],
    [],
  ],
  [
    'services: screening without the scope',
    'services',
    uid('Service', 'settlement-svc'),
    action('ScreenPayment'),
    uid('Payment', 'p-ok'),
    {},
    'DENY',
    [],
    [],
  ],
  [
    'services: an account not supplied is an error, then DENY',
    'services',
    uid('Service', 'statements-svc'),
    action('ViewAccount'),
    uid('Account', 'not-supplied'),
    { onBehalfOfTenant: 'acme' },
    'DENY',
    [],
    ['view-on-behalf-of-tenant'],
  ],
];

const entitiesOf: Record<string, object[]> = {
  customers: customersEntities,
  internal: internalEntities,
  services: servicesEntities,
};

describe('decisions of the sample stores over HTTP', () => {
  it.each(decisions)(
    '%s',
    async (_name, store, principal, act, resource, context, decision, policies, errors) => {
      const res = await postJson(url(), {
        store,
        principal,
        action: act,
        resource,
        context,
        entities: entitiesOf[store],
      });
      expect(res.status).toBe(200);
      expect(res.json.decision).toBe(decision);
      expect(res.json.store).toBe(store);
      expect((res.json.determiningPolicies as { policyId: string }[]).map((p) => p.policyId).sort()).toEqual(
        [...policies].sort(),
      );
      const got = res.json.errors as { policyId: string; message: string }[];
      expect(got.map((e) => e.policyId).sort()).toEqual([...errors].sort());
      for (const e of got) expect(e.message).toEqual(expect.any(String));
    },
  );

  // Every case of every store's tests.yaml, asked over HTTP instead of through the CLI.
  for (const store of sampleStores()) {
    const suite = readTestSuite(path.join(REPO_ROOT, 'policies', store))!;
    it.each(suite.cases)(`${store} tests.yaml: $name`, async (c) => {
      const res = await postJson(url(), {
        store,
        principal: c.principal,
        action: c.action,
        resource: c.resource,
        context: c.context,
        entities: [...suite.entities, ...c.entities],
      });
      expect(res.status).toBe(200);
      expect(res.json.decision).toBe(c.expect);
      if (c.expectPolicies)
        expect(
          (res.json.determiningPolicies as { policyId: string }[]).map((p) => p.policyId).sort(),
        ).toEqual([...c.expectPolicies].sort());
      if (c.expectErrors)
        expect((res.json.errors as { policyId: string }[]).map((e) => e.policyId).sort()).toEqual(
          [...c.expectErrors].sort(),
        );
    });
  }
});

describe('/healthz and /readyz', () => {
  it('/healthz answers ok', async () => {
    const res = await fetch(`${sidecar.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz lists every store, ready, with its version and policy count', async () => {
    const res = await fetch(`${sidecar.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ready: boolean; stores: Record<string, unknown>[] };
    expect(Object.keys(body).sort()).toEqual(['ready', 'stores']);
    expect(body.ready).toBe(true);
    expect(body.stores.map((s) => s.name).sort()).toEqual(sampleStores());
    for (const s of body.stores) {
      expect(Object.keys(s).sort()).toEqual([
        'engine',
        'evaluator',
        'loadedAt',
        'name',
        'policies',
        'ready',
        'version',
      ]);
      expect(s).toMatchObject({
        engine: 'local',
        ready: true,
        version: expect.stringMatching(/^[0-9a-f]{12}$/),
      });
      expect(new Date(s.loadedAt as string).toISOString()).toBe(s.loadedAt);
    }
    // Static policies plus template links: customers has 7 static policies and 2 links.
    const count = Object.fromEntries(body.stores.map((s) => [s.name, s.policies]));
    expect(count).toMatchObject({
      api: 10,
      customers: 9,
      internal: 4,
      services: 4,
      'tenant-acme': 6,
      'tenant-globex': 7,
    });
    expect(Object.keys(count).sort()).toEqual(sampleStores());
  });

  it('the version a decision reports is the one /readyz shows', async () => {
    const ready = (await (await fetch(`${sidecar.url}/readyz`)).json()) as {
      stores: { name: string; version: string }[];
    };
    const decision = await postJson(url(), screen(['payments/screen']));
    expect(decision.json.storeVersion).toBe(ready.stores.find((s) => s.name === 'services')!.version);
  });
});
