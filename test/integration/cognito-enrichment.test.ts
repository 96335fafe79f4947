import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminRemoveUserFromGroupCommand,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import {
  authorize,
  authorizeBatch,
  onAccount,
  onPayment,
  PAYMENTS_TYPES,
  policyIds,
  subOf,
  TOKEN_CONTEXT,
} from '../support/authorize.js';
import { cognitoClient, createPool, logIn, type Pool, type Tokens } from '../support/cognito.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { startCognitoLocal, waitFor, type CognitoLocal } from '../support/peers.js';
import { find, scrape, total } from '../support/prometheus.js';
import { getJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

/**
 * Cognito lookups against a real peer: the sidecar's own AWS SDK client calls cognito-local
 * (AdminGetUser, AdminListGroupsForUser, DescribeUserPoolClient) with credentials from the SDK's
 * default chain (the environment variables set here).
 *
 * cognito-local has no client_credentials grant, so the client-credentials tokens are signed by
 * the test, shaped as Cognito signs them (sub == client_id, token_use access, scope, no username),
 * with a key the sidecar trusts through a second issuer: `jwksFile` with the test key, and a
 * `cognito` section that names the same user pool (`userPoolId`) and endpoint. The client id in
 * those tokens is a real app client created in cognito-local, so registration is checked for real.
 */

const TTL_SECONDS = 1;
/** How late after one TTL a change may show: one lookup round trip on a loaded machine. */
const SLACK_MS = 2_500;

let cognito: CognitoLocal;
let client: CognitoIdentityProviderClient;
let pool: Pool;
let work: string;
let m2mKey: TestKey;
let settlementClientId: string;
let shared: Sidecar;
let perTenant: Sidecar;
const tokens: Record<string, Tokens> = {};
const savedEnv: Record<string, string | undefined> = {};

const M2M_ISS = 'urn:test:cognito-client-credentials';

function userIssuer(p: Pool) {
  return {
    name: 'cognito',
    issuer: p.issuer,
    jwksUri: p.jwksUri,
    audiences: [p.clientId],
    tokenUse: ['id', 'access'],
    groupIdFormat: 'name',
    entityTypes: PAYMENTS_TYPES,
    attributes: { 'custom:tenantId': 'tenantId' },
    accessTokenContext: TOKEN_CONTEXT,
    cognito: { endpoint: cognito.url, enrichUsers: true, ttlSeconds: TTL_SECONDS },
  };
}

function m2mIssuer(audiences: string[]) {
  return {
    name: 'cognito-m2m',
    issuer: M2M_ISS,
    jwksFile: path.join(work, 'm2m-jwks.json'),
    audiences,
    tokenUse: ['access'],
    entityTypes: PAYMENTS_TYPES,
    accessTokenContext: TOKEN_CONTEXT,
    // The pool is not in the issuer URL here: name it.
    cognito: {
      userPoolId: pool.poolId,
      endpoint: cognito.url,
      registeredClients: true,
      ttlSeconds: TTL_SECONDS,
    },
  };
}

/** A Cognito-shaped client-credentials access token for `clientId`. */
function clientCredentials(clientId: string, scope: string) {
  const now = nowSeconds();
  return sign(m2mKey, {
    iss: M2M_ISS,
    sub: clientId,
    client_id: clientId,
    token_use: 'access',
    scope,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    jti: `${clientId}-${now}`,
    version: 2,
  });
}

/** A store that allows settlement only to a registered client whose name and allowed scopes the sidecar looked up. */
function writeRegisteredServicesStore(dir: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'schema.cedarschema'),
    readFileSync(path.join(REPO_ROOT, 'policies/services/schema.cedarschema'), 'utf8'),
  );
  writeFileSync(
    path.join(dir, 'registered.cedar'),
    `@id("registered-settlement")
permit (principal, action == Payments::Action::"SettlePayment", resource)
when {
  principal has clientName && principal.clientName == "settlement" &&
  principal has allowedScopes && principal.allowedScopes.contains("payments/settle") &&
  principal.scopes.contains("payments/settle")
};
`,
  );
}

