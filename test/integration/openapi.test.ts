import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ERROR_CODES, TOKEN_ERROR_CODES } from '../../src/core/errors.js';
import type { Sidecar } from '../../src/server.js';
import {
  collectRefs,
  loadSpec,
  resolvePointer,
  ResponseValidator,
  validateOpenApiDocument,
  type Json,
} from '../support/openapi.js';
import { mintDevToken } from '../../src/identity/dev-issuer.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSidecar } from '../../src/server.js';
import { REPO_ROOT, startTestSidecar, sampleStores } from '../support/sidecar.js';
import { waitFor } from '../support/temp.js';

/**
 * openapi.yaml is the contract: these tests send real requests to the real server and check each
 * answer (status, content type, body, required headers) against what the spec declares for that
 * path, method and status, and check that every route the server mounts is in the spec.
 */

const spec = loadSpec();
const validator = new ResponseValidator(spec);

let sidecar: Sidecar; // the dev config: sample stores, dev issuers and routes
// A small body limit (for 413) and an issuer whose keys cannot load (for a 503 /readyz).
let degraded: Sidecar;
const keyDir = mkdtempSync(path.join(tmpdir(), 'authz-openapi-'));

/** config/dev.yaml as `npm start` runs it, with its signing key in a temporary folder. */
async function startDevSidecar(): Promise<Sidecar> {
  const loaded = loadConfig({ configPath: path.join(REPO_ROOT, 'config/dev.yaml'), env: {} });
  loaded.config.server.port = 0;
  loaded.config.policies.watch = false;
  loaded.config.dev.keyDir = keyDir;
  for (const issuer of loaded.config.issuers) issuer.jwksFile = path.join(keyDir, 'jwks.json');
  return startSidecar(loaded, createLogger('silent'));
}

