import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/doors/shared/json-body.js';
import type { Sidecar } from '../../src/server.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';
import { tempDir } from '../support/temp.js';

/**
 * Every kind of bad input to /v1/is-authorized: each answers a JSON DENY with a 4xx status and a
 * reason, never a 500 and never an ALLOW, and the server keeps answering afterwards. The bad
 * variants are built from a request that ALLOWs, so the bad part is the only reason for the deny.
 */

const BODY_LIMIT = 8 * 1024;
let sidecar: Sidecar;
const noSchema = tempDir('authz-noschema-');

beforeAll(async () => {
  // A store without a schema: nothing checks the request before Cedar evaluates it.
  writeFileSync(
    path.join(noSchema.dir, 'p.cedar'),
    '@id("allow-when-asked") permit (principal, action, resource) when { context has allow };\n',
  );
  sidecar = await startTestSidecar({
    server: { bodyLimitBytes: BODY_LIMIT },
    policies: { watch: false },
    stores: { customers: {}, internal: {}, services: {}, noschema: { path: noSchema.dir } },
  });
});
afterAll(async () => {
  await sidecar?.close();
  noSchema.remove();
});

const url = () => `${sidecar.url}/v1/is-authorized`;

const alice = {
  uid: { type: 'Payments::User', id: 'alice' },
  attrs: { tenantId: 'acme' },
  parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
};
const account = {
  uid: { type: 'Payments::Account', id: 'acme-personal' },
  attrs: { tenantId: 'acme', accountType: 'PERSONAL', country: 'GB' },
  parents: [{ type: 'Payments::Tenant', id: 'acme' }],
};

/** Alice views an account of her tenant: ALLOW by viewers-read (INITIATOR in VIEWER). */
const good = () => ({
  store: 'customers',
  principal: { type: 'Payments::User', id: 'alice' },
  action: { type: 'Payments::Action', id: 'ViewAccount' },
  resource: { type: 'Payments::Account', id: 'acme-personal' },
  context: {} as Record<string, unknown>,
  entities: [structuredClone(alice), structuredClone(account)] as unknown[],
});

/** `good()` with changes applied by `edit`. */
const variant = (edit: (body: Record<string, unknown> & ReturnType<typeof good>) => void) => {
  const body = good() as Record<string, unknown> & ReturnType<typeof good>;
  edit(body);
  return body;
};

const nestedArray = (levels: number, leaf = '[]') => '['.repeat(levels) + leaf + ']'.repeat(levels);
/** A JSON text of `good()` with `context` replaced by raw JSON text. */
const withRawContext = (contextJson: string) =>
  JSON.stringify({ ...good(), context: '@@' }).replace('"@@"', contextJson);

async function expectDeny(res: Awaited<ReturnType<typeof postJson>>, status: number, reason: string) {
  expect(res.json, `not a JSON body: ${res.text.slice(0, 200)}`).toBeDefined();
  expect({ status: res.status, decision: res.json.decision, reason: res.json.reason }).toEqual({
    status,
    decision: 'DENY',
    reason,
  });
  expect(res.json.message).toEqual(expect.any(String));
}

const fieldPaths = (res: Awaited<ReturnType<typeof postJson>>) =>
  ((res.json.fields as { path: string }[] | undefined) ?? []).map((f) => f.path);

describe('the request the bad variants start from', () => {
  it('is allowed', async () => {
    const res = await postJson(url(), good());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'viewers-read' }],
    });
  });
});

describe('malformed JSON → 400 invalid_json', () => {
  it.each([
    ['an empty body', ''],
    ['a truncated object', '{"store": "customers", "principal": {'],
    ['a missing value', '{"store": }'],
    ['single quotes', "{'store': 'customers'}"],
    ['trailing garbage', `${JSON.stringify(good())} x`],
    ['two documents', `${JSON.stringify(good())}${JSON.stringify(good())}`],
    ['a bare word', 'ALLOW'],
    ['NaN', '{"store": NaN}'],
  ])('%s', async (_what, body) => {
    await expectDeny(await postJson(url(), body), 400, 'invalid_json');
  });
});

describe('a body that is not an object → 400 invalid_request', () => {
  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"customers"'],
    ['true', 'true'],
    ['an empty array', '[]'],
    ['an array holding a valid request', JSON.stringify([good()])],
  ])('%s', async (_what, body) => {
    const res = await postJson(url(), body);
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual(['(body)']);
  });
});

