import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { startTestSidecar } from '../support/sidecar.js';

/**
 * The OpenID AuthZEN Authorization API 1.0 certification scenario (Basic Core and Properties,
 * Batch Core and Properties, Discovery, the transport requirements), case by case, against the
 * real server with the scenario's fixture as a Cedar store (testdata/authzen-certification/cert).
 * Test names carry the scenario's section ids. The Search level is not covered: the sidecar
 * serves no search endpoints.
 */

let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({
    policies: { dir: 'testdata/authzen-certification', watch: false },
    authzen: {
      store: 'cert',
      subjectTypes: { user: 'Cert::User' },
      resourceTypes: { record: 'Cert::Record' },
      actionType: 'Cert::Action',
      actionPropertiesKey: 'action',
    },
  });
});
afterAll(async () => sidecar?.close());

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | undefined;
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> {
  const res = await fetch(`${sidecar.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json };
}
const evaluation = (body: unknown, headers?: Record<string, string>) =>
  post('/access/v1/evaluation', body, headers);
const evaluations = (body: unknown, headers?: Record<string, string>) =>
  post('/access/v1/evaluations', body, headers);

const alice = { type: 'user', id: 'alice' };
const bob = { type: 'user', id: 'bob' };
const admin = { type: 'user', id: 'bob', properties: { role: 'admin' } };
const read = { name: 'read' };
const write = { name: 'write' };
const record1 = { type: 'record', id: 'record-1' };
const record2 = { type: 'record', id: 'record-2' };
const active1 = { ...record1, properties: { status: 'active' } };
const archived2 = { ...record2, properties: { status: 'archived' } };
const context = { time: '2025-06-27T18:03-07:00', ip: '192.168.1.1' };

/** A successful evaluation answer: 200, JSON, a boolean decision and an object context (§c-2-3). */
function decisionOf(res: Answer): boolean {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof res.json?.decision).toBe('boolean');
  if (res.json?.context !== undefined) expect(res.json.context).toBeTypeOf('object');
  return res.json!.decision as boolean;
}
function decisionsOf(res: Answer, length: number): boolean[] {
  expect(res.status).toBe(200);
  const items = res.json?.evaluations as { decision: unknown; context?: unknown }[];
  expect(items).toHaveLength(length);
  for (const item of items) {
    expect(typeof item.decision).toBe('boolean');
    if (item.context !== undefined) expect(item.context).toBeTypeOf('object');
  }
  return items.map((i) => i.decision as boolean);
}
/** An error answer of the AuthZEN door: the status, and no `decision` anywhere a client could read true. */
function expectError(res: Answer, status: number) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: expect.any(String), message: expect.any(String), ...fieldsIf(res) });
  expect(res.json).not.toHaveProperty('decision');
}
const fieldsIf = (res: Answer) => (res.json && 'fields' in res.json ? { fields: expect.any(Array) } : {});

describe('the fixture decision rules (c-1-4), through /access/v1/evaluation', () => {
  it.each([
    ['1: alice read record-1', { subject: alice, action: read, resource: record1 }, true],
    ['2: alice write record-1', { subject: alice, action: write, resource: record1 }, true],
    ['3: bob read record-1', { subject: bob, action: read, resource: record1 }, true],
    ['4: bob write record-1', { subject: bob, action: write, resource: record1 }, false],
    ['5: alice write an archived record', { subject: alice, action: write, resource: archived2 }, false],
    ['6: an admin writes an archived record', { subject: admin, action: write, resource: archived2 }, true],
    [
      '7: alice soft-deletes record-1',
      { subject: alice, action: { name: 'delete', properties: { soft: true } }, resource: record1 },
      true,
    ],
    [
      '8: alice hard-deletes record-1',
      { subject: alice, action: { name: 'delete', properties: { soft: false } }, resource: record1 },
      false,
    ],
  ])('rule %s', async (_name, body, expected) => {
    expect(decisionOf(await evaluation(body))).toBe(expected);
    // c-1-6: the fixture decisions hold with or without a context.
    expect(decisionOf(await evaluation({ ...body, context }))).toBe(expected);
  });
});

describe('Basic: request acceptance (c-2-2)', () => {
  it('c-2-2-1 permit, c-2-2-2 deny, c-2-2-3 with context', async () => {
    expect(decisionOf(await evaluation({ subject: alice, action: read, resource: record1 }))).toBe(true);
    expect(decisionOf(await evaluation({ subject: bob, action: write, resource: record1 }))).toBe(false);
    expect(decisionOf(await evaluation({ subject: alice, action: read, resource: record1, context }))).toBe(
      true,
    );
  });

  it('c-2-2-4 … c-2-2-7: resource, subject and action properties decide', async () => {
    expect(decisionOf(await evaluation({ subject: alice, action: write, resource: archived2 }))).toBe(false);
    expect(decisionOf(await evaluation({ subject: admin, action: write, resource: archived2 }))).toBe(true);
    const del = (soft: boolean) => ({ name: 'delete', properties: { soft } });
    expect(decisionOf(await evaluation({ subject: alice, action: del(true), resource: record1 }))).toBe(true);
    expect(decisionOf(await evaluation({ subject: alice, action: del(false), resource: record1 }))).toBe(
      false,
    );
  });

  it('c-2-2-8: additional properties are accepted', async () => {
    const res = await evaluation({
      subject: { ...alice, properties: { department: 'Sales', role: 'manager' } },
      action: { name: 'read', properties: { method: 'GET' } },
      resource: { ...record1, properties: { status: 'active', owner: 'bob' } },
    });
    expect(decisionOf(res)).toBe(true);
  });

  it('c-2-2-9 and c-5 (5): unknown fields are ignored', async () => {
    const res = await evaluation({
      subject: alice,
      action: read,
      resource: record1,
      foo: 'bar',
      futureField: { nested: true },
    });
    expect(decisionOf(res)).toBe(true);
  });
});

describe('Basic: error handling (c-2-4): 400, with no decision field in the body', () => {
  it.each([
    ['missing subject', { action: read, resource: record1 }],
    ['missing action', { subject: alice, resource: record1 }],
    ['missing resource', { subject: alice, action: read }],
    ['subject without type', { subject: { id: 'alice' }, action: read, resource: record1 }],
    ['subject without id', { subject: { type: 'user' }, action: read, resource: record1 }],
    ['action without name', { subject: alice, action: {}, resource: record1 }],
    ['resource without type', { subject: alice, action: read, resource: { id: 'record-1' } }],
    ['resource without id', { subject: alice, action: read, resource: { type: 'record' } }],
    ['subject is a string', { subject: 'alice', action: read, resource: record1 }],
    ['action.name is a number', { subject: alice, action: { name: 123 }, resource: record1 }],
  ])('c-2-4-1/2/6 %s', async (_what, body) => {
    const res = await evaluation(body);
    expectError(res, 400);
    expect(res.json!.error).toBe('invalid_request');
  });

  it('c-2-4-3: a Content-Type other than application/json', async () => {
    const body = JSON.stringify({ subject: alice, action: read, resource: record1 });
    expectError(await evaluation(body, { 'content-type': 'text/plain' }), 400);
    expectError(await evaluation(body, {}), 400);
    // A charset parameter is still JSON.
    expect(decisionOf(await evaluation(body, { 'content-type': 'application/json; charset=utf-8' }))).toBe(
      true,
    );
  });

  it('c-2-4-4: malformed JSON; c-2-4-5: an empty body', async () => {
    const malformed = await evaluation('{"subject": {"type": "user", "id": "alice"},');
    expectError(malformed, 400);
    expect(malformed.json!.error).toBe('invalid_json');
    expectError(await evaluation(''), 400);
  });

  it('the same error shape on the batch endpoint and for a missing endpoint', async () => {
    expectError(await evaluations('not json'), 400);
    expectError(await post('/access/v1/nothing-here', {}), 404);
  });
});

describe('header handling (c-2-5) and idempotency (c-2-6)', () => {
  it('c-2-5-1: X-Request-ID is echoed on answers and on errors of both endpoints', async () => {
    const h = (id: string) => ({ 'content-type': 'application/json', 'x-request-id': id });
    const ok = await evaluation({ subject: alice, action: read, resource: record1 }, h('req-1'));
    expect(ok.headers.get('x-request-id')).toBe('req-1');
    const bad = await evaluation({ subject: alice }, h('req-2'));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('req-2');
    const wrongType = await evaluation('{}', { 'content-type': 'text/plain', 'x-request-id': 'req-3' });
    expect(wrongType.headers.get('x-request-id')).toBe('req-3');
    const batch = await evaluations(
      { subject: alice, action: read, evaluations: [{ resource: record1 }] },
      h('req-4'),
    );
    expect(batch.headers.get('x-request-id')).toBe('req-4');
    const missing = await post('/access/v1/nope', {}, h('req-5'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('req-5');
  });

  it('c-2-5-2: without X-Request-ID nothing fails', async () => {
    const res = await evaluation({ subject: alice, action: read, resource: record1 });
    expect(decisionOf(res)).toBe(true);
  });

  it('c-2-6: the same request gives the same decision every time', async () => {
    for (const [body, expected] of [
      [{ subject: alice, action: read, resource: record1 }, true],
      [{ subject: bob, action: write, resource: record1 }, false],
    ] as const) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(decisionOf(await evaluation(body)));
      expect(answers).toEqual(Array(5).fill(expected));
    }
  });
});

describe('Batch: request acceptance (c-3-2) and response format (c-3-3)', () => {
  it('c-3-2-1: two items from defaults, structure only', async () => {
    const res = await evaluations({
      subject: alice,
      action: read,
      evaluations: [{ resource: record1 }, { resource: record2 }],
    });
    decisionsOf(res, 2);
    // c-3-3-4: no top-level decision beside `evaluations`.
    expect(res.json).not.toHaveProperty('decision');
  });

  it('c-3-2-2: fixture decisions, in request order', async () => {
    const res = await evaluations({
      subject: bob,
      resource: record1,
      evaluations: [{ action: read }, { action: write }],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
  });

  it('c-3-2-3: resource properties per item', async () => {
    const res = await evaluations({
      subject: alice,
      action: write,
      evaluations: [{ resource: active1 }, { resource: archived2 }],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
  });

  it('c-3-2-4: subject properties per item', async () => {
    const res = await evaluations({
      action: write,
      resource: archived2,
      evaluations: [{ subject: alice }, { subject: admin }],
    });
    expect(decisionsOf(res, 2)).toEqual([false, true]);
  });

  it('c-3-2-5: fully specified items, no defaults', async () => {
    const res = await evaluations({
      evaluations: [
        { subject: alice, action: read, resource: record1 },
        { subject: bob, action: write, resource: record1 },
      ],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
  });

  it('c-3-2-6: context inheritance and override are accepted', async () => {
    const res = await evaluations({
      subject: alice,
      action: read,
      context: { time: '2025-06-27T18:03-07:00' },
      evaluations: [
        { resource: record1 },
        { resource: record2, context: { time: '2025-06-27T19:00-07:00', source: 'batch-override' } },
      ],
    });
    decisionsOf(res, 2);
  });

  it('c-3-2-7: an empty item inherits everything; a given key replaces the default whole', async () => {
    const res = await evaluations({
      subject: alice,
      action: write,
      resource: active1,
      evaluations: [{}, { resource: archived2 }],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
  });

  it('c-3-2-7: whole-object replacement, never merging inside an entity', async () => {
    // The item's bob has no properties: the default subject's role must not leak into it.
    const res = await evaluations({
      subject: admin,
      action: write,
      resource: archived2,
      evaluations: [{}, { subject: bob }],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
  });

  it('c-3-3-1/2: as many answers as items, in order, for a longer batch', async () => {
    const items = [
      { subject: alice, action: read, resource: record1 },
      { subject: bob, action: write, resource: record1 },
      { subject: alice, action: write, resource: archived2 },
      { subject: admin, action: write, resource: archived2 },
      { subject: alice, action: { name: 'delete', properties: { soft: true } }, resource: record1 },
      { subject: alice, action: { name: 'delete', properties: { soft: false } }, resource: record1 },
    ];
    expect(decisionsOf(await evaluations({ evaluations: items }), 6)).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });
});

describe('Batch: error handling (c-3-4)', () => {
  it('c-3-4-1: under execute_all an item missing a required field is decision false, the batch 200', async () => {
    const res = await evaluations({
      subject: alice,
      action: read,
      options: { evaluations_semantic: 'execute_all' },
      evaluations: [{ resource: record1 }, {}],
    });
    expect(decisionsOf(res, 2)).toEqual([true, false]);
    const failed = (res.json!.evaluations as { context: Record<string, unknown> }[])[1]!.context;
    expect(failed).toMatchObject({
      reason: 'invalid_request',
      error: { status: 400, message: expect.stringContaining('evaluations.1.resource') },
    });
  });

  it('c-3-4-1: also without the option (execute_all is the default), and for a malformed item', async () => {
    const res = await evaluations({
      subject: alice,
      action: read,
      evaluations: [{ resource: 'record-1' }, { resource: record1 }, { resource: { type: 'record' } }],
    });
    expect(decisionsOf(res, 3)).toEqual([false, true, false]);
  });

  it('c-3-4-2: no evaluations array is a single evaluation answer', async () => {
    const res = await evaluations({ subject: alice, action: read, resource: record1 });
    expect(decisionOf(res)).toBe(true);
    expect(res.json).not.toHaveProperty('evaluations');
  });

  it('c-3-4-3: an empty evaluations array is a single evaluation answer', async () => {
    const res = await evaluations({ subject: alice, action: read, resource: record1, evaluations: [] });
    expect(decisionOf(res)).toBe(true);
    expect(res.json).not.toHaveProperty('evaluations');
  });

  it('a request invalid at the top level stays a 400 (without items: a missing field; a bad option)', async () => {
    expectError(await evaluations({ subject: alice, action: read }), 400);
    expectError(await evaluations({ subject: alice, action: read, evaluations: [] }), 400);
    expectError(
      await evaluations({
        subject: alice,
        action: read,
        options: { evaluations_semantic: 'whatever' },
        evaluations: [{ resource: record1 }],
      }),
      400,
    );
    expectError(
      await evaluations({ subject: 'alice', evaluations: [{ action: read, resource: record1 }] }),
      400,
    );
  });
});

describe('evaluations_semantic (AuthZEN 1.0 "Evaluations semantics")', () => {
  const items = [
    { action: read }, // true
    { action: write }, // false (bob)
    { action: read }, // true
  ];
  const run = (semantic: string, evaluationsList: unknown[] = items) =>
    evaluations({
      subject: bob,
      resource: record1,
      options: { evaluations_semantic: semantic },
      evaluations: evaluationsList,
    });

  it('execute_all: every item', async () => {
    expect(decisionsOf(await run('execute_all'), 3)).toEqual([true, false, true]);
  });

  it('deny_on_first_deny: up to and including the first deny', async () => {
    expect(decisionsOf(await run('deny_on_first_deny'), 2)).toEqual([true, false]);
  });

  it('permit_on_first_permit: up to and including the first permit', async () => {
    expect(decisionsOf(await run('permit_on_first_permit'), 1)).toEqual([true]);
    expect(
      decisionsOf(
        await run('permit_on_first_permit', [{ action: write }, { action: read }, { action: read }]),
        2,
      ),
    ).toEqual([false, true]);
  });

  it('a failed item is a deny: deny_on_first_deny stops at it, permit_on_first_permit goes past it', async () => {
    expect(decisionsOf(await run('deny_on_first_deny', [{ action: read }, {}, { action: read }]), 2)).toEqual(
      [true, false],
    );
    expect(
      decisionsOf(await run('permit_on_first_permit', [{}, { action: write }, { action: read }, {}]), 3),
    ).toEqual([false, false, true]);
  });
});

describe('Discovery (c-6)', () => {
  it('c-6-1 … c-6-5: the metadata endpoint names the PDP and its endpoints', async () => {
    const res = await fetch(`${sidecar.url}/.well-known/authzen-configuration`, {
      headers: { 'x-request-id': 'meta-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('meta-1');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const meta = (await res.json()) as Record<string, string>;
    expect(meta.policy_decision_point).toBe(sidecar.url);
    expect(meta.access_evaluation_endpoint).toBe(`${sidecar.url}/access/v1/evaluation`);
    expect(meta.access_evaluations_endpoint).toBe(`${sidecar.url}/access/v1/evaluations`);
    for (const url of Object.values(meta)) expect(new URL(url).search + new URL(url).hash).toBe('');
    // No search endpoints are announced: the sidecar serves none.
    expect(Object.keys(meta).filter((k) => k.startsWith('search_'))).toEqual([]);
  });
});