beforeAll(async () => {
  [sidecar, degraded] = await Promise.all([
    startDevSidecar(),
    startTestSidecar({
      policies: { watch: false },
      server: { bodyLimitBytes: 64 },
      issuers: [
        {
          name: 'keyless',
          issuer: 'urn:keyless',
          jwksFile: path.join(keyDir, 'missing.json'),
          audiences: ['x'],
        },
      ],
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([sidecar?.close(), degraded?.close()]);
  rmSync(keyDir, { recursive: true, force: true });
});

interface Call {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  base: string,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Call> {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    headers: res.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

/** Asserts the answer conforms to the spec's response for `pathTemplate` + `method` + its status. */
function expectConforms(pathTemplate: string, method: string, res: Call, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const problems = validator.check(validator.responseFor(pathTemplate, method, res.status), {
    ...res,
    body: res.body,
  });
  expect(problems, `${method} ${pathTemplate} → ${status}: ${JSON.stringify(res.body)}`).toEqual([]);
}

const screen = (scopes: string[], extra: Record<string, unknown> = {}) => ({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes } }],
  ...extra,
});

describe('openapi.yaml is a valid OpenAPI 3.1 document', () => {
  it('declares OpenAPI 3.1 and validates against the OpenAPI 3.1 schema', () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((spec.info as { version: string }).version, 'info.version follows package.json').toBe(pkg.version);
    expect(validateOpenApiDocument(spec)).toEqual([]);
  });

  it('resolves every $ref', () => {
    const refs = collectRefs(spec);
    expect(refs.length).toBeGreaterThan(20);
    const dangling = refs.filter(({ ref }) => resolvePointer(spec, ref) === undefined);
    expect(dangling).toEqual([]);
  });

  it('compiles every component schema and every response schema with strict Ajv', () => {
    const schemas = (spec.components as { schemas: Record<string, Json> }).schemas;
    for (const [name, schema] of Object.entries(schemas)) {
      expect(() => validator.compile(schema), name).not.toThrow();
    }
    for (const { ref } of collectRefs(spec).filter((r) => r.at.endsWith('/schema'))) {
      expect(() => validator.compile({ $ref: ref }), ref).not.toThrow();
    }
  });

  it('lists exactly the reason codes of src/errors.ts, with their statuses', () => {
    const schemas = (spec.components as { schemas: Record<string, { enum: string[]; description: string }> })
      .schemas;
    const codes = Object.keys(ERROR_CODES);
    expect([...schemas.ReasonCode!.enum].sort()).toEqual([...codes].sort());
    expect([...schemas.TokenReason!.enum].sort()).toEqual([...TOKEN_ERROR_CODES].sort());
    const with200 = codes.filter((c) => ERROR_CODES[c as keyof typeof ERROR_CODES].status === 200);
    expect([...schemas.DecisionReason!.enum].sort()).toEqual(with200.sort());
    // The documentation table names each code once with the status the code answers.
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(schemas.ReasonCode!.description, code).toContain(`| \`${code}\` | ${status} |`);
    }
  });

  it('rejects answers that drift from it (the validator is not vacuous)', () => {
    const decision = validator.responseFor('/v1/is-authorized', 'post', 200);
    const good = {
      decision: 'ALLOW',
      decisionId: '0b6d5a7e-3f0c-4f57-9d2a-0d1c2f9b8e11',
      determiningPolicies: [],
      errors: [],
      cached: false,
    };
    const check = (body: unknown) =>
      validator.check(decision, { status: 200, contentType: 'application/json', body });
    expect(check(good)).toEqual([]);
    expect(check({ ...good, surprise: 1 })).not.toEqual([]);
    expect(check({ ...good, decisionId: 'not-a-uuid' })).not.toEqual([]);
    expect(check({ ...good, decision: 'MAYBE' })).not.toEqual([]);
    const { cached: _cached, ...missing } = good;
    expect(check(missing)).not.toEqual([]);
    expect(validator.check(decision, { status: 200, contentType: 'text/plain', body: good })).not.toEqual([]);

    // /v1/authorize: principal and callerType are required, except on a DENY enrichment_failed.
    const authorized = validator.responseFor('/v1/authorize', 'post', 200);
    const checkAuthorize = (body: unknown) =>
      validator.check(authorized, { status: 200, contentType: 'application/json', body });
    const who = { principal: { type: 'Payments::Service', id: 'fraud-svc' }, callerType: 'service' };
    expect(checkAuthorize({ ...good, ...who })).toEqual([]);
    expect(checkAuthorize(good)).not.toEqual([]);
    const enrichmentFailed = { ...good, decision: 'DENY', reason: 'enrichment_failed', message: 'down' };
    expect(checkAuthorize(enrichmentFailed)).toEqual([]);
    expect(checkAuthorize({ ...enrichmentFailed, reason: 'no_store' })).not.toEqual([]);
  });
});

describe('every mounted route is in openapi.yaml', () => {
  it('covers each path and method of the hono app', () => {
    const paths = spec.paths as Record<string, Record<string, unknown>>;
    const mounted = sidecar.app.routes
      // `app.use('*', …)` middleware (the body limit) shows up as ALL /*; it is not an endpoint.
      .filter((r) => !(r.method === 'ALL' && (r.path === '/*' || r.path === '*')))
      .map((r) => ({
        method: r.method.toLowerCase(),
        path: r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}').replace(/\/\*$/, '/{path}'),
      }));
    expect(mounted.length).toBeGreaterThan(0);
    const missing = mounted.filter(({ method, path }) =>
      method === 'all' ? !paths[path] : !paths[path]?.[method],
    );
    expect(missing).toEqual([]);
  });
});

