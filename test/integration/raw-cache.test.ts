import http from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStoreEngine } from '../../src/engines/local.js';
import type { Sidecar } from '../../src/server.js';
import { account, PAYMENTS_TYPES } from '../support/authorize.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';
import { copyOfSamplePolicies, tempDir, waitFor } from '../support/temp.js';

/**
 * The first-level cache key is the request's bytes (with its door and its verified caller). What it
 * must never do: serve an answer across a reload, across callers, past a token's expiry; and what
 * it must keep: a body in another key order is still the same question (semantic key).
 */
const ISS = 'https://idp.test/raw-cache';
let key: TestKey;
let sidecar: Sidecar;
const policies = copyOfSamplePolicies();
const keys = tempDir('raw-cache-keys-');

const claims = (groups: string[], extra: JWTPayload = {}): JWTPayload => ({
  iss: ISS,
  sub: 'alice-sub',
  aud: 'web-app',
  token_use: 'id',
  'cognito:groups': groups,
  'custom:tenantId': 'acme',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...extra,
});

/** The same bytes every time: one fixed text, posted as is. */
const BODY = JSON.stringify({
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: account('acme-ops'),
});

const ask = (token: string, text = BODY) =>
  postJson(`${sidecar.url}/v1/authorize`, text, { authorization: `Bearer ${token}` });

beforeAll(async () => {
  key = await makeKey('k1');
  writeFileSync(path.join(keys.dir, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
  sidecar = await startTestSidecar(
    {
      policies: { dir: policies.dir, watch: false },
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
          clockSkewSeconds: 0,
        },
      ],
      routes: [{ callerType: 'user', issuer: 'idp', store: 'customers' }],
      httpRoutes: {
        namespace: 'PaymentsApi',
        store: 'api',
        unmatched: 'deny',
        routes: [
          { method: 'GET', path: '/payments', query: ['limit'] },
          { method: 'POST', path: '/payments', query: [] },
        ],
      },
    },
    keys.dir,
  );
});
afterAll(async () => {
  await sidecar?.close();
  policies.remove();
  keys.remove();
});

describe('byte-identical repeats', () => {
  it('are served from cache for the same caller, and never to another caller', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    const viewer = await sign(key, claims(['VIEWER']));
    expect((await ask(initiator)).json).toMatchObject({ decision: 'ALLOW', cached: false });
    expect((await ask(initiator)).json).toMatchObject({ decision: 'ALLOW', cached: true });
    // Same bytes, another caller (same sub, other groups): decided for that caller.
    expect((await ask(viewer)).json).toMatchObject({ decision: 'DENY', cached: false });
    expect((await ask(viewer)).json).toMatchObject({ decision: 'DENY', cached: true });
    expect((await ask(initiator)).json).toMatchObject({ decision: 'ALLOW', cached: true });
  });

  it('a body that differs only in key order gets the same decision (from the semantic key)', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    const parsed = JSON.parse(BODY) as Record<string, unknown>;
    const reordered = JSON.stringify({ resource: parsed.resource, action: parsed.action });
    expect(reordered).not.toBe(BODY);
    await ask(initiator);
    expect((await ask(initiator, reordered)).json).toMatchObject({ decision: 'ALLOW', cached: true });
  });

  it('are decided again after a reload', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    const before = (await ask(initiator)).json;
    expect((await ask(initiator)).json).toMatchObject({ decision: 'ALLOW', cached: true });
    // A forbid on exactly this question, then a reload: the same bytes must now be denied.
    appendFileSync(
      path.join(policies.dir, 'customers', 'zz-raw-cache.cedar'),
      '\n@id("raw-cache-forbid")\nforbid (principal, action == Payments::Action::"InitiatePayment", resource == Payments::Account::"acme-ops");\n',
    );
    const store = sidecar.stores.get('customers') as LocalStoreEngine;
    expect(store.reload()).toMatchObject({ ok: true, changed: true });
    const after = (await ask(initiator)).json;
    expect(after).toMatchObject({
      decision: 'DENY',
      cached: false,
      determiningPolicies: [{ policyId: 'raw-cache-forbid' }],
    });
    expect(after.storeVersion).not.toBe(before.storeVersion);
  });

  it('a token that expires between two identical requests is refused the second time', async () => {
    const shortLived = await sign(key, claims(['PAYMENT_INITIATOR'], { exp: nowSeconds() + 2 }));
    const first = await ask(shortLived);
    expect(first.status).toBe(200);
    // Poll, not a fixed sleep: the answer must turn into 401 expired once exp has passed.
    const refused = await waitFor(
      'the token to expire',
      async () => {
        const res = await ask(shortLived);
        return res.status === 401 ? res : undefined;
      },
      5_000,
      100,
    );
    expect(refused.json).toMatchObject({ decision: 'DENY', reason: 'expired' });
  });
});

/** The proxy doors' checks, with the cache source of every `api` decision counted in /metrics. */
const envoy = (token: string, target = '/payments', method = 'GET') =>
  fetch(`${sidecar.url}/ext-authz${target}`, { method, headers: { authorization: `Bearer ${token}` } });
const nginx = (token: string, target = '/payments', method = 'GET') =>
  fetch(`${sidecar.url}/auth-request`, {
    headers: { authorization: `Bearer ${token}`, 'x-original-uri': target, 'x-original-method': method },
  });
