import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { rawRequest } from '../support/sidecar.js';

/**
 * The Envoy HTTP ext_authz door over real HTTP, with requests shaped as Envoy's HTTP
 * authorization service sends them: the original method, `path_prefix` + the original path and
 * query, Content-Length 0, and the allowed headers (Host, Authorization, x-* as configured).
 */
let dev: DevSidecar;
let alice: string;
let carol: string;
let reporting: string;
beforeAll(async () => {
  dev = await startDevSidecar();
  alice = await dev.token({
    kind: 'user',
    sub: 'alice',
    groups: ['PAYMENT_INITIATOR'],
    claims: { 'custom:tenantId': 'acme' },
  });
  carol = await dev.token({ kind: 'user', sub: 'carol', claims: { 'custom:tenantId': 'acme' } });
  reporting = await dev.token({ kind: 'service', clientId: 'reporting-svc', scopes: ['payments/read'] });
});
afterAll(async () => dev?.sidecar.close());

/** One check as Envoy sends it: same method, prefixed path, no body. */
const check = (method: string, path: string, token?: string, extra: Record<string, string> = {}) =>
  rawRequest(dev.sidecar.url, method, `/ext-authz${path}`, {
    host: 'payments.example.com',
    'content-length': '0',
    'x-forwarded-proto': 'https',
    'x-request-id': '7d1c2a1e-5b8e-4b8a-9d35-1f1f0d6c9f00',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });

describe('Envoy HTTP ext_authz door', () => {
  it('ALLOW: 200 with the principal, caller type and decision id for the upstream', async () => {
    const res = await check('GET', '/accounts/acme-ops', alice);
    expect(res.status).toBe(200);
    expect(res.headers['x-authz-principal']).toBe('Payments::User::"dev|alice"');
    expect(res.headers['x-authz-caller-type']).toBe('user');
    expect(res.headers['x-authz-decision-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(res.text)).toMatchObject({ decision: 'ALLOW' });
  });

  it('isolates tenants: alice (acme) is refused another tenant’s account, as /v1/authorize refuses it', async () => {
    const res = await check('GET', '/accounts/globex-main', alice);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ decision: 'DENY' });
    expect(res.headers['x-authz-principal']).toBeUndefined();
  });

  it('DENY: 403 with a small JSON body and no upstream headers', async () => {
    const res = await check('GET', '/accounts/acme-ops', carol);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-authz-principal']).toBeUndefined();
    expect(JSON.parse(res.text)).toEqual({ decision: 'DENY', decisionId: expect.any(String) });
  });

  it('takes the action from the method: POST and DELETE on the same API', async () => {
    expect((await check('POST', '/payments?dryRun=true', alice)).status).toBe(200);
    expect((await check('DELETE', '/payments/pay-1', alice)).status).toBe(403);
  });

  it('401 with a Bearer challenge for a missing or bad token', async () => {
    const missing = await check('GET', '/accounts/acme-ops');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="authz-sidecar"');
    expect(JSON.parse(missing.text)).toMatchObject({ decision: 'DENY', reason: 'missing_token' });

    const bad = await check('GET', '/accounts/acme-ops', 'not.a.jwt');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(bad.text).not.toContain('not.a.jwt');
  });

  it('an unknown route is a 403 no_route for a known caller, a 401 for an unknown one', async () => {
    const res = await check('GET', '/unknown/place', alice);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ reason: 'no_route' });
    expect((await check('GET', '/unknown/place')).status).toBe(401);
  });

  it('path parameters reach the policies (tenant from the path)', async () => {
    expect((await check('GET', '/tenants/acme/accounts/acme-ops/payments/pay-1', alice)).status).toBe(200);
    expect((await check('GET', '/tenants/globex/accounts/g-1/payments/pay-9', alice)).status).toBe(403);
    expect((await check('GET', '/tenants/acme/reports/r-1', alice)).status).toBe(200);
    expect((await check('GET', '/tenants/globex/reports/r-1', alice)).status).toBe(403);
  });

  it('query parameters reach the policies, for service callers too', async () => {
    const ok = await check('GET', '/payments?limit=50', reporting);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-authz-principal']).toBe('Payments::Service::"reporting-svc"');
    expect(ok.headers['x-authz-caller-type']).toBe('service');
    expect((await check('GET', '/payments?limit=10000', reporting)).status).toBe(403);
    expect((await check('GET', '/payments?limit=50&limit=10000', reporting)).status).toBe(403);
  });

  it('no spelling of a path gets around a rule', async () => {
    for (const path of [
      '/accounts/acme-ops/../../admin/settings',
      '/accounts/%2e%2e/admin/settings',
      '//admin//settings/',
      '/%61dmin/settings',
    ]) {
      const res = await check('GET', path, alice);
      expect(res.status, path).toBe(403);
    }
    const encodedSlash = await check('GET', '/accounts/x%2F..%2F..%2Fadmin%2Fsettings', alice);
    expect(encodedSlash.status).toBe(403);
    expect(JSON.parse(encodedSlash.text)).toMatchObject({ reason: 'invalid_request' });
  });

  it('a path that climbs out of the prefix is still a check, never the 200 of another endpoint', async () => {
    // Envoy does not normalise paths unless told to (normalize_path), so a client's `/../healthz`
    // arrives as `/ext-authz/../healthz`; resolved before routing, it was /healthz's 200: an ALLOW.
    for (const path of [
      '/../healthz',
      '/../readyz',
      '/%2e%2e/v1/stores',
      '/./../metrics',
      '/x/../../healthz',
    ]) {
      for (const token of [alice, undefined]) {
        const res = await check('GET', path, token);
        expect(res.status, path).toBe(token ? 403 : 401);
        expect(JSON.parse(res.text), path).toMatchObject({ decision: 'DENY' });
        expect(res.headers['x-authz-decision-id'], path).toBeUndefined();
      }
    }
    // The same for a query right after the prefix, and with the prefix alone.
    expect((await check('GET', '?a=/../healthz', alice)).status).toBe(403);
  });

  it("ignores nginx's X-Original-URI / X-Original-Method on the Envoy path (a client could send them)", async () => {
    const res = await check('GET', '/admin/settings', alice, {
      'x-original-uri': '/accounts/acme-ops',
      'x-original-method': 'GET',
    });
    expect(res.status).toBe(403);
  });

  it('the prefix alone is the root path, which has no route here', async () => {
    const res = await rawRequest(dev.sidecar.url, 'GET', '/ext-authz', { authorization: `Bearer ${alice}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ reason: 'no_route' });
  });
});