describe('POST /v1/is-authorized answers as the spec says', () => {
  const path = '/v1/is-authorized';

  it('200 ALLOW', async () => {
    const res = await call(sidecar.url, 'POST', path, screen(['payments/screen']));
    expectConforms(path, 'post', res, 200);
    expect(res.body.decision).toBe('ALLOW');
  });

  it('200 DENY (evaluated)', async () => {
    const res = await call(sidecar.url, 'POST', path, screen(['payments/read']));
    expectConforms(path, 'post', res, 200);
    expect(res.body).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
    expect(res.body.reason).toBeUndefined();
  });

  it('400 invalid_json', async () => {
    const res = await call(sidecar.url, 'POST', path, '{"store": ');
    expectConforms(path, 'post', res, 400);
    expect(res.body).toMatchObject({ decision: 'DENY', reason: 'invalid_json' });
  });

  it('400 invalid_request naming the fields', async () => {
    const { store: _store, ...noStore } = screen([]);
    const res = await call(sidecar.url, 'POST', path, { ...noStore, surprise: true });
    expectConforms(path, 'post', res, 400);
    expect(res.body.reason).toBe('invalid_request');
    expect(res.body.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'store' }),
        { path: 'surprise', message: 'unknown field' },
      ]),
    );
  });

  it('400 invalid_request when the store schema rejects the request (decided by the pipeline)', async () => {
    const res = await call(
      sidecar.url,
      'POST',
      path,
      screen([], { principal: { type: 'Payments::Nobody', id: 'x' } }),
    );
    expectConforms(path, 'post', res, 400);
    expect(res.body).toMatchObject({ reason: 'invalid_request', store: 'services' });
    expect(res.body.decisionId).toBeTypeOf('string');
  });

  it('404 unknown store', async () => {
    const res = await call(sidecar.url, 'POST', path, screen([], { store: 'nope' }));
    expectConforms(path, 'post', res, 404);
    expect(res.body).toMatchObject({ decision: 'DENY', reason: 'unknown_store' });
  });

  it('413 above server.bodyLimitBytes', async () => {
    const res = await call(degraded.url, 'POST', path, screen(['payments/screen']));
    expectConforms(path, 'post', res, 413);
    expect(res.body).toMatchObject({ decision: 'DENY', reason: 'body_too_large' });
  });
});

describe('health endpoints answer as the spec says', () => {
  it('GET /healthz 200', async () => {
    expectConforms('/healthz', 'get', await call(sidecar.url, 'GET', '/healthz'), 200);
  });

  it('GET /readyz 200 with every store', async () => {
    const res = await call(sidecar.url, 'GET', '/readyz');
    expectConforms('/readyz', 'get', res, 200);
    expect((res.body.stores as { name: string }[]).map((s) => s.name).sort()).toEqual(sampleStores());
  });

  it('GET /readyz 503 while an issuer has no keys', async () => {
    const res = await call(degraded.url, 'GET', '/readyz');
    expectConforms('/readyz', 'get', res, 503);
    expect(res.body).toMatchObject({ ready: false, checks: [{ name: 'issuers', ready: false }] });
  });
});

describe('unknown endpoints answer the NotFound response', () => {
  const notFound = validator.deref({ $ref: '#/components/responses/NotFound' });

  it.each([
    ['GET', '/nope'],
    ['POST', '/v1/nope'],
  ])('%s %s → 404 not_found', async (method, path) => {
    const res = await call(sidecar.url, method, path, method === 'POST' ? {} : undefined);
    expect(res.status).toBe(404);
    expect(validator.check(notFound, res)).toEqual([]);
    expect(res.body.reason).toBe('not_found');
  });

  it('a known path with another method → the MethodNotAllowed response', async () => {
    const res = await call(sidecar.url, 'GET', '/v1/is-authorized');
    expect(res.status).toBe(405);
    expect(
      validator.check(validator.deref({ $ref: '#/components/responses/MethodNotAllowed' }), res),
    ).toEqual([]);
    expect(res.body.reason).toBe('method_not_allowed');
  });
});

const serviceToken = (
  clientId: string,
  scopes: string[],
  extra: { expiresInSeconds?: number; issuer?: string } = {},
) => mintDevToken({ keyDir, kind: 'service', clientId, scopes, ...extra });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const screenItem = {
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: {
    type: 'Payments::Payment',
    id: 'pay-1',
    attributes: {
      tenantId: 'acme',
      amount: { __extn: { fn: 'decimal', arg: '300.00' } },
      currency: 'EUR',
      destinationCountry: 'DE',
      status: 'PENDING',
    },
  },
};

