import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

/**
 * The AuthZEN door with the OpenID AuthZEN Authorization API 1.0 specification's own example
 * requests (sections "Access Evaluation API", "Access Evaluations API", "Evaluations semantics"),
 * against a store shaped after them (testdata/authzen/spec).
 */
let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({
    policies: { dir: 'testdata/authzen', watch: false },
    routes: [{ callerType: 'user', store: 'spec' }],
    authzen: {
      subjectTypes: { user: 'Spec::User' },
      resourceTypes: {
        account: 'Spec::Account',
        todo: 'Spec::Todo',
        document: 'Spec::Document',
        book: 'Spec::Book',
      },
      actionType: 'Spec::Action',
    },
  });
});
afterAll(async () => sidecar?.close());

const evaluation = (body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${sidecar.url}/access/v1/evaluation`, body, headers);
const evaluations = (body: unknown) => postJson(`${sidecar.url}/access/v1/evaluations`, body);
const decisions = (json: Record<string, unknown>) =>
  (json.evaluations as { decision: boolean }[]).map((e) => e.decision);

describe('AuthZEN access evaluation (the specification examples)', () => {
  it('"Example Request": alice can_read account 123 → {decision: true}', async () => {
    const res = await evaluation({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      resource: { type: 'account', id: '123' },
      action: { name: 'can_read', properties: { method: 'GET' } },
      context: { time: '1985-10-26T01:22-07:00' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: true, context: { determining_policies: ['alice-reads'] } });
  });

  it('the HTTPS binding example (todo 1), with X-Request-ID echoed as the spec requires', async () => {
    const res = await evaluation(
      {
        subject: { type: 'user', id: 'alice@acmecorp.com' },
        resource: { type: 'todo', id: '1' },
        action: { name: 'can_read' },
        context: { time: '1985-10-26T01:22-07:00' },
      },
      { 'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716' },
    );
    expect(res.json).toMatchObject({ decision: true });
    expect(res.headers.get('x-request-id')).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
  });

  it('subject properties are principal attributes (the department example)', async () => {
    const edit = (properties?: Record<string, unknown>) =>
      evaluation({
        subject: { type: 'user', id: 'alice@acmecorp.com', ...(properties ? { properties } : {}) },
        resource: { type: 'document', id: 'resource-search.md' },
        action: { name: 'can_edit' },
      });
    expect(
      (await edit({ department: 'Sales', ip_address: '172.217.22.14', device_id: '8:65:ee:17:7e:0b' })).json,
    ).toMatchObject({ decision: true });
    expect((await edit()).json).toMatchObject({ decision: false });
  });

  it('resource properties are resource attributes (the library_record example)', async () => {
    const read = (isbn: string) =>
      evaluation({
        subject: { type: 'user', id: 'bob@acmecorp.com' },
        resource: {
          type: 'book',
          id: '123',
          properties: { library_record: { title: 'AuthZEN in Action', isbn } },
        },
        action: { name: 'can_read' },
      });
    expect((await read('978-0593383322')).json).toMatchObject({ decision: true });
    expect((await read('000')).json).toMatchObject({ decision: false });
  });

  it('a deny carries a context with the decision id, and a reason when nothing was evaluated', async () => {
    const denied = await evaluation({
      subject: { type: 'user', id: 'mallory@acmecorp.com' },
      resource: { type: 'account', id: '123' },
      action: { name: 'can_read' },
    });
    expect(denied.json).toEqual({ decision: false, context: { id: expect.any(String), store: 'spec' } });
    const unrouted = await evaluation({
      subject: { type: 'robot', id: 'r2' },
      resource: { type: 'account', id: '123' },
      action: { name: 'can_read' },
    });
    expect(unrouted.status).toBe(200);
    expect(unrouted.json).toMatchObject({
      decision: false,
      context: { reason: 'no_store', reason_admin: { en: expect.any(String) } },
    });
  });

  it('a request without a required field is a 400 naming it', async () => {
    const res = await evaluation({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      action: { name: 'can_read' },
    });
    expect(res.status).toBe(400);
    // AuthZEN's error body: no `decision` (a non-empty string would read as true).
    expect(res.json).toMatchObject({ error: 'invalid_request', fields: [{ path: 'resource' }] });
    expect(res.json).not.toHaveProperty('decision');
  });
});

describe('AuthZEN access evaluations', () => {
  it('the boxcarring example with defaults: the item action overrides the default one', async () => {
    const res = await evaluations({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      context: { time: '2024-05-31T15:22-07:00' },
      action: { name: 'can_read' },
      evaluations: [
        { resource: { type: 'document', id: 'boxcarring.md' } },
        { resource: { type: 'document', id: 'subject-search.md' } },
        { action: { name: 'can_edit' }, resource: { type: 'document', id: 'resource-search.md' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(decisions(res.json)).toEqual([true, true, false]);
  });

  it('the example with no defaults (each item complete) gives the same answers', async () => {
    const item = (id: string) => ({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      action: { name: 'can_read' },
      resource: { type: 'document', id },
      context: { time: '2024-05-31T15:22-07:00' },
    });
    const res = await evaluations({
      evaluations: [item('boxcarring.md'), item('subject-search.md'), item('resource-search.md')],
    });
    expect(decisions(res.json)).toEqual([true, true, true]);
  });

  const semantics = (evaluations_semantic: string) =>
    evaluations({
      subject: { type: 'user', id: 'alice@example.com' },
      action: { name: 'read' },
      options: { evaluations_semantic },
      evaluations: ['1', '2', '3'].map((id) => ({ resource: { type: 'document', id } })),
    });

  it('execute_all: every result, in order (the spec example: true, false, true)', async () => {
    expect(decisions((await semantics('execute_all')).json)).toEqual([true, false, true]);
  });

  it('deny_on_first_deny: stops at the first deny (the spec example: true, false)', async () => {
    expect(decisions((await semantics('deny_on_first_deny')).json)).toEqual([true, false]);
  });

  it('permit_on_first_permit: stops at the first permit (the spec example: true)', async () => {
    expect(decisions((await semantics('permit_on_first_permit')).json)).toEqual([true]);
  });

  it('a batch with mixed results and subjects, one without a route', async () => {
    const res = await evaluations({
      action: { name: 'can_read' },
      resource: { type: 'account', id: '123' },
      evaluations: [
        { subject: { type: 'user', id: 'alice@acmecorp.com' } },
        { subject: { type: 'user', id: 'bob@acmecorp.com' } },
        { subject: { type: 'robot', id: 'r2' } },
        { subject: { type: 'user', id: 'alice@acmecorp.com' }, action: { name: 'can_edit' } },
      ],
    });
    expect(decisions(res.json)).toEqual([true, false, false, false]);
    expect((res.json.evaluations as { context: unknown }[])[2]).toMatchObject({
      context: { reason: 'no_store' },
    });
  });

  it('without an evaluations array it is a single evaluation', async () => {
    const res = await evaluations({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      action: { name: 'can_read' },
      resource: { type: 'account', id: '123' },
    });
    expect(res.json).toMatchObject({ decision: true });
    expect(res.json.evaluations).toBeUndefined();
  });

  it('an item left without a subject fails alone (decision false); an unknown semantic is a 400', async () => {
    const hole = await evaluations({
      action: { name: 'read' },
      evaluations: [{ resource: { type: 'document', id: '1' } }],
    });
    expect(hole.status).toBe(200);
    expect(hole.json).toMatchObject({
      evaluations: [
        {
          decision: false,
          context: { reason: 'invalid_request', fields: [{ path: 'evaluations.0.subject' }] },
        },
      ],
    });
    const bad = await semantics('whatever');
    expect(bad.status).toBe(400);
  });

  it('more items than server.batchLimit is a 400', async () => {
    const res = await evaluations({
      subject: { type: 'user', id: 'alice@acmecorp.com' },
      action: { name: 'can_read' },
      evaluations: Array.from({ length: 31 }, (_, i) => ({ resource: { type: 'todo', id: String(i) } })),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'batch_too_large' });
  });
});

describe('AuthZEN metadata', () => {
  it('GET /.well-known/authzen-configuration names the endpoints', async () => {
    const res = await fetch(`${sidecar.url}/.well-known/authzen-configuration`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      policy_decision_point: sidecar.url,
      access_evaluation_endpoint: `${sidecar.url}/access/v1/evaluation`,
      access_evaluations_endpoint: `${sidecar.url}/access/v1/evaluations`,
    });
  });
});

describe('AuthZEN with config/dev.yaml (customers store, groups from a subject property)', () => {
  let dev: DevSidecar;
  beforeAll(async () => {
    dev = await startDevSidecar();
  });
  afterAll(async () => dev?.sidecar.close());

  const viewAccount = (groups: string[], tenantId: string) =>
    postJson(`${dev.sidecar.url}/access/v1/evaluation`, {
      subject: { type: 'user', id: 'dev|alice', properties: { tenantId, groups } },
      action: { name: 'InitiatePayment' },
      resource: {
        type: 'account',
        id: 'acme-ops',
        properties: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
      },
      context: { destinationCountry: 'DE' },
    });

  it('routes subject type user to the customers store, with groups as parents', async () => {
    const res = await viewAccount(['PAYMENT_INITIATOR'], 'acme');
    expect(res.json).toMatchObject({
      decision: true,
      context: { store: 'customers', determining_policies: ['initiator-business-accounts'] },
    });
    expect((await viewAccount([], 'acme')).json).toMatchObject({ decision: false });
    expect((await viewAccount(['PAYMENT_INITIATOR'], 'globex')).json).toMatchObject({
      decision: false,
      context: { determining_policies: ['tenant-isolation'] },
    });
  });
});
