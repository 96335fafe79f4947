import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({ policies: { watch: false } });
});
afterAll(async () => sidecar?.close());

const screen = (scopes: string[]) => ({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  entities: [{ uid: { type: 'Payments::Service', id: 'fraud-svc' }, attrs: { scopes } }],
});

describe('POST /v1/is-authorized', () => {
  it('allows with the scope and names the determining policy', async () => {
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, screen(['payments/screen']));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'services',
      determiningPolicies: [{ policyId: 'screen-with-scope' }],
      errors: [],
    });
    expect(res.json.storeVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(res.json.decisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('denies without the scope (200, evaluated)', async () => {
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, screen(['payments/read']));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
  });
});