beforeAll(async () => {
  // The SDK's default credential chain reads these (cognito-local accepts any credentials).
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) savedEnv[k] = process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';

  work = mkdtempSync(path.join(os.tmpdir(), 'cognito-enrichment-'));
  cognito = await startCognitoLocal();
  client = cognitoClient(cognito.url);
  pool = await createPool(
    client,
    cognito.url,
    'tenants',
    ['VIEWER', 'PAYMENT_INITIATOR', 'PAYMENT_APPROVER'],
    [
      { username: 'alice', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'acme' } },
      { username: 'bob', groups: ['PAYMENT_APPROVER', 'VIEWER'], attributes: { 'custom:tenantId': 'acme' } },
      { username: 'gina', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'globex' } },
      { username: 'remy', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'acme' } },
      { username: 'dora', groups: ['VIEWER'], attributes: { 'custom:tenantId': 'acme' } },
      { username: 'dave', groups: ['VIEWER'], attributes: { 'custom:tenantId': 'acme' } },
      { username: 'stan', groups: ['VIEWER'], attributes: { 'custom:tenantId': 'acme' } },
    ],
  );
  for (const u of ['alice', 'bob', 'gina', 'remy', 'dora', 'dave', 'stan'])
    tokens[u] = await logIn(client, pool, u);

  const { UserPoolClient } = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: pool.poolId,
      ClientName: 'settlement',
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: ['payments/settle'],
      AllowedOAuthFlowsUserPoolClient: true,
    }),
  );
  settlementClientId = UserPoolClient!.ClientId!;
  m2mKey = await makeKey('m2m-1', 'ES256');
  writeFileSync(path.join(work, 'm2m-jwks.json'), JSON.stringify({ keys: [m2mKey.publicJwk] }));
  writeRegisteredServicesStore(path.join(work, 'registered-services'));

  const m2m = { ...m2mIssuer([settlementClientId, 'never-registered']), algorithms: ['ES256'] };
  shared = await startTestSidecar({
    policies: { watch: false },
    stores: {
      customers: { path: 'policies/customers' },
      'registered-services': { path: path.join(work, 'registered-services') },
    },
    issuers: [userIssuer(pool), m2m],
    routes: [
      { callerType: 'user', issuer: 'cognito', store: 'customers' },
      { callerType: 'service', issuer: 'cognito-m2m', store: 'registered-services' },
    ],
  });
  perTenant = await startTestSidecar({
    policies: { watch: false },
    stores: {
      'tenant-acme': { path: 'policies/tenant-acme' },
      'tenant-globex': { path: 'policies/tenant-globex' },
    },
    issuers: [userIssuer(pool)],
    routes: [
      {
        callerType: 'user',
        issuer: 'cognito',
        storeFromClaim: { claim: 'custom:tenantId', template: 'tenant-{value}' },
      },
    ],
  });
});

