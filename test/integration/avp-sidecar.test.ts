import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configFromObject } from '../../src/config/index.js';
import { AvpStoreEngine } from '../../src/engines/avp.js';
import { createIdentifier } from '../../src/identity/identifier.js';
import type { Sidecar } from '../../src/server.js';
import { createTestIssuer } from '../support/avp-dev-issuer.js';
import { peerStores, storeIdOf, TEST_CREDENTIALS } from '../support/avp-fixtures.js';
import { startAvpPeer, type AvpPeer } from '../support/avp-peer.js';
import { postJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

/**
 * The whole sidecar with AVP stores from config: credentials from the SDK's default chain (the
 * environment here), `is-authorized` and `with-token` modes through the token API, and fail-closed
 * answers over HTTP.
 */
let peer: AvpPeer;
let sidecar: Sidecar;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  issuer = await createTestIssuer();
  // The peer's identity source maps tokens the way AVP's Cognito identity source does; here it
  // is the sidecar's own mapping, so both modes must agree.
  const issuers = configFromObject({ issuers: [issuer.issuer] }, REPO_ROOT).config.issuers;
  const identifier = createIdentifier({ issuers, baseDir: REPO_ROOT, maxTokenBytes: 16_384 });
  await identifier.start();
  peer = await startAvpPeer({
    stores: peerStores(),
    identitySource: async (token) => {
      const caller = await identifier.identify(token);
      return { principal: caller.principal, context: caller.context };
    },
  });
  const avp = (store: string, extra: Record<string, unknown> = {}) => ({
    engine: 'avp',
    policyStoreId: storeIdOf(store),
    region: 'us-east-1',
    endpoint: peer.url,
    timeBudgetMs: 5_000,
    ...extra,
  });
  sidecar = await startTestSidecar({
    policies: { watch: false },
    stores: {
      customers: avp('customers', { entitiesFile: 'policies/customers/entities.json' }),
      services: avp('services', { mode: 'with-token', minBatchSize: 2 }),
      'customers-by-token': avp('customers', {
        mode: 'with-token',
        entitiesFile: 'policies/customers/entities.json',
      }),
      offline: avp('services', { endpoint: 'http://127.0.0.1:9', retries: 0, timeBudgetMs: 500 }),
    },
    issuers: [issuer.issuer],
    routes: issuer.routes,
  });
});
afterAll(async () => {
  await sidecar?.close();
  await peer?.close();
  issuer?.cleanup();
  vi.unstubAllEnvs();
});

const account = (id: string, tenant: string) => ({
  type: 'Payments::Account',
  id,
  attributes: { tenantId: tenant, accountType: 'BUSINESS', country: 'GB' },
  parents: [{ type: 'Payments::Tenant', id: tenant }],
});