describe('wrong types, missing and unknown fields → 400 invalid_request naming the field', () => {
  it.each([
    ['store is a number', { store: 5 }, ['store']],
    ['store is empty', { store: '' }, ['store']],
    ['principal is a string', { principal: 'Payments::User::"alice"' }, ['principal']],
    ['principal.id is a number', { principal: { type: 'Payments::User', id: 7 } }, ['principal.id']],
    ['principal.type is empty', { principal: { type: '', id: 'alice' } }, ['principal.type']],
    ['action is null', { action: null }, ['action']],
    ['resource is an array', { resource: [] }, ['resource']],
    ['context is an array', { context: [] }, ['context']],
    ['context is a string', { context: 'mfa=true' }, ['context']],
    ['entities is an object', { entities: {} }, ['entities']],
    ['an entity is a number', { entities: [5] }, ['entities.0']],
    ['an entity uid is missing', { entities: [{ attrs: {} }] }, ['entities.0.uid']],
    ['entity attrs is an array', { entities: [{ ...alice, attrs: [] }] }, ['entities.0.attrs']],
    ['entity parents is a string', { entities: [{ ...alice, parents: 'VIEWER' }] }, ['entities.0.parents']],
    [
      'an entity parent lacks an id',
      { entities: [{ ...alice, parents: [{ type: 'G' }] }] },
      ['entities.0.parents.0.id'],
    ],
  ])('%s', async (_what, patch, paths) => {
    const res = await postJson(url(), { ...good(), ...patch });
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual(paths);
  });

  it.each(['store', 'principal', 'action', 'resource'] as const)('%s is missing', async (field) => {
    const res = await postJson(
      url(),
      variant((b) => delete b[field]),
    );
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual([field]);
  });

  it('principal.id is missing', async () => {
    const res = await postJson(url(), { ...good(), principal: { type: 'Payments::User' } });
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual(['principal.id']);
  });

  it('reports every bad field at once', async () => {
    const res = await postJson(url(), { store: 1, principal: 'x', resource: {}, context: 3 });
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res).sort()).toEqual(
      ['store', 'principal', 'action', 'resource.type', 'resource.id', 'context'].sort(),
    );
  });

  it.each([
    [
      'at the top level',
      (b: Record<string, unknown>) => (b.principalAttrs = { admin: true }),
      'principalAttrs',
    ],
    [
      'in principal',
      (b: Record<string, unknown>) => ((b.principal as Record<string, unknown>).role = 'admin'),
      'principal.role',
    ],
    [
      'in an entity',
      (b: Record<string, unknown>) => ((b.entities as Record<string, unknown>[])[0]!.ancestors = []),
      'entities.0.ancestors',
    ],
    [
      'in an entity uid',
      (b: Record<string, unknown>) =>
        (((b.entities as Record<string, unknown>[])[1]!.uid as Record<string, unknown>).tenant = 'x'),
      'entities.1.uid.tenant',
    ],
  ])('an unknown field %s', async (_where, edit, path) => {
    const res = await postJson(url(), variant(edit));
    await expectDeny(res, 400, 'invalid_request');
    expect(res.json.fields).toEqual([{ path, message: 'unknown field' }]);
  });

  it('a __proto__ key is rejected, not silently dropped', async () => {
    const body = JSON.stringify(good()).replace('"context":{}', '"context":{"__proto__":{"mfa":true}}');
    const res = await postJson(url(), body);
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual(['context.__proto__']);
  });
});