afterAll(async () => {
  await shared?.close();
  await perTenant?.close();
  client?.destroy();
  await cognito?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** What must be equal between the ID-token and the access-token answer. */
const essence = (body: Record<string, unknown>) => ({
  decision: body.decision,
  reason: body.reason,
  store: body.store,
  principal: body.principal,
  callerType: body.callerType,
  policies: policyIds(body).sort(), // Cedar reports determining policies in no set order
});

/** Polls a request until `done(body)`, and returns how long it took from `since`. */
async function msUntil(
  since: number,
  request: () => Promise<Record<string, unknown>>,
  done: (b: Record<string, unknown>) => boolean,
) {
  await waitFor(async () => done(await request()), 'the change to show', (TTL_SECONDS * 1000 + SLACK_MS) * 3);
  return Date.now() - since;
}

describe('enrichment: an access token decides as the matching ID token', () => {
  const customerRequests = [
    onAccount('InitiatePayment', 'acme-ops', { destinationCountry: 'DE' }),
    onAccount('InitiatePayment', 'acme-personal'),
    onAccount('InitiatePayment', 'globex-main'),
    onAccount('ViewAccount', 'acme-personal'),
    onAccount('ViewAccount', 'globex-main'),
    onAccount('InitiatePayment', 'acme-ops', { destinationCountry: 'KP' }),
  ];

  it('the access token has no tenant attribute; the pool supplies it', () => {
    expect(decodeJwt(tokens.alice!.accessToken)['custom:tenantId']).toBeUndefined();
    expect(decodeJwt(tokens.alice!.idToken)['custom:tenantId']).toBe('acme');
  });

  it('shared store: same decision, principal, parents and determining policies for every request', async () => {
    let allows = 0;
    for (const user of ['alice', 'bob', 'gina']) {
      for (const request of customerRequests) {
        const fromId = await authorize(shared.url, tokens[user]!.idToken, request);
        const fromAccess = await authorize(shared.url, tokens[user]!.accessToken, request);
        expect(fromId.status).toBe(200);
        expect(fromAccess.status).toBe(200);
        expect(essence(fromAccess.json), `${user} ${JSON.stringify(request)}`).toEqual(essence(fromId.json));
        if (fromId.json.decision === 'ALLOW') allows++;
      }
    }
    expect(allows).toBeGreaterThanOrEqual(4); // the comparison covers allows, not only denies
    const alice = await authorize(shared.url, tokens.alice!.accessToken, customerRequests[0]!);
    expect(alice.json).toMatchObject({
      decision: 'ALLOW',
      principal: { type: 'Payments::User', id: `${pool.poolId}|${subOf(tokens.alice!.accessToken)}` },
    });
  });

  it("store per tenant: the access token is routed to its tenant's store by the pool attribute", async () => {
    const pay = (tenant: string, accountType: string) => ({
      action: { type: 'Payments::Action', id: 'InitiatePayment' },
      resource: {
        type: 'Payments::Account',
        id: `${tenant}-${accountType}`,
        attributes: { tenantId: tenant, accountType, country: 'US' },
        parents: [{ type: 'Payments::Tenant', id: tenant }],
      },
      context: { destinationCountry: 'US' },
    });
    const cases: [string, ReturnType<typeof pay>, string, string][] = [
      ['alice', pay('acme', 'PERSONAL'), 'DENY', 'tenant-acme'],
      ['alice', pay('acme', 'BUSINESS'), 'ALLOW', 'tenant-acme'],
      ['alice', pay('globex', 'BUSINESS'), 'DENY', 'tenant-acme'],
      ['gina', pay('globex', 'PERSONAL'), 'ALLOW', 'tenant-globex'],
      ['gina', pay('acme', 'BUSINESS'), 'DENY', 'tenant-globex'],
    ];
    for (const [user, request, decision, store] of cases) {
      const fromId = await authorize(perTenant.url, tokens[user]!.idToken, request);
      const fromAccess = await authorize(perTenant.url, tokens[user]!.accessToken, request);
      expect(fromId.json).toMatchObject({ decision, store });
      expect(essence(fromAccess.json)).toEqual(essence(fromId.json));
    }
  });
});

describe('enrichment: changes in the pool take effect within one TTL', () => {
  const initiate = onAccount('InitiatePayment', 'acme-ops', { destinationCountry: 'DE' });

  it('a user removed from a group loses access with their access token', async () => {
    const before = await authorize(shared.url, tokens.remy!.accessToken, initiate);
    expect(before.json).toMatchObject({ decision: 'ALLOW' });
    const removedAt = Date.now();
    await client.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: pool.poolId,
        Username: 'remy',
        GroupName: 'PAYMENT_INITIATOR',
      }),
    );
    const ms = await msUntil(
      removedAt,
      async () => (await authorize(shared.url, tokens.remy!.accessToken, initiate)).json,
      (b) => b.decision === 'DENY',
    );
    expect(ms).toBeLessThanOrEqual(TTL_SECONDS * 1000 + SLACK_MS);
    const after = await authorize(shared.url, tokens.remy!.accessToken, initiate);
    expect(after.json).toMatchObject({ decision: 'DENY', store: 'customers' });
    expect(policyIds(after.json)).toEqual([]);
    // The ID token still carries the group and every mapped attribute, so it is not looked up: it
    // keeps its groups until it expires, as AVP's IsAuthorizedWithToken treats it.
    const id = await authorize(shared.url, tokens.remy!.idToken, initiate);
    expect(id.json).toMatchObject({ decision: 'ALLOW' });
  });

  it('a disabled user and a deleted user are denied with enrichment_failed', async () => {
    const view = onAccount('ViewAccount', 'acme-ops');
    for (const u of ['dora', 'dave']) {
      expect((await authorize(shared.url, tokens[u]!.accessToken, view)).json.decision).toBe('ALLOW');
    }
    const changedAt = Date.now();
    await client.send(new AdminDisableUserCommand({ UserPoolId: pool.poolId, Username: 'dora' }));
    await client.send(new AdminDeleteUserCommand({ UserPoolId: pool.poolId, Username: 'dave' }));
    for (const u of ['dora', 'dave']) {
      const ms = await msUntil(
        changedAt,
        async () => (await authorize(shared.url, tokens[u]!.accessToken, view)).json,
        (b) => b.reason === 'enrichment_failed',
      );
      expect(ms).toBeLessThanOrEqual(TTL_SECONDS * 1000 + SLACK_MS);
      const res = await authorize(shared.url, tokens[u]!.accessToken, view);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ decision: 'DENY', reason: 'enrichment_failed' });
      expect(res.json.store).toBeUndefined();
    }
  });
});

