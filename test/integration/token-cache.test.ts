import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { authorize, onAccount, PAYMENTS_TYPES } from '../support/authorize.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { scrape, total } from '../support/prometheus.js';
import { REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

const ISS = 'https://idp.test/users';
let key: TestKey;
let dir: string;
let sidecar: Sidecar;

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
  dir = mkdtempSync(path.join(os.tmpdir(), 'token-cache-'));
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
  sidecar = await startTestSidecar(
    {
      policies: { dir: path.join(REPO_ROOT, 'policies'), watch: false },
      issuers: [
        {
          name: 'idp',
          issuer: ISS,
          jwksFile: 'jwks.json',
          audiences: ['web-app'],
          tokenUse: ['id'],
          algorithms: ['RS256'],
          principalIdPrefix: 'idp',
          groupIdFormat: 'name',
          entityTypes: PAYMENTS_TYPES,
          attributes: { 'custom:tenantId': 'tenantId' },
        },
      ],
      routes: [{ callerType: 'user', issuer: 'idp', store: 'customers' }],
      decisionLog: { enabled: true, destination: 'decisions.log' },
    },
    dir,
  );
});
afterAll(async () => {
  await sidecar?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token callers through /v1/authorize', () => {
  it('verify a token once, answer repeats from both caches, and never expose the token', async () => {
    const alice = await sign(key, user('alice-sub', ['PAYMENT_INITIATOR'], 'acme'));
    const first = await authorize(sidecar.url, alice, onAccount('InitiatePayment', 'acme-ops'));
    const second = await authorize(sidecar.url, alice, onAccount('InitiatePayment', 'acme-ops'));
    expect(first.json).toMatchObject({ decision: 'ALLOW', cached: false, callerType: 'user' });
    expect(second.json).toMatchObject({ decision: 'ALLOW', cached: true });

    // The same principal in another group, with a fresh token: a different entry, a different answer.
    const viewer = await sign(key, user('alice-sub', ['VIEWER'], 'acme'));
    expect(
      (await authorize(sidecar.url, viewer, onAccount('InitiatePayment', 'acme-ops'))).json,
    ).toMatchObject({ decision: 'DENY', cached: false });

    // A token failure is never cached: the same bad token is verified (and refused) every time.
    const expired = await sign(
      key,
      user('alice-sub', ['PAYMENT_INITIATOR'], 'acme', { exp: nowSeconds() - 600 }),
    );
    for (let i = 0; i < 2; i++) {
      const res = await authorize(sidecar.url, expired, onAccount('InitiatePayment', 'acme-ops'));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ decision: 'DENY', reason: 'expired' });
    }

    const res = await fetch(`${sidecar.url}/metrics`);
    const text = await res.text();
    const m = await scrape(sidecar.url);
    expect(total(m, 'authz_token_verifications_total', { result: 'success' })).toBe(2);
    expect(total(m, 'authz_token_verifications_total', { result: 'failure', reason: 'expired' })).toBe(2);
    expect(total(m, 'authz_cache_hits_total', { cache: 'tokens' })).toBe(1);
    expect(total(m, 'authz_cache_size', { cache: 'tokens' })).toBe(2);
    expect(total(m, 'authz_decisions_total', { caller_type: 'user', source: 'cache' })).toBe(1);
    expect(total(m, 'authz_decisions_total', { caller_type: 'user', source: 'engine' })).toBe(2);
    expect(
      total(m, 'authz_decisions_total', { caller_type: '', source: 'none', reason: 'expired', store: '' }),
    ).toBe(2);
    expect(total(m, 'authz_http_requests_total', { route: '/v1/authorize', status: '401' })).toBe(2);

    await sidecar.close();
    const log = readFileSync(path.join(dir, 'decisions.log'), 'utf8');
    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.decision, l.cached, l.reason])).toEqual([
      ['ALLOW', false, null],
      ['ALLOW', true, null],
      ['DENY', false, null],
      ['DENY', false, 'expired'],
      ['DENY', false, 'expired'],
    ]);
    expect(lines[0]).toMatchObject({ principal: 'Payments::User::"idp|alice-sub"', callerType: 'user' });
    for (const token of [alice, viewer, expired]) {
      for (const part of token.split('.')) {
        expect(log).not.toContain(part);
        expect(text).not.toContain(part);
      }
    }
  });
});