describe('POST /v1/authorize answers as the spec says', () => {
  const p = '/v1/authorize';

  it('200 ALLOW with the principal and caller type (token in the header)', async () => {
    const res = await call(
      sidecar.url,
      'POST',
      p,
      screenItem,
      bearer(await serviceToken('fraud-svc', ['payments/screen'])),
    );
    expectConforms(p, 'post', res, 200);
    expect(res.body).toMatchObject({
      decision: 'ALLOW',
      principal: { type: 'Payments::Service', id: 'fraud-svc' },
      callerType: 'service',
    });
  });

  it('200 DENY (evaluated; token in the body)', async () => {
    const token = await serviceToken('reporting-svc', ['payments/read']);
    const res = await call(sidecar.url, 'POST', p, { ...screenItem, token });
    expectConforms(p, 'post', res, 200);
    expect(res.body).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
  });

  it('200 DENY no_store when no route matches the caller', async () => {
    // A client-credentials token of the staff issuer: a `service` caller that no route sends anywhere.
    const token = await mintDevToken({
      keyDir,
      kind: 'service',
      clientId: 'authz-sidecar-dev',
      issuer: 'urn:authz-sidecar:dev-staff',
    });
    const res = await call(sidecar.url, 'POST', p, screenItem, bearer(token));
    expectConforms(p, 'post', res, 200);
    expect(res.body).toMatchObject({ decision: 'DENY', reason: 'no_store', callerType: 'service' });
  });

  it.each([
    ['missing_token', async () => ({})],
    ['malformed_token', async () => bearer('not-a-jwt')],
    ['expired', async () => bearer(await serviceToken('fraud-svc', [], { expiresInSeconds: -3600 }))],
  ])('401 %s with the WWW-Authenticate challenge', async (reason, headers) => {
    const res = await call(sidecar.url, 'POST', p, screenItem, await headers());
    expectConforms(p, 'post', res, 401);
    expect(res.body.reason).toBe(reason);
    expect(res.headers.get('www-authenticate')).toMatch(
      reason === 'missing_token' ? /^Bearer realm="[^"]+"$/ : /error="invalid_token"/,
    );
  });

  it('400 invalid_request naming the fields', async () => {
    const res = await call(
      sidecar.url,
      'POST',
      p,
      { resource: screenItem.resource },
      bearer(await serviceToken('fraud-svc', [])),
    );
    expectConforms(p, 'post', res, 400);
    expect(res.body).toMatchObject({
      reason: 'invalid_request',
      fields: [expect.objectContaining({ path: 'action' })],
    });
  });

  it('400 entity_conflict when the body restates the principal (decided by the pipeline)', async () => {
    const forged = {
      uid: { type: 'Payments::Service', id: 'fraud-svc' },
      attrs: { scopes: ['payments/settle'] },
    };
    const res = await call(
      sidecar.url,
      'POST',
      p,
      { ...screenItem, entities: [forged] },
      bearer(await serviceToken('fraud-svc', [])),
    );
    expectConforms(p, 'post', res, 400);
    expect(res.body.reason).toBe('entity_conflict');
  });

  it('413 above server.bodyLimitBytes', async () => {
    const res = await call(degraded.url, 'POST', p, screenItem);
    expectConforms(p, 'post', res, 413);
  });
});

describe('POST /v1/authorize/batch answers as the spec says', () => {
  const p = '/v1/authorize/batch';

  it('200 with one result per item, in order', async () => {
    const token = await serviceToken('fraud-svc', ['payments/screen']);
    const settle = { ...screenItem, action: { type: 'Payments::Action', id: 'SettlePayment' } };
    const forged = { ...screenItem, entities: [{ uid: { type: 'Payments::Service', id: 'x' } }] };
    const res = await call(sidecar.url, 'POST', p, { items: [screenItem, settle, forged] }, bearer(token));
    expectConforms(p, 'post', res, 200);
    expect(
      (res.body.results as { decision: string; reason?: string }[]).map((r) => r.reason ?? r.decision),
    ).toEqual(['ALLOW', 'DENY', 'entity_conflict']);
    expect(res.body.callerType).toBe('service');
  });

  it('401 for a token failure', async () => {
    const res = await call(sidecar.url, 'POST', p, { items: [screenItem], token: 'not-a-jwt' });
    expectConforms(p, 'post', res, 401);
  });

  it('400 batch_too_large above server.batchLimit', async () => {
    const items = Array.from({ length: 31 }, () => screenItem);
    const res = await call(sidecar.url, 'POST', p, { items }, bearer(await serviceToken('fraud-svc', [])));
    expectConforms(p, 'post', res, 400);
    expect(res.body.reason).toBe('batch_too_large');
  });

  it('400 invalid_request for an empty batch', async () => {
    const res = await call(
      sidecar.url,
      'POST',
      p,
      { items: [] },
      bearer(await serviceToken('fraud-svc', [])),
    );
    expectConforms(p, 'post', res, 400);
    expect(res.body.reason).toBe('invalid_request');
  });
});

