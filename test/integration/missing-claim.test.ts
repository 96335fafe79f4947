import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { postJson } from '../support/sidecar.js';

/**
 * A token that lacks a claim the issuer's mapping turns into a required principal attribute is a
 * DENY naming the claim (reason `missing_claim`), not a 400 that blames the request.
 */
let dev: DevSidecar;
beforeAll(async () => {
  dev = await startDevSidecar();
});
afterAll(async () => dev?.sidecar.close());

const body = {
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: {
    type: 'Payments::Account',
    id: 'acme-ops',
    attributes: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
    parents: [{ type: 'Payments::Tenant', id: 'acme' }],
  },
};

describe('a token without a claim the store needs', () => {
  it('is a DENY with reason missing_claim naming the claim and the attribute', async () => {
    const token = await dev.token({ kind: 'user', sub: 'bob', groups: ['PAYMENT_INITIATOR'] });
    const res = await postJson(`${dev.sidecar.url}/v1/authorize`, body, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      decision: 'DENY',
      reason: 'missing_claim',
      principal: { id: 'dev|bob' },
    });
    expect(String(res.json.message)).toMatch(/custom:tenantId claim.*tenantId/);
  });

  it('with the claim, the same request is decided', async () => {
    const token = await dev.token({
      kind: 'user',
      sub: 'bob',
      groups: ['PAYMENT_INITIATOR'],
      claims: { 'custom:tenantId': 'acme' },
    });
    const res = await postJson(`${dev.sidecar.url}/v1/authorize`, body, { authorization: `Bearer ${token}` });
    expect(res.json).toMatchObject({ decision: 'ALLOW' });
  });

  it('a request that is itself wrong is still a 400 invalid_request, even from a token lacking a claim', async () => {
    const token = await dev.token({ kind: 'user', sub: 'bob', groups: ['PAYMENT_INITIATOR'] });
    const res = await postJson(
      `${dev.sidecar.url}/v1/authorize`,
      { ...body, context: { destinationCountry: 42 } },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ reason: 'invalid_request' });
  });
});