describe('AVP stores in the sidecar', () => {
  it('an avp store answers /v1/is-authorized through AVP; the static entities supply the group hierarchy', async () => {
    peer.resetCalls();
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, {
      store: 'customers',
      principal: { type: 'Payments::User', id: 'erin' },
      action: { type: 'Payments::Action', id: 'ViewAccount' },
      resource: { type: 'Payments::Account', id: 'acme-ops' },
      entities: [
        {
          uid: { type: 'Payments::User', id: 'erin' },
          attrs: { tenantId: 'acme' },
          // TREASURER is in PAYMENT_INITIATOR, which is in VIEWER: only entities.json knows that.
          parents: [{ type: 'Payments::UserGroup', id: 'TREASURER' }],
        },
        {
          uid: { type: 'Payments::Account', id: 'acme-ops' },
          attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
          parents: [],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'customers',
      storeVersion: `avp:${storeIdOf('customers')}`,
      determiningPolicies: [{ policyId: 'viewers-read' }],
    });
    expect(peer.calls.IsAuthorized).toBe(1);
  });

  it('is-authorized mode sends the principal the sidecar derived from the token', async () => {
    peer.resetCalls();
    const token = await issuer.mint({ kind: 'user', sub: 'dan', claims: { 'custom:tenantId': 'globex' } });
    const res = await postJson(
      `${sidecar.url}/v1/authorize`,
      {
        action: { type: 'Payments::Action', id: 'InitiatePayment' },
        resource: account('globex-main', 'globex'),
      },
      { authorization: `Bearer ${token}` },
    );
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'delegate-dan-globex' }],
    });
    expect(peer.calls).toEqual({ IsAuthorized: 1 });
  });

  it('with-token mode: AVP gets the raw token (IsAuthorizedWithToken) and maps it itself', async () => {
    peer.resetCalls();
    const token = await issuer.mint({ kind: 'service', clientId: 'fraud-svc', scopes: ['payments/screen'] });
    const payment = {
      type: 'Payments::Payment',
      id: 'p1',
      attributes: {
        tenantId: 'acme',
        amount: { __extn: { fn: 'decimal', arg: '10.00' } },
        currency: 'EUR',
        destinationCountry: 'DE',
        status: 'PENDING',
      },
    };
    const one = await postJson(
      `${sidecar.url}/v1/authorize`,
      { action: { type: 'Payments::Action', id: 'ScreenPayment' }, resource: payment },
      { authorization: `Bearer ${token}` },
    );
    expect(one.json).toMatchObject({
      decision: 'ALLOW',
      store: 'services',
      determiningPolicies: [{ policyId: 'screen-with-scope' }],
      principal: { type: 'Payments::Service', id: 'fraud-svc' },
    });
    expect(peer.calls).toEqual({ IsAuthorizedWithToken: 1 });

    const batch = await postJson(
      `${sidecar.url}/v1/authorize/batch`,
      {
        items: [
          { action: { type: 'Payments::Action', id: 'ScreenPayment' }, resource: payment },
          { action: { type: 'Payments::Action', id: 'SettlePayment' }, resource: payment },
          { action: { type: 'Payments::Action', id: 'ScreenPayment' }, resource: { ...payment, id: 'p2' } },
        ],
      },
      { authorization: `Bearer ${token}` },
    );
    expect((batch.json.results as { decision: string }[]).map((r) => r.decision)).toEqual([
      'ALLOW',
      'DENY',
      'ALLOW',
    ]);
    expect(peer.calls).toEqual({ IsAuthorizedWithToken: 1, BatchIsAuthorizedWithToken: 1 });
  });

  it('with-token mode decides as is-authorized mode does for a user with groups and claims', async () => {
    const token = await issuer.mint({
      kind: 'user',
      sub: 'bob',
      groups: ['PAYMENT_APPROVER'],
      claims: { 'custom:tenantId': 'acme', 'custom:approvalLimit': '50000.00' },
    });
    const ask = (store: string, action: string, resource: string) =>
      sidecar.pipeline.decide({
        subject: { kind: 'token', token },
        store,
        action: { type: 'Payments::Action', id: action },
        resource: { type: 'Payments::Payment', id: resource },
        context: {},
        entities: [
          {
            uid: { type: 'Payments::Payment', id: resource },
            attrs: {
              tenantId: 'acme',
              amount: { __extn: { fn: 'decimal', arg: resource === 'small' ? '100.00' : '75000.00' } },
              currency: 'EUR',
              destinationCountry: 'DE',
              initiatedBy: { __entity: { type: 'Payments::User', id: 'alice' } },
            },
            parents: [],
          },
        ],
      });
    peer.resetCalls();
    for (const [action, resource] of [
      ['ApprovePayment', 'small'],
      ['ApprovePayment', 'large'],
      ['ViewPayment', 'large'],
    ] as const) {
      const [byPrincipal, byToken] = await Promise.all([
        ask('customers', action, resource),
        ask('customers-by-token', action, resource),
      ]);
      expect(byToken.decision).toBe(byPrincipal.decision);
      expect(byToken.determiningPolicies).toEqual(byPrincipal.determiningPolicies);
    }
    expect(peer.calls).toEqual({ IsAuthorized: 3, IsAuthorizedWithToken: 3 });
    expect((sidecar.stores.get('customers-by-token') as AvpStoreEngine).wantsToken).toBe(true);
  });

  it('an unreachable AVP is a DENY with reason engine_unavailable, over HTTP too', async () => {
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, {
      store: 'offline',
      principal: { type: 'Payments::Service', id: 'fraud-svc' },
      action: { type: 'Payments::Action', id: 'ScreenPayment' },
      resource: { type: 'Payments::Payment', id: 'p1' },
      entities: [
        { uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes: ['payments/screen'] } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'engine_unavailable', store: 'offline' });
    const counters = (sidecar.stores.get('offline') as AvpStoreEngine).counters();
    expect(counters.decisions.failed).toBe(1);
    expect(counters.outcomes.network + counters.outcomes.timeout).toBeGreaterThanOrEqual(1);
  });

  it('/readyz stays green with AVP stores (a remote outage denies, it does not unready every pod)', async () => {
    const res = await fetch(`${sidecar.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { stores: { name: string; engine: string; circuit?: string }[] };
    expect(body.stores.find((s) => s.name === 'offline')).toMatchObject({ engine: 'avp', circuit: 'closed' });
  });
});
