import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import {
  authorize,
  authorizeBatch,
  onAccount,
  PAYMENTS_TYPES,
  policyIds,
  TOKEN_CONTEXT,
} from '../support/authorize.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { postJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

const ISS = 'https://idp.test/users';
const PREFIX = 'idp';
let key: TestKey;
let dir: string;
let sidecar: Sidecar;
let alice: string;
let nogroup: string;

function user(sub: string, groups: string[], tenantId: string, extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    iss: ISS,
    sub,
    aud: 'web-app',
    token_use: 'id',
    'cognito:groups': groups,
    'custom:tenantId': tenantId,
    iat: now,
    exp: now + 600,
    ...extra,
  };
}

beforeAll(async () => {
  key = await makeKey('k1');
  dir = mkdtempSync(path.join(os.tmpdir(), 'authorize-api-'));
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
  // The sample stores, plus one customers policy that trusts an access-token scope in context
  // (the way AVP-style policies read access-token claims).
  cpSync(path.join(REPO_ROOT, 'policies'), path.join(dir, 'policies'), { recursive: true });
  writeFileSync(
    path.join(dir, 'policies/customers/admin-scope.cedar'),
    `@id("admin-scope-views")
permit (principal, action == Payments::Action::"ViewAccount", resource)
when { context has token && context.token has scope && context.token.scope.contains("accounts/admin") };
`,
  );
  sidecar = await startTestSidecar(
    {
      policies: { dir: 'policies', watch: false },
      issuers: [
        {
          name: 'idp',
          issuer: ISS,
          jwksFile: 'jwks.json',
          audiences: ['web-app'],
          tokenUse: ['id', 'access'],
          algorithms: ['RS256'],
          principalIdPrefix: PREFIX,
          groupIdFormat: 'name',
          entityTypes: PAYMENTS_TYPES,
          attributes: { 'custom:tenantId': 'tenantId' },
          accessTokenContext: TOKEN_CONTEXT,
        },
      ],
      routes: [{ callerType: 'user', issuer: 'idp', store: 'customers' }],
    },
    dir,
  );
  alice = await sign(key, user('alice-sub', ['PAYMENT_INITIATOR'], 'acme'));
  nogroup = await sign(key, user('nobody-sub', [], 'acme'));
});

afterAll(async () => {
  await sidecar?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/authorize/batch', () => {
  /** 30 different accounts; the expected decision follows the sample policies for alice (acme initiator). */
  function mixedItems() {
    return Array.from({ length: 30 }, (_, i) => {
      const tenantId = i % 3 === 0 ? 'globex' : 'acme';
      const accountType = i % 2 === 0 ? 'BUSINESS' : 'PERSONAL';
      const action = i % 5 === 0 ? 'ViewAccount' : 'InitiatePayment';
      const sanctioned = i % 8 === 4;
      const expected =
        tenantId !== 'acme'
          ? 'DENY'
          : action === 'ViewAccount'
            ? 'ALLOW'
            : accountType === 'BUSINESS' && !sanctioned
              ? 'ALLOW'
              : 'DENY';
      return {
        expected,
        item: {
          action: { type: 'Payments::Action', id: action },
          resource: {
            type: 'Payments::Account',
            id: `acct-${i}`,
            attributes: { tenantId, accountType, country: 'GB' },
            parents: [{ type: 'Payments::Tenant', id: tenantId }],
          },
          context: sanctioned ? { destinationCountry: 'KP' } : { destinationCountry: 'DE' },
        },
      };
    });
  }

  it('answers 30 items with mixed outcomes one by one, in order', async () => {
    const cases = mixedItems();
    expect(new Set(cases.map((c) => c.expected))).toEqual(new Set(['ALLOW', 'DENY']));
    const res = await authorizeBatch(
      sidecar.url,
      alice,
      cases.map((c) => c.item),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      callerType: 'user',
      principal: { type: 'Payments::User', id: `${PREFIX}|alice-sub` },
    });
    const results = res.json.results as Record<string, unknown>[];
    expect(results.map((r) => r.decision)).toEqual(cases.map((c) => c.expected));
    expect(policyIds(results[0]!)).toEqual(['tenant-isolation']); // globex
    expect(policyIds(results[2]!)).toEqual(['initiator-business-accounts']); // acme BUSINESS
    expect(policyIds(results[10]!)).toEqual(['viewers-read']); // acme view
    expect(policyIds(results[28]!)).toEqual(['sanctioned-destinations']); // acme BUSINESS to KP
    expect(policyIds(results[5]!)).toEqual(['viewers-read']); // acme PERSONAL view
    expect(policyIds(results[7]!)).toEqual([]); // acme PERSONAL initiate
    expect(new Set(results.map((r) => r.decisionId)).size).toBe(30);
  });

  it('reports a bad item in its place without failing the others', async () => {
    const items = mixedItems().map((c) => c.item);
    items[4] = {
      ...items[4]!,
      resource: { ...items[4]!.resource, attributes: { tenantId: 'acme' } },
    } as never;
    items[7] = { ...items[7]!, entities: [{ uid: { type: 'Payments::User', id: 'x' } }] } as never;
    const res = await authorizeBatch(sidecar.url, alice, items);
    expect(res.status).toBe(200);
    const results = res.json.results as Record<string, unknown>[];
    expect(results[4]).toMatchObject({ decision: 'DENY', reason: 'invalid_request' });
    expect(results[7]).toMatchObject({ decision: 'DENY', reason: 'entity_conflict' });
    expect(results[2]).toMatchObject({ decision: 'ALLOW' });
  });

  it('refuses 31 items with 400 batch_too_large', async () => {
    const items = [...mixedItems(), mixedItems()[0]!].map((c) => c.item);
    expect(items).toHaveLength(31);
    const res = await authorizeBatch(sidecar.url, alice, items);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      decision: 'DENY',
      reason: 'batch_too_large',
      fields: [{ path: 'items', message: 'at most 30 items' }],
    });
  });

  it('answers a bad or missing token once for the whole batch (401)', async () => {
    const items = mixedItems().map((c) => c.item);
    const expired = await sign(
      key,
      user('alice-sub', ['PAYMENT_INITIATOR'], 'acme', { exp: nowSeconds() - 3600 }),
    );
    const res = await authorizeBatch(sidecar.url, expired, items);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ decision: 'DENY', reason: 'expired', message: expect.any(String) });
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const missing = await authorizeBatch(sidecar.url, undefined, items);
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ decision: 'DENY', reason: 'missing_token' });
  });

  it('refuses an empty batch and malformed items (400)', async () => {
    expect((await authorizeBatch(sidecar.url, alice, [])).status).toBe(400);
    const res = await authorizeBatch(sidecar.url, alice, [{ action: { type: 'Payments::Action' } }]);
    expect(res.status).toBe(400);
    expect(res.json.reason).toBe('invalid_request');
  });
});

