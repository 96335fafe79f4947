import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import {
  authorize,
  onAccount,
  PAYMENTS_TYPES,
  policyIds,
  subOf,
  TOKEN_CONTEXT,
} from '../support/authorize.js';
import { cognitoClient, createPool, logIn, adminLogIn, type Pool, type Tokens } from '../support/cognito.js';
import { startCognitoLocal, type CognitoLocal } from '../support/peers.js';
import { startTestSidecar } from '../support/sidecar.js';

let cognito: CognitoLocal;
let pool: Pool;
let otherPool: Pool;
let sidecar: Sidecar;
let accessOnly: Sidecar;
const tokens: Record<string, Tokens> = {};
let otherPoolAlice: Tokens;

/** A Cognito user-pool issuer as the README's Cognito example configures it. */
function cognitoIssuer(p: Pool, overrides: Record<string, unknown> = {}) {
  return {
    name: 'cognito',
    issuer: p.issuer,
    // cognito-local's discovery document names localhost:9229 whatever its port: point at the JWKS directly.
    jwksUri: p.jwksUri,
    audiences: [p.clientId],
    tokenUse: ['id', 'access'],
    algorithms: ['RS256'],
    // Group ids without the pool prefix, so the sample policies' `UserGroup::"PAYMENT_INITIATOR"` match.
    // The principal id keeps AVP's `<poolId>|<sub>` (the prefix defaults to the pool id).
    groupIdFormat: 'name',
    entityTypes: PAYMENTS_TYPES,
    attributes: { 'custom:tenantId': 'tenantId' },
    accessTokenContext: TOKEN_CONTEXT,
    // On a loaded machine the first JWKS fetch can time out; retry on the next token, not 30 s later.
    jwksCooldownSeconds: 1,
    ...overrides,
  };
}

beforeAll(async () => {
  cognito = await startCognitoLocal();
  const client = cognitoClient(cognito.url);
  const groups = ['PAYMENT_INITIATOR', 'PAYMENT_APPROVER'];
  pool = await createPool(client, cognito.url, 'payments', groups, [
    { username: 'alice', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'acme' } },
    { username: 'mallory', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'globex' } },
    { username: 'bob', groups: ['PAYMENT_APPROVER'], attributes: { 'custom:tenantId': 'acme' } },
    { username: 'nogroup', groups: [], attributes: { 'custom:tenantId': 'acme' } },
  ]);
  // Another user pool of the same cognito-local: same signing key, different issuer.
  otherPool = await createPool(client, cognito.url, 'elsewhere', groups, [
    { username: 'alice', groups: ['PAYMENT_INITIATOR'], attributes: { 'custom:tenantId': 'acme' } },
  ]);
  tokens.alice = await logIn(client, pool, 'alice');
  tokens.mallory = await logIn(client, pool, 'mallory');
  tokens.bob = await adminLogIn(client, pool, 'bob');
  tokens.nogroup = await logIn(client, pool, 'nogroup');
  otherPoolAlice = await logIn(client, otherPool, 'alice');
  client.destroy();

  sidecar = await startTestSidecar({
    policies: { watch: false },
    issuers: [cognitoIssuer(pool)],
    routes: [
      { callerType: 'user', issuer: 'cognito', store: 'customers' },
      { callerType: 'service', issuer: 'cognito', store: 'services' },
    ],
  });
  accessOnly = await startTestSidecar({
    policies: { watch: false },
    issuers: [cognitoIssuer(pool, { tokenUse: ['access'] })],
    routes: [{ callerType: 'user', issuer: 'cognito', store: 'customers' }],
  });
});

afterAll(async () => {
  await sidecar?.close();
  await accessOnly?.close();
  await cognito?.close();
});

describe('cognito-local tokens', () => {
  it('have the Cognito shapes the sidecar relies on', () => {
    const id = decodeJwt(tokens.alice!.idToken);
    expect(id).toMatchObject({
      iss: pool.issuer,
      aud: pool.clientId,
      token_use: 'id',
      'cognito:username': 'alice',
      'cognito:groups': ['PAYMENT_INITIATOR'],
      'custom:tenantId': 'acme',
    });
    const access = decodeJwt(tokens.alice!.accessToken);
    expect(access).toMatchObject({ iss: pool.issuer, client_id: pool.clientId, token_use: 'access' });
    expect(access.aud).toBeUndefined();
    expect(access['custom:tenantId']).toBeUndefined();
  });
});

