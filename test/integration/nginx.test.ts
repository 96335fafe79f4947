import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { startNginx, type RunningNginx } from '../support/nginx.js';
import { rawRequest } from '../support/sidecar.js';

/**
 * A real nginx (Debian's, from scripts/install-nginx.sh) in front of a small upstream, asking the
 * sidecar through `auth_request` — the configuration of deploy/nginx/nginx.conf, on loopback.
 */
let dev: DevSidecar;
let nginx: RunningNginx;
let upstream: http.Server;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
let alice: string;
let carol: string;

beforeAll(async () => {
  dev = await startDevSidecar();
  alice = await dev.token({
    kind: 'user',
    sub: 'alice',
    groups: ['PAYMENT_INITIATOR'],
    claims: { 'custom:tenantId': 'acme' },
  });
  carol = await dev.token({ kind: 'user', sub: 'carol', claims: { 'custom:tenantId': 'acme' } });
  upstream = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ upstream: true }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const sidecarUrl = dev.sidecar.url;
  nginx = await startNginx(
    (port) => `
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_authz;
      auth_request_set $authz_principal $upstream_http_x_authz_principal;
      auth_request_set $authz_caller_type $upstream_http_x_authz_caller_type;
      auth_request_set $authz_decision_id $upstream_http_x_authz_decision_id;
      proxy_set_header X-Authz-Principal $authz_principal;
      proxy_set_header X-Authz-Caller-Type $authz_caller_type;
      proxy_set_header X-Authz-Decision-Id $authz_decision_id;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
    location = /_authz {
      internal;
      proxy_pass ${sidecarUrl}/auth-request;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }
  }`,
  );
});
afterAll(async () => {
  await nginx?.stop();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  await dev?.sidecar.close();
});

const through = (method: string, target: string, token?: string, extra: Record<string, string> = {}) => {
  seen.length = 0;
  return rawRequest(nginx.url, method, target, {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
};

describe('nginx auth_request in front of an upstream', () => {
  it('ALLOW: 200 from the upstream, which receives the principal (a client copy is replaced)', async () => {
    const res = await through('GET', '/accounts/acme-ops', alice, {
      'x-authz-principal': 'Payments::User::"forged"',
    });
    expect(res.status, nginx.errorLog()).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ upstream: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-authz-principal']).toBe('Payments::User::"dev|alice"');
    expect(seen[0]!.headers['x-authz-caller-type']).toBe('user');
    expect(seen[0]!.headers['x-authz-decision-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the original method is what the policies see (POST allowed, DELETE denied)', async () => {
    expect((await through('POST', '/payments', alice)).status).toBe(200);
    expect(seen[0]!.method).toBe('POST');
    expect((await through('DELETE', '/payments/pay-1', alice)).status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it('DENY: 403 and the upstream is never called', async () => {
    const res = await through('GET', '/accounts/acme-ops', carol);
    expect(res.status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it('401 with the Bearer challenge for a missing or bad token', async () => {
    const missing = await through('GET', '/accounts/acme-ops');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="authz-sidecar"');
    const bad = await through('GET', '/accounts/acme-ops', 'abc.def.ghi');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(seen).toHaveLength(0);
  });

  it('an unknown route, dot segments and encoded slashes are denied before the upstream', async () => {
    for (const target of [
      '/nowhere',
      '/accounts/acme-ops/../../admin/settings',
      '/accounts/%2e%2e/admin/settings',
      '/accounts/a%2F..%2F..%2Fadmin%2Fsettings',
    ]) {
      const res = await through('GET', target, alice);
      expect(res.status, target).toBe(403);
      expect(seen, target).toHaveLength(0);
    }
  });

  it('query parameters reach the policies through $request_uri', async () => {
    const svc = await dev.token({ kind: 'service', clientId: 'reporting-svc', scopes: ['payments/read'] });
    expect((await through('GET', '/payments?limit=50', svc)).status).toBe(200);
    expect(seen[0]!.headers['x-authz-principal']).toBe('Payments::Service::"reporting-svc"');
    expect((await through('GET', '/payments?limit=10000', svc)).status).toBe(403);
  });
});