describe('huge nesting and malformed text → 400, never a 500', () => {
  // A server with the default 1 MiB body limit, so that deep bodies reach the JSON checks.
  let big: Sidecar;
  beforeAll(async () => {
    big = await startTestSidecar({
      policies: { watch: false },
      stores: { customers: {}, noschema: { path: noSchema.dir } },
    });
  });
  afterAll(async () => big?.close());
  const bigUrl = () => `${big.url}/v1/is-authorized`;

  it.each([
    [
      '100,000 levels in context',
      () => withRawContext(`{"a": ${nestedArray(100_000)}}`),
      /^context\.a\.0\.0/,
    ],
    [
      '1,000 levels in an entity attribute',
      () => JSON.stringify(good()).replace('"tenantId":"acme"', `"tenantId":${nestedArray(1_000)}`),
      /^entities\.0\.attrs\.tenantId\.0\.0/,
    ],
    ['100,000 levels as the whole body', () => nestedArray(100_000), /^0\.0\.0/],
    [`${MAX_JSON_DEPTH + 1} levels (one past the limit)`, () => nestedArray(MAX_JSON_DEPTH), /^0\.0/],
    [
      '200 levels in context (past what Cedar reads)',
      () => withRawContext(`{"a": ${nestedArray(200)}}`),
      /^context\.a\.0/,
    ],
  ])('%s', async (_what, body, path) => {
    // A recursive validator used to overflow the stack on these (a 500), and Cedar throws on
    // more than 128 levels (an engine_error).
    const res = await postJson(bigUrl(), body());
    await expectDeny(res, 400, 'invalid_request');
    expect(res.json.fields).toEqual([
      { path: expect.stringMatching(path), message: `nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  });

  it('nesting at the limit reaches Cedar and is evaluated (no engine error)', async () => {
    // The body itself and `context` take two levels; the rest is the value.
    const atLimit = nestedArray(MAX_JSON_DEPTH - 3, '1');
    const res = await postJson(bigUrl(), {
      store: 'noschema',
      principal: { type: 'U', id: 'u' },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'R', id: 'r' },
      context: { deep: JSON.parse(atLimit) },
      entities: [{ uid: { type: 'U', id: 'u' }, attrs: { deep: JSON.parse(atLimit.slice(3, -3)) } }],
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', determiningPolicies: [], errors: [] });
    expect(res.json.reason).toBeUndefined();
  });

  it.each([
    [
      'in the principal id',
      () => JSON.stringify(good()).replace('"id":"alice"', '"id":"al\\ud800ice"'),
      'principal.id',
    ],
    ['in a context key', () => withRawContext('{"\\udc00": 1}'), 'context.\udc00'],
    [
      'in a context value',
      () => withRawContext('{"destinationCountry": "\\udbff"}'),
      'context.destinationCountry',
    ],
  ])('a lone surrogate %s', async (_where, body, path) => {
    // Valid JSON, but cedar-wasm throws on it (an engine_error before).
    const res = await postJson(bigUrl(), body());
    await expectDeny(res, 400, 'invalid_request');
    expect(fieldPaths(res)).toEqual([path]);
  });

  it('deep nesting under a small body limit is a 400 as well', async () => {
    const res = await postJson(url(), withRawContext(`{"a": ${nestedArray(3_000)}}`));
    await expectDeny(res, 400, 'invalid_request');
  });

  it('the server with the large limit still decides', async () => {
    const res = await postJson(bigUrl(), good());
    expect(res.json).toMatchObject({ decision: 'ALLOW' });
  });
});

describe('a body over server.bodyLimitBytes → 413', () => {
  const big = () => variant((b) => (b.context = { pad: 'x'.repeat(BODY_LIMIT) }));

  it('with a Content-Length', async () => {
    await expectDeny(await postJson(url(), big()), 413, 'body_too_large');
  });

  it('streamed without a Content-Length', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(big()));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
        controller.close();
      },
    });
    const res = await fetch(url(), { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ decision: 'DENY', reason: 'body_too_large' });
  });

  it('a body just under the limit is read', async () => {
    const body = JSON.stringify(good());
    const padded = body.replace(
      '"context":{}',
      `"context":{"pad":"${'x'.repeat(BODY_LIMIT - body.length - 20)}"}`,
    );
    expect(padded.length).toBeLessThan(BODY_LIMIT);
    // `pad` is not in the schema: evaluated far enough to be rejected by Cedar, not by the size.
    await expectDeny(await postJson(url(), padded), 400, 'invalid_request');
  });
});

describe('routing errors', () => {
  it('an unknown store → 404 with a JSON error', async () => {
    const res = await postJson(url(), { ...good(), store: 'nope' });
    await expectDeny(res, 404, 'unknown_store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('a store named like an Object.prototype member → 404', async () => {
    await expectDeny(await postJson(url(), { ...good(), store: 'constructor' }), 404, 'unknown_store');
  });

  it('another method → 405 with Allow; another path → 404 JSON', async () => {
    const get = await fetch(url());
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ decision: 'DENY', reason: 'method_not_allowed' });
    await expectDeny(await postJson(`${sidecar.url}/v1/is-authorised`, good()), 404, 'not_found');
  });
});

describe('a request that does not fit the store schema → 400 invalid_request', () => {
  const cases: [string, (b: ReturnType<typeof good>) => void][] = [
    ['an unknown principal type', (b) => (b.principal = { type: 'Payments::Robot', id: 'r2' })],
    ['an unknown resource type', (b) => (b.resource = { type: 'Nope', id: 'x' })],
    ['an unknown action', (b) => (b.action = { type: 'Payments::Action', id: 'DeleteEverything' })],
    [
      'an action that does not apply to the resource type',
      (b) => (b.resource = { type: 'Payments::Payment', id: 'p' }),
    ],
    [
      'a principal type the action does not apply to',
      (b) => (b.principal = { type: 'Payments::UserGroup', id: 'VIEWER' }),
    ],
    ['a wrong attribute type', (b) => ((b.entities[0] as typeof alice).attrs = { tenantId: 5 } as never)],
    [
      'an attribute not in the schema',
      (b) => ((b.entities[0] as typeof alice).attrs = { tenantId: 'acme', isAdmin: true } as never),
    ],
    [
      'a missing required attribute',
      (b) => ((b.entities[1] as typeof account).attrs = { tenantId: 'acme' } as never),
    ],
    ['a context key not in the schema', (b) => (b.context = { isAdmin: true })],
    ['a context value of the wrong type', (b) => (b.context = { mfa: 'yes' })],
    [
      'an entity of an unknown type',
      (b) => b.entities.push({ uid: { type: 'Payments::Ghost', id: 'g' }, attrs: {}, parents: [] }),
    ],
    [
      'a parent of a type the schema does not allow',
      (b) => ((b.entities[0] as typeof alice).parents = [{ type: 'Payments::Tenant', id: 'acme' }]),
    ],
  ];
  it.each(cases)('%s', async (_what, edit) => {
    const res = await postJson(url(), variant(edit));
    await expectDeny(res, 400, 'invalid_request');
    expect(res.json).toMatchObject({
      store: 'customers',
      storeVersion: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
  });
});

describe('garbage entities → 400 invalid_request, never an ALLOW', () => {
  const cases: [string, (b: ReturnType<typeof good>) => void][] = [
    [
      'the same entity twice, with different attributes',
      (b) => b.entities.push({ ...structuredClone(alice), attrs: { tenantId: 'globex' } }),
    ],
    [
      'an entity that redefines a store group (to climb the hierarchy)',
      (b) =>
        b.entities.push({
          uid: { type: 'Payments::UserGroup', id: 'VIEWER' },
          attrs: {},
          parents: [{ type: 'Payments::UserGroup', id: 'TREASURER' }],
        }),
    ],
    [
      'an action entity that rewrites the action hierarchy',
      (b) => {
        b.action = { type: 'Payments::Action', id: 'InitiatePayment' };
        b.resource = { type: 'Payments::Account', id: 'acme-personal' };
        b.entities.push({
          uid: { type: 'Payments::Action', id: 'InitiatePayment' },
          attrs: {},
          parents: [{ type: 'Payments::Action', id: 'ReadOnly' }],
        });
      },
    ],
    [
      'a cycle in the parents',
      (b) =>
        b.entities.push(
          {
            uid: { type: 'Payments::UserGroup', id: 'X' },
            attrs: {},
            parents: [{ type: 'Payments::UserGroup', id: 'Y' }],
          },
          {
            uid: { type: 'Payments::UserGroup', id: 'Y' },
            attrs: {},
            parents: [{ type: 'Payments::UserGroup', id: 'X' }],
          },
        ),
    ],
    [
      'a malformed parent type',
      (b) => ((b.entities[0] as typeof alice).parents = [{ type: 'Payments:: UserGroup', id: 'VIEWER' }]),
    ],
    ['a malformed principal type', (b) => (b.principal = { type: '1Payments::User', id: 'alice' })],
    ['a null attribute', (b) => ((b.entities[0] as typeof alice).attrs = { tenantId: null } as never)],
    ['a float attribute', (b) => ((b.entities[1] as typeof account).attrs.country = 1.5 as never)],
    ['a number beyond 64 bits', (b) => (b.context = { amount: 1e300 })],
    [
      'an __entity escape that is not an entity',
      (b) => ((b.entities[0] as typeof alice).attrs = { tenantId: { __entity: 'acme' } } as never),
    ],
    ['an unknown extension function', (b) => (b.context = { amount: { __extn: { fn: 'rm', arg: '-rf' } } })],
    ['a malformed decimal', (b) => (b.context = { amount: { __extn: { fn: 'decimal', arg: 'lots' } } })],
    ['a malformed ip', (b) => (b.context = { sourceIp: { __extn: { fn: 'ip', arg: '999.1.1.1' } } })],
    [
      'tags on an entity type without tags',
      (b) => ((b.entities[0] as Record<string, unknown>).tags = { role: 'admin' }),
    ],
  ];
  it.each(cases)('%s', async (_what, edit) => {
    await expectDeny(await postJson(url(), variant(edit)), 400, 'invalid_request');
  });
});

describe('duplicates that change nothing', () => {
  it('an exact duplicate of an entity is accepted (Cedar merges it) and decides as without', async () => {
    const res = await postJson(
      url(),
      variant((b) => b.entities.push(structuredClone(alice), structuredClone(account))),
    );
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'viewers-read' }],
    });
  });
});

describe('after all that', () => {
  it('the server still answers, and still decides correctly', async () => {
    const health = await fetch(`${sidecar.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${sidecar.url}/readyz`);
    expect(ready.status).toBe(200);
    const allowed = await postJson(url(), good());
    expect(allowed.json).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'viewers-read' }],
    });
    const denied = await postJson(
      url(),
      variant((b) => (b.resource = { type: 'Payments::Account', id: 'elsewhere' })),
    );
    expect(denied.json).toMatchObject({
      decision: 'DENY',
      determiningPolicies: [{ policyId: 'tenant-isolation' }],
    });
  });
});