describe('/v1/authorize with a Cognito ID token', () => {
  it('allows a PAYMENT_INITIATOR on a BUSINESS account of their tenant, principal <poolId>|<sub>', async () => {
    const res = await authorize(sidecar.url, tokens.alice!.idToken, onAccount('InitiatePayment', 'acme-ops'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'customers',
      callerType: 'user',
      principal: { type: 'Payments::User', id: `${pool.poolId}|${subOf(tokens.alice!.idToken)}` },
    });
    expect(policyIds(res.json)).toEqual(['initiator-business-accounts']);
  });

  it('denies the initiator on a PERSONAL account', async () => {
    const res = await authorize(
      sidecar.url,
      tokens.alice!.idToken,
      onAccount('InitiatePayment', 'acme-personal'),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', store: 'customers' });
    expect(policyIds(res.json)).toEqual([]);
  });

  it("denies the initiator on another tenant's account (tenant isolation)", async () => {
    const res = await authorize(
      sidecar.url,
      tokens.alice!.idToken,
      onAccount('InitiatePayment', 'globex-main'),
    );
    expect(res.json).toMatchObject({ decision: 'DENY' });
    expect(policyIds(res.json)).toEqual(['tenant-isolation']);
    const theirs = await authorize(
      sidecar.url,
      tokens.mallory!.idToken,
      onAccount('InitiatePayment', 'acme-ops'),
    );
    expect(theirs.json).toMatchObject({ decision: 'DENY' });
    expect(policyIds(theirs.json)).toEqual(['tenant-isolation']);
  });

  it('follows the group hierarchy of the store (PAYMENT_APPROVER in VIEWER) and denies a user in no group', async () => {
    const view = await authorize(sidecar.url, tokens.bob!.idToken, onAccount('ViewAccount', 'acme-personal'));
    expect(view.json).toMatchObject({ decision: 'ALLOW' });
    expect(policyIds(view.json)).toEqual(['viewers-read']);
    const pay = await authorize(sidecar.url, tokens.bob!.idToken, onAccount('InitiatePayment', 'acme-ops'));
    expect(pay.json).toMatchObject({ decision: 'DENY' });
    const none = await authorize(sidecar.url, tokens.nogroup!.idToken, onAccount('ViewAccount', 'acme-ops'));
    expect(none.json).toMatchObject({ decision: 'DENY' });
  });
});

describe('/v1/authorize with a Cognito access token', () => {
  it('verifies it (client_id against the audiences) but, without the tenant attribute the schema requires, never allows', async () => {
    // Cognito access tokens carry no custom attributes: the principal has no tenantId, which the
    // customers schema requires. The request is denied naming the claim (missing_claim), not allowed.
    const res = await authorize(
      sidecar.url,
      tokens.alice!.accessToken,
      onAccount('InitiatePayment', 'acme-ops'),
    );
    expect(res.json.decision).toBe('DENY');
    expect(res.status).toBe(200);
    expect(String(res.json.message)).toMatch(/custom:tenantId/);
    expect(res.json).toMatchObject({
      reason: 'missing_claim',
      callerType: 'user',
      principal: { type: 'Payments::User', id: `${pool.poolId}|${subOf(tokens.alice!.accessToken)}` },
    });
  });

  it('is accepted where only access tokens are, and an ID token there is wrong_token_use', async () => {
    const access = await authorize(
      accessOnly.url,
      tokens.alice!.accessToken,
      onAccount('ViewAccount', 'acme-ops'),
    );
    expect(access.status).not.toBe(401);
    expect(access.json.decision).toBe('DENY');
    const id = await authorize(accessOnly.url, tokens.alice!.idToken, onAccount('ViewAccount', 'acme-ops'));
    expect(id.status).toBe(401);
    expect(id.json).toMatchObject({ decision: 'DENY', reason: 'wrong_token_use' });
  });
});

describe('tokens the sidecar must refuse', () => {
  it('a token of another user pool (same signing key) is wrong_issuer', async () => {
    for (const token of [otherPoolAlice.idToken, otherPoolAlice.accessToken]) {
      const res = await authorize(sidecar.url, token, onAccount('InitiatePayment', 'acme-ops'));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ decision: 'DENY', reason: 'wrong_issuer' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="authz-sidecar", error="invalid_token"');
    }
  });
});
