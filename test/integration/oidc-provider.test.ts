import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { authorize, onPayment, PAYMENTS_TYPES, policyIds, TOKEN_CONTEXT } from '../support/authorize.js';
import {
  clientCredentialsToken,
  PAYMENTS_API,
  startOidcProvider,
  type OidcClient,
  type OidcProvider,
} from '../support/oidc-provider.js';
import { getJson, startTestSidecar } from '../support/sidecar.js';

const settlement: OidcClient = {
  client_id: 'settlement-svc',
  client_secret: 'settlement-secret-0123456789',
  scope: 'payments/settle payments/read',
};
const reporting: OidcClient = {
  client_id: 'reporting-svc',
  client_secret: 'reporting-secret-0123456789',
  scope: 'payments/read',
};

let idp: OidcProvider;
let sidecar: Sidecar;

beforeAll(async () => {
  idp = await startOidcProvider([settlement, reporting]);
  sidecar = await startTestSidecar({
    policies: { watch: false },
    issuers: [
      {
        // A generic OIDC issuer: keys found through discovery (no jwksUri), no `token_use` claim,
        // the audience is the resource indicator the token was asked for.
        name: 'oidc',
        issuer: idp.issuer,
        audiences: [PAYMENTS_API],
        algorithms: ['RS256'],
        entityTypes: PAYMENTS_TYPES,
        accessTokenContext: TOKEN_CONTEXT,
      },
    ],
    routes: [
      { callerType: 'service', issuer: 'oidc', store: 'services' },
      { callerType: 'user', issuer: 'oidc', store: 'customers' },
    ],
  });
});

afterAll(async () => {
  await sidecar?.close();
  await idp?.close();
});

describe('oidc-provider client-credentials tokens', () => {
  it('are JWT access tokens with sub == client_id, the resource as aud and the granted scope', async () => {
    const res = await clientCredentialsToken(idp.issuer, settlement, ['payments/settle']);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'payments/settle' });
    const token = String(res.body.access_token);
    expect(decodeProtectedHeader(token)).toMatchObject({
      alg: 'RS256',
      typ: 'at+jwt',
      kid: 'oidc-provider-1',
    });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: idp.issuer,
      sub: 'settlement-svc',
      client_id: 'settlement-svc',
      aud: PAYMENTS_API,
      scope: 'payments/settle',
    });
    expect(Object.keys(claims).sort()).toEqual([
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ]);
  });

  it('the keys were found through discovery', async () => {
    const ready = await getJson(`${sidecar.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      ready: true,
      checks: [{ name: 'issuers', ready: true, detail: { oidc: { loaded: true, keys: 1 } } }],
    });
  });
});

describe('/v1/authorize with a client-credentials token', () => {
  it('classifies the caller as a service, routes it to the services store and allows settlement with the scope', async () => {
    const { body } = await clientCredentialsToken(idp.issuer, settlement, ['payments/settle']);
    const res = await authorize(
      sidecar.url,
      String(body.access_token),
      onPayment('SettlePayment', 'APPROVED'),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'services',
      callerType: 'service',
      principal: { type: 'Payments::Service', id: 'settlement-svc' },
    });
    expect(policyIds(res.json)).toEqual(['settle-with-scope']);
  });

  it('denies settlement when the token was granted other scopes only', async () => {
    const { body } = await clientCredentialsToken(idp.issuer, settlement, ['payments/read']);
    expect(body.scope).toBe('payments/read');
    const res = await authorize(
      sidecar.url,
      String(body.access_token),
      onPayment('SettlePayment', 'APPROVED'),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', store: 'services', callerType: 'service' });
    expect(policyIds(res.json)).toEqual([]);
  });

  it('denies a client that may not ask for the settlement scope at all', async () => {
    const denied = await clientCredentialsToken(idp.issuer, reporting, ['payments/settle']);
    expect(denied.status).toBe(400);
    expect(denied.body.error).toBe('invalid_scope');
    const { body } = await clientCredentialsToken(idp.issuer, reporting, ['payments/read']);
    const res = await authorize(
      sidecar.url,
      String(body.access_token),
      onPayment('SettlePayment', 'APPROVED'),
    );
    expect(res.json).toMatchObject({
      decision: 'DENY',
      principal: { type: 'Payments::Service', id: 'reporting-svc' },
    });
  });

  it('still applies the store forbids to a service with the scope', async () => {
    const { body } = await clientCredentialsToken(idp.issuer, settlement, ['payments/settle']);
    const huge = await authorize(
      sidecar.url,
      String(body.access_token),
      onPayment('SettlePayment', 'APPROVED', '2500000.00'),
    );
    expect(huge.json).toMatchObject({ decision: 'DENY' });
    expect(policyIds(huge.json)).toEqual(['no-automatic-large-settlement']);
  });
});