async function apiCacheHits(): Promise<number> {
  const text = await (await fetch(`${sidecar.url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^authz_decisions_total\{([^}]*)\} (\d+)/gm))
    if (m[1]!.includes('store="api"') && m[1]!.includes('source="cache"')) sum += Number(m[2]);
  return sum;
}

describe('repeated proxy checks (Envoy HTTP and nginx auth_request)', () => {
  it('are served from cache for the same caller and method and target, and never to another caller', async () => {
    const viewer = await sign(key, claims(['VIEWER']));
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    // A group the store does not know: no permit applies to it.
    const outsider = await sign(key, claims(['OUTSIDER']));
    expect((await envoy(viewer)).status).toBe(200);
    const hits = await apiCacheHits();
    const repeat = await envoy(viewer);
    expect(repeat.status).toBe(200);
    // The upstream headers name the caller of this request, also on a cached answer.
    expect(repeat.headers.get('x-authz-principal')).toBe('Payments::User::"idp|alice-sub"');
    expect(await apiCacheHits()).toBe(hits + 1);
    // nginx asks the same question (same method and target): the same answer, also from cache.
    expect((await nginx(viewer)).status).toBe(200);
    expect(await apiCacheHits()).toBe(hits + 2);
    // Same method and target, another caller: decided for that caller, twice.
    expect((await envoy(outsider)).status).toBe(403);
    expect((await nginx(outsider)).status).toBe(403);
    // Same caller, another method or target: another question.
    expect((await envoy(viewer, '/payments', 'POST')).status).toBe(403);
    expect((await envoy(initiator, '/payments', 'POST')).status).toBe(200);
    expect((await nginx(initiator, '/payments', 'POST')).status).toBe(200);
    expect((await envoy(viewer, '/payments?limit=5')).status).toBe(200);
    expect((await envoy(viewer, '/unrouted')).status).toBe(403);
    expect((await envoy(viewer, '/unrouted')).status).toBe(403);
  });

  it('are decided again after a reload', async () => {
    const viewer = await sign(key, claims(['VIEWER']));
    await envoy(viewer, '/payments?limit=7');
    expect((await nginx(viewer, '/payments?limit=7')).status).toBe(200);
    appendFileSync(
      path.join(policies.dir, 'api', 'zz-raw-cache.cedar'),
      '\n@id("raw-cache-forbid-list")\nforbid (principal, action == PaymentsApi::Action::"get /payments", resource);\n',
    );
    const store = sidecar.stores.get('api') as LocalStoreEngine;
    expect(store.reload()).toMatchObject({ ok: true, changed: true });
    expect((await nginx(viewer, '/payments?limit=7')).status).toBe(403);
    expect((await envoy(viewer, '/payments?limit=7')).status).toBe(403);
  });

  it("a missing token is never answered from another request's cache entry", async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    expect((await envoy(initiator, '/payments', 'POST')).status).toBe(200);
    expect((await envoy(initiator, '/payments', 'POST')).status).toBe(200);
    const res = await fetch(`${sidecar.url}/ext-authz/payments`, { method: 'POST' });
    expect(res.status).toBe(401);
  });
});

/** `authz_http_requests_total` for one route, method and status. */
async function httpCount(route: string, method: string, status: number): Promise<number> {
  const text = await (await fetch(`${sidecar.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('authz_http_requests_total{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`method="${method}"`) &&
        l.includes(`status="${status}"`),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('repeats answered before routing (the fast path in front of hono)', () => {
  it('are counted in authz_http_requests_total under the route pattern, as every request', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    // Questions asked before (the cache holds them), answered 200 (earlier tests forbid others).
    await ask(initiator);
    await ask(initiator);
    await envoy(initiator, '/payments', 'POST');
    await envoy(initiator, '/payments', 'POST');
    await nginx(initiator, '/payments', 'POST');
    const before = await Promise.all([
      httpCount('/v1/authorize', 'POST', 200),
      httpCount('/ext-authz/*', 'POST', 200),
      httpCount('/auth-request', 'GET', 200),
    ]);
    for (let i = 0; i < 3; i++) {
      expect((await ask(initiator)).json).toMatchObject({ cached: true });
      expect((await envoy(initiator, '/payments', 'POST')).status).toBe(200);
      expect((await nginx(initiator, '/payments', 'POST')).status).toBe(200);
    }
    const after = await Promise.all([
      httpCount('/v1/authorize', 'POST', 200),
      httpCount('/ext-authz/*', 'POST', 200),
      httpCount('/auth-request', 'GET', 200),
    ]);
    expect(after.map((n, i) => n - before[i]!)).toEqual([3, 3, 3]);
  });

  it('a cached question asked with two Authorization headers is still the door’s 400', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    await ask(initiator);
    expect((await ask(initiator)).json).toMatchObject({ cached: true });
    const { hostname, port } = new URL(sidecar.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/v1/authorize',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.setHeader('authorization', [`Bearer ${initiator}`, `Bearer ${initiator}`]);
      req.on('error', reject);
      req.end(BODY);
    });
    expect(status).toBe(400);
  });

  it('a cached question sent chunked (no Content-Length) is answered by the door, the same way', async () => {
    const initiator = await sign(key, claims(['PAYMENT_INITIATOR']));
    await ask(initiator);
    const { decision } = (await ask(initiator)).json;
    const res = await fetch(`${sidecar.url}/v1/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${initiator}` },
      body: new Blob([BODY]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(res.headers.get('content-length')).not.toBeNull();
    expect(await res.json()).toMatchObject({ decision, cached: true });
  });
});
