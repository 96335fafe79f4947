import { describe, expect, it } from 'vitest';
import { ConfigSchema, type IssuerConfig } from '../config/index.js';
import { classify, defaultPrefix, toCaller } from './to-caller.js';
import type { VerifiedToken } from './verify-token.js';

const POOL = 'eu-west-1_AbCdEf123';
const COGNITO = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

function issuer(raw: Record<string, unknown> = {}): IssuerConfig {
  return ConfigSchema.parse({
    issuers: [
      {
        name: 'pool',
        issuer: COGNITO,
        audiences: ['app-client'],
        entityTypes: { user: 'Payments::User', group: 'Payments::UserGroup', service: 'Payments::Service' },
        attributes: { 'custom:tenantId': 'tenantId' },
        accessTokenContext: {
          claims: { scope: { attribute: 'scope', type: 'set' }, client_id: 'client_id' },
        },
        ...raw,
      },
    ],
  }).issuers[0]!;
}

function caller(config: IssuerConfig, claims: Record<string, unknown>) {
  const verified = { issuer: { config, prefix: defaultPrefix(config), keys: undefined as never }, claims };
  return toCaller(verified as VerifiedToken);
}

// The token shapes the sidecar meets (see DESIGN.md and the integration tests).
const cognitoId = {
  sub: 'u-1',
  aud: 'app-client',
  token_use: 'id',
  'cognito:username': 'alice',
  'cognito:groups': ['PAYMENT_INITIATOR', 'VIEWER'],
  'custom:tenantId': 'acme',
  exp: 2_000_000_000,
};
const cognitoUserAccess = {
  sub: 'u-1',
  client_id: 'app-client',
  token_use: 'access',
  username: 'alice',
  scope: 'aws.cognito.signin.user.admin',
  'cognito:groups': ['PAYMENT_INITIATOR'],
};
const cognitoClientCredentials = {
  sub: 'settlement-svc',
  client_id: 'settlement-svc',
  token_use: 'access',
  scope: 'payments/settle payments/read',
};
/** oidc-provider's client-credentials JWT access token: no token_use, the resource in aud. */
const oidcClientCredentials = {
  sub: 'settlement-svc',
  client_id: 'settlement-svc',
  aud: 'https://payments.example/api',
  scope: 'payments/settle',
  jti: 'j',
};

describe('classify', () => {
  const config = issuer();

  it.each([
    ['a Cognito ID token', cognitoId, 'user'],
    ['a Cognito user access token (username)', cognitoUserAccess, 'user'],
    [
      'a Cognito client-credentials token (sub == client_id, no username)',
      cognitoClientCredentials,
      'service',
    ],
    ['an oidc-provider client-credentials token (no token_use)', oidcClientCredentials, 'service'],
    [
      'a generic OIDC user access token (sub != client_id)',
      { ...oidcClientCredentials, sub: 'account-7' },
      'user',
    ],
    ['an ID token whose sub equals a client id', { ...cognitoClientCredentials, token_use: 'id' }, 'user'],
    ['a token with a username and sub == client_id', { ...cognitoClientCredentials, username: 'x' }, 'user'],
    [
      'a token with cognito:username and sub == client_id',
      { ...cognitoClientCredentials, 'cognito:username': 'x' },
      'user',
    ],
    ['a token without client_id', { sub: 'svc', token_use: 'access' }, 'user'],
  ])('%s → %s', (_name, claims, expected) => {
    expect(classify(config, claims)).toBe(expected);
  });

  it("uses the issuer's user caller type for users, never for services", () => {
    const staff = issuer({ userCallerType: 'internal' });
    expect(classify(staff, cognitoId)).toBe('internal');
    expect(classify(staff, cognitoClientCredentials)).toBe('service');
  });

  it('applies the first matching rule before the built-in classification', () => {
    const config = issuer({
      callerTypeRules: [
        { claim: 'cognito:groups', equals: 'STAFF', callerType: 'internal' },
        { claim: 'idtyp', equals: 'app', callerType: 'service' },
        { claim: 'custom:partner', exists: true, callerType: 'partner' },
        { claim: 'custom:partner', exists: false, equals: 'never', callerType: 'unreachable' },
      ],
    });
    expect(classify(config, { ...cognitoId, 'cognito:groups': ['VIEWER', 'STAFF'] })).toBe('internal');
    expect(classify(config, { sub: 'oid-1', azp: 'reporting', idtyp: 'app' })).toBe('service');
    expect(classify(config, { ...cognitoId, 'custom:partner': 'p1' })).toBe('partner');
    expect(classify(config, cognitoId)).toBe('user');
    expect(classify(config, cognitoClientCredentials)).toBe('service');
  });
});