describe('the AuthZEN door answers as the spec says', () => {
  const path = '/access/v1/evaluation';
  const good = {
    subject: { type: 'Payments::Service', id: 'fraud-svc' },
    action: { name: 'ScreenPayment' },
    resource: { type: 'Payments::Payment', id: 'p1' },
  };

  it('200 with X-Request-ID echoed', async () => {
    const res = await call(sidecar.url, 'POST', path, good, { 'x-request-id': 'openapi-1' });
    expectConforms(path, 'post', res, 200);
    expect(res.headers.get('x-request-id')).toBe('openapi-1');
  });

  it('400 in AuthZEN error shape (no decision), X-Request-ID echoed', async () => {
    const res = await call(
      sidecar.url,
      'POST',
      path,
      { subject: good.subject },
      { 'x-request-id': 'openapi-2' },
    );
    expectConforms(path, 'post', res, 400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(res.headers.get('x-request-id')).toBe('openapi-2');
    const batch = await call(sidecar.url, 'POST', '/access/v1/evaluations', '{');
    expectConforms('/access/v1/evaluations', 'post', batch, 400);
  });

  it('413 in AuthZEN error shape', async () => {
    const res = await call(degraded.url, 'POST', path, good);
    expectConforms(path, 'post', res, 413);
    expect(res.body).toMatchObject({ error: 'body_too_large' });
  });

  it('200 evaluations with a failed item', async () => {
    const res = await call(sidecar.url, 'POST', '/access/v1/evaluations', {
      ...good,
      evaluations: [{}, { resource: { type: 'x' } }],
    });
    expectConforms('/access/v1/evaluations', 'post', res, 200);
  });
});

describe('408 and 503 answer as the spec says', () => {
  it('408 request_timeout, 503 overloaded with Retry-After, on the HTTP API and the AuthZEN door', async () => {
    const small = await startTestSidecar({
      policies: { watch: false },
      server: { maxInFlight: 1, headersTimeoutMs: 100, requestTimeoutMs: 1_500 },
    });
    try {
      const { port } = new URL(small.url);
      // A body that never completes: held in flight until the request timeout answers it.
      const socket = (await import('node:net')).connect(Number(port), '127.0.0.1');
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString()));
      const closed = new Promise((r) => socket.on('close', r));
      socket.write(
        'POST /v1/is-authorized HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      );
      // The held request occupies the one slot once a probe is refused.
      await waitFor(
        'the held request to take the slot',
        async () =>
          (await call(small.url, 'POST', '/v1/is-authorized', {})).status === 503 ? true : undefined,
        3_000,
        10,
      );
      for (const [path, shape] of [
        ['/v1/is-authorized', { reason: 'overloaded' }],
        ['/access/v1/evaluation', { error: 'overloaded' }],
      ] as const) {
        const res = await call(small.url, 'POST', path, {});
        expectConforms(path, 'post', res, 503);
        expect(res.body).toMatchObject(shape);
      }
      await closed;
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const res: Call = {
        status: Number(head.split(' ')[1]),
        contentType: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? null,
        headers: new Headers(),
        body: JSON.parse(body) as Record<string, unknown>,
      };
      expectConforms('/v1/is-authorized', 'post', res, 408);
      expect(res.body).toMatchObject({ reason: 'request_timeout' });
    } finally {
      await small.close();
    }
  });
});