describe('registered clients', () => {
  const settle = onPayment('SettlePayment', 'APPROVED');

  it('a client-credentials token of a registered app client is accepted, with its name and allowed scopes', async () => {
    const token = await clientCredentials(settlementClientId, 'payments/settle');
    const res = await authorize(shared.url, token, settle);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'registered-services',
      callerType: 'service',
      principal: { type: 'Payments::Service', id: settlementClientId },
    });
    // The policy requires clientName and allowedScopes: only the DescribeUserPoolClient lookup supplies them.
    expect(policyIds(res.json)).toEqual(['registered-settlement']);
  });

  it('a client id that is not an app client of the pool is refused with unknown_client (401)', async () => {
    const token = await clientCredentials('never-registered', 'payments/settle');
    const res = await authorize(shared.url, token, settle);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'unknown_client' });
    expect(res.text).not.toContain(token);
  });

  it('a deleted client is refused within one TTL, although its token has not expired', async () => {
    const token = await clientCredentials(settlementClientId, 'payments/settle');
    expect((await authorize(shared.url, token, settle)).json.decision).toBe('ALLOW');
    const deletedAt = Date.now();
    await client.send(
      new DeleteUserPoolClientCommand({ UserPoolId: pool.poolId, ClientId: settlementClientId }),
    );
    const ms = await msUntil(
      deletedAt,
      async () => (await authorize(shared.url, token, settle)).json,
      (b) => b.reason === 'unknown_client',
    );
    expect(ms).toBeLessThanOrEqual(TTL_SECONDS * 1000 + SLACK_MS);
    const res = await authorizeBatch(shared.url, token, [settle, settle]);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'unknown_client' });
  });
});

describe('the Cognito API stopped', () => {
  it('denies with enrichment_failed, never crashes, and keeps answering', async () => {
    const view = onAccount('ViewAccount', 'acme-ops');
    const initiate = onAccount('InitiatePayment', 'acme-ops', { destinationCountry: 'DE' });
    expect((await authorize(shared.url, tokens.stan!.accessToken, view)).json.decision).toBe('ALLOW');
    await cognito.close();
    const stoppedAt = Date.now();
    // Once stan's cached entry expires, his lookups fail: DENY, never a decision on stale data.
    const ms = await msUntil(
      stoppedAt,
      async () => (await authorize(shared.url, tokens.stan!.accessToken, view)).json,
      (b) => b.reason === 'enrichment_failed',
    );
    expect(ms).toBeLessThanOrEqual(TTL_SECONDS * 1000 + SLACK_MS);
    for (let i = 0; i < 5; i++) {
      const res = await authorize(shared.url, tokens.bob!.accessToken, view);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        decision: 'DENY',
        reason: 'enrichment_failed',
        message: 'The user directory could not be reached; the request is denied.',
      });
    }
    const batch = await authorizeBatch(shared.url, tokens.alice!.accessToken, [view, initiate]);
    expect(batch.status).toBe(200);
    expect((batch.json.results as Record<string, unknown>[]).map((r) => r.reason)).toEqual([
      'enrichment_failed',
      'enrichment_failed',
    ]);
    // Tokens that need no lookup are unaffected, and the process is alive and ready.
    const id = await authorize(shared.url, tokens.alice!.idToken, initiate);
    expect(id.json).toMatchObject({ decision: 'ALLOW' });
    expect((await getJson(`${shared.url}/healthz`)).status).toBe(200);
    expect((await getJson(`${shared.url}/readyz`)).status).toBe(200);
    const perTenantRes = await authorize(perTenant.url, tokens.gina!.accessToken, view);
    expect(perTenantRes.json).toMatchObject({ decision: 'DENY', reason: 'enrichment_failed' });
  });

  it('every lookup, hit, unknown and failure was counted in /metrics (authz_identity_lookups_total)', async () => {
    const metrics = await scrape(shared.url);
    const n = (kind: string, outcome: string) =>
      total(metrics, 'authz_identity_lookups_total', { kind, outcome });
    expect(n('user', 'lookup')).toBeGreaterThanOrEqual(6); // six users were looked up at least once
    expect(n('user', 'hit')).toBeGreaterThanOrEqual(1);
    expect(n('user', 'unknown')).toBeGreaterThanOrEqual(1); // the deleted user
    expect(n('user', 'failure')).toBeGreaterThanOrEqual(7); // Cognito stopped
    expect(n('client', 'lookup')).toBeGreaterThanOrEqual(1);
    expect(n('client', 'unknown')).toBeGreaterThanOrEqual(2); // never registered, then deleted
    // Bounded labels only: never a user name or client id.
    for (const s of find(metrics, 'authz_identity_lookups_total')) {
      expect(Object.keys(s.labels).sort()).toEqual(['kind', 'outcome']);
      expect(['user', 'client']).toContain(s.labels.kind);
      expect(['hit', 'lookup', 'unknown', 'failure']).toContain(s.labels.outcome);
    }
  });
});