describe('toCaller', () => {
  it('a Cognito ID token: <poolId>|<sub>, groups as <poolId>|<group> parents, mapped attributes, no context', () => {
    const c = caller(issuer(), cognitoId);
    expect(c).toMatchObject({
      type: 'user',
      issuer: 'pool',
      principal: {
        uid: { type: 'Payments::User', id: `${POOL}|u-1` },
        attrs: { tenantId: 'acme' },
        parents: [
          { type: 'Payments::UserGroup', id: `${POOL}|PAYMENT_INITIATOR` },
          { type: 'Payments::UserGroup', id: `${POOL}|VIEWER` },
        ],
      },
      context: {},
      expiresAt: 2_000_000_000,
    });
    expect(c.protectedTypes).toEqual(['Payments::User', 'Payments::UserGroup', 'Payments::Service']);
    expect(c.protectedContextKeys).toEqual(['token']);
  });

  it('simpler ids are a config switch: principalIdFormat sub, groupIdFormat name, a configured prefix', () => {
    expect(
      caller(issuer({ principalIdFormat: 'sub', groupIdFormat: 'name' }), cognitoId).principal,
    ).toMatchObject({
      uid: { id: 'u-1' },
      parents: [{ id: 'PAYMENT_INITIATOR' }, { id: 'VIEWER' }],
    });
    expect(caller(issuer({ principalIdPrefix: 'dev' }), cognitoId).principal.uid.id).toBe('dev|u-1');
  });

  it('a user access token: claims in context.token, groups from the token, no custom attributes', () => {
    const c = caller(issuer(), cognitoUserAccess);
    expect(c.type).toBe('user');
    expect(c.context).toEqual({
      token: { scope: ['aws.cognito.signin.user.admin'], client_id: 'app-client' },
    });
    expect(c.principal.attrs).toEqual({});
    expect(c.principal.parents).toEqual([{ type: 'Payments::UserGroup', id: `${POOL}|PAYMENT_INITIATOR` }]);
  });

  it('a client-credentials token: a service keyed by client id, with its scopes and no parents', () => {
    for (const claims of [cognitoClientCredentials, oidcClientCredentials]) {
      const c = caller(issuer(), claims);
      expect(c.type).toBe('service');
      expect(c.principal).toEqual({
        uid: { type: 'Payments::Service', id: 'settlement-svc' },
        attrs: { scopes: claims.scope.split(' ') },
        parents: [],
      });
      expect(c.context.token).toMatchObject({ client_id: 'settlement-svc' });
    }
    const scp = caller(issuer(), { sub: 's', client_id: 's', scp: ['a/b', 'c/d'] });
    expect(scp.principal.attrs).toEqual({ scopes: ['a/b', 'c/d'] });
  });

  it('a custom groups claim and the attribute mapping of an enterprise IdP', () => {
    const config = issuer({
      issuer: 'https://login.example.com/',
      groupsClaim: 'groups',
      groupIdFormat: 'name',
      userCallerType: 'internal',
      attributes: { department: 'department', level: { attribute: 'level', type: 'long' } },
      accessTokenContext: {},
    });
    const c = caller(config, { sub: 'e-1', groups: 'OPS ONCALL', department: 'ops', level: '7' });
    expect(c).toMatchObject({
      type: 'internal',
      principal: {
        uid: { id: 'https://login.example.com/|e-1' },
        attrs: { department: 'ops', level: 7 },
        parents: [{ id: 'OPS' }, { id: 'ONCALL' }],
      },
    });
    // No access-token claims mapped: the request may use context.token for its own purposes.
    expect(c.protectedContextKeys).toEqual([]);
  });
});

describe('defaultPrefix', () => {
  it.each([
    [COGNITO, POOL],
    [`${COGNITO}/`, POOL],
    ['https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_Z9y8X7w6', 'us-gov-west-1_Z9y8X7w6'],
    ['http://127.0.0.1:9229/local_3JGZLFUT', 'local_3JGZLFUT'], // cognito-local
    ['https://login.example.com', 'https://login.example.com'],
    ['http://127.0.0.1:41000', 'http://127.0.0.1:41000'], // oidc-provider
    ['urn:authz-sidecar:dev', 'urn:authz-sidecar:dev'],
  ])('%s → %s', (iss, prefix) => {
    expect(defaultPrefix(issuer({ issuer: iss }))).toBe(prefix);
  });

  it('a configured principalIdPrefix wins', () => {
    expect(defaultPrefix(issuer({ principalIdPrefix: 'customers' }))).toBe('customers');
  });
});
