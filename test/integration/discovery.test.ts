import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { loadSpec, ResponseValidator } from '../support/openapi.js';
import { startTestSidecar } from '../support/sidecar.js';

/**
 * Store discovery over the real server: GET /v1/stores and /v1/stores/{name}, each answer checked
 * against openapi.yaml; a remote caller is refused (exercised in-process: tests send traffic only to
 * 127.0.0.1, so a remote address is given to the app the way @hono/node-server hands it over).
 */
let sidecar: Sidecar;
const validator = new ResponseValidator(loadSpec());
beforeAll(async () => {
  sidecar = await startTestSidecar({ policies: { watch: false } });
});
afterAll(async () => sidecar?.close());

async function get(path: string, template: string) {
  const res = await fetch(`${sidecar.url}${path}`);
  const body = (await res.json()) as Record<string, unknown>;
  const problems = validator.check(validator.responseFor(template, 'get', res.status), {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: body as never,
  });
  expect(problems).toEqual([]);
  return { status: res.status, body };
}

describe('store discovery', () => {
  it('GET /v1/stores lists every store with engine, evaluator, version and policy count', async () => {
    const { status, body } = await get('/v1/stores', '/v1/stores');
    expect(status).toBe(200);
    const stores = body.stores as { name: string; engine: string; evaluator: string; policies: number }[];
    expect(stores.map((s) => s.name)).toEqual(sidecar.stores.names());
    expect(stores.find((s) => s.name === 'customers')).toMatchObject({
      engine: 'local',
      evaluator: 'native',
      policies: 9,
    });
  });

  it('GET /v1/stores/{name} describes the schema: actions with what they apply to, entity types with attributes', async () => {
    const { status, body } = await get('/v1/stores/customers', '/v1/stores/{name}');
    expect(status).toBe(200);
    const schema = body.schema as {
      actions: {
        id: string;
        principalTypes: string[];
        resourceTypes: string[];
        context: Record<string, { type: string }>;
      }[];
      entityTypes: { name: string; attributes: Record<string, { type: string; required: boolean }> }[];
    };
    expect(schema.actions.find((a) => a.id === 'Payments::Action::"InitiatePayment"')).toMatchObject({
      principalTypes: ['Payments::User'],
      resourceTypes: ['Payments::Account'],
      context: { destinationCountry: { type: 'String' }, amount: { type: 'decimal' } },
    });
    expect(schema.entityTypes.find((e) => e.name === 'Payments::Account')?.attributes).toEqual({
      accountType: { type: 'String', required: true },
      country: { type: 'String', required: true },
      tenantId: { type: 'String', required: true },
    });
  });

  it('an unknown store is 404 unknown_store', async () => {
    const { status, body } = await get('/v1/stores/nope', '/v1/stores/{name}');
    expect(status).toBe(404);
    expect(body).toMatchObject({ reason: 'unknown_store' });
  });

  it('a caller that is not on this machine is refused with 403', async () => {
    const remote = { incoming: { socket: { remoteAddress: '192.0.2.10' } } };
    for (const path of ['/v1/stores', '/v1/stores/customers']) {
      const res = await sidecar.app.request(path, {}, remote);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ reason: 'forbidden' });
    }
    const local = await sidecar.app.request(
      '/v1/stores',
      {},
      { incoming: { socket: { remoteAddress: '::ffff:127.0.0.1' } } },
    );
    expect(local.status).toBe(200);
  });
});