describe('entities the request may not supply', () => {
  /** Each of these would turn a DENY into an ALLOW if the sidecar believed it. */
  const base = onAccount('InitiatePayment', 'globex-main');
  const forgeries: [string, unknown[], string][] = [
    [
      'an entity of the principal type',
      [{ uid: { type: 'Payments::User', id: 'someone' }, attrs: { tenantId: 'globex' } }],
      'entity_conflict',
    ],
    [
      'the principal itself, with another tenant',
      [
        {
          uid: { type: 'Payments::User', id: `${PREFIX}|alice-sub` },
          attrs: { tenantId: 'globex' },
          parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
        },
      ],
      'entity_conflict',
    ],
    [
      'one of its groups, under a stronger one',
      [
        {
          uid: { type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' },
          parents: [{ type: 'Payments::UserGroup', id: 'TREASURER' }],
        },
      ],
      'entity_conflict',
    ],
    [
      'a static group of the store (entities.json)',
      [
        {
          uid: { type: 'Payments::UserGroup', id: 'VIEWER' },
          parents: [{ type: 'Payments::UserGroup', id: 'TREASURER' }],
        },
      ],
      'entity_conflict',
    ],
    [
      'a service principal',
      [{ uid: { type: 'Payments::Service', id: 'settlement-svc' }, attrs: { scopes: ['payments/settle'] } }],
      'entity_conflict',
    ],
    [
      'a static tenant of the store (entities.json)',
      [{ uid: { type: 'Payments::Tenant', id: 'globex' }, parents: [] }],
      'invalid_request',
    ],
  ];

  it.each(forgeries)('refuses %s', async (_name, entities, reason) => {
    const res = await authorize(sidecar.url, alice, { ...base, entities });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ decision: 'DENY', reason });
  });

  it('refuses a resource of a principal type given with inline attributes', async () => {
    const res = await authorize(sidecar.url, alice, {
      action: { type: 'Payments::Action', id: 'ViewAccount' },
      resource: { type: 'Payments::User', id: `${PREFIX}|alice-sub`, attributes: { tenantId: 'globex' } },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'entity_conflict' });
  });

  it('refuses a resource given both inline and in entities', async () => {
    const res = await authorize(sidecar.url, alice, {
      ...onAccount('ViewAccount', 'acme-ops'),
      entities: [{ uid: { type: 'Payments::Account', id: 'acme-ops' }, attrs: {} }],
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'invalid_request' });
  });
});

describe('context the request may not supply', () => {
  it('the access-token claims key (context.token) is the sidecar’s, even with an ID token', async () => {
    // Without the forged scope, a user in no group may not view the account.
    const plain = await authorize(sidecar.url, nogroup, onAccount('ViewAccount', 'acme-ops'));
    expect(plain.json.decision).toBe('DENY');
    const forged = await authorize(
      sidecar.url,
      nogroup,
      onAccount('ViewAccount', 'acme-ops', { token: { scope: ['accounts/admin'] } }),
    );
    expect(forged.json.decision).toBe('DENY');
    expect(forged.status).toBe(400);
    expect(forged.json).toMatchObject({ reason: 'invalid_request' });
    expect(String(forged.json.message)).toContain('context.token');
  });

  it('an access token that carries the scope is allowed through the same policy', async () => {
    const { aud: _aud, ...claims } = user('nobody-sub', [], 'acme', {
      token_use: 'access',
      client_id: 'web-app',
      scope: 'accounts/admin',
    });
    // The access token has the tenant claim here, so the customers schema accepts the principal.
    const res = await authorize(sidecar.url, await sign(key, claims), onAccount('ViewAccount', 'acme-ops'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'ALLOW' });
    expect(policyIds(res.json)).toEqual(['admin-scope-views']);
  });
});

describe('request errors never echo the body', () => {
  it('invalid JSON names no part of the body', async () => {
    const token = alice;
    for (const body of [`{"token": ${token}}`, token, `{"token":"${token}" "x"}`]) {
      const res = await postJson(`${sidecar.url}/v1/authorize`, body);
      expect(res.status).toBe(400);
      expect(res.json.reason).toBe('invalid_json');
      for (const part of token.split('.')) expect(res.text).not.toContain(part.slice(0, 8));
    }
  });
});
