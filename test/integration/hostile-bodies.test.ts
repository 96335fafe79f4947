import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { MAX_JSON_DEPTH } from '../../src/doors/shared/json-body.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

/**
 * The same hostile JSON on every door that reads JSON: the HTTP API (is-authorized, authorize,
 * batch), AuthZEN and the AVP protocol (its body and its `cedarJson` strings). Each is refused
 * with the door's own 400 naming the field; none is answered 200, 500 or ALLOW. (The Envoy and
 * nginx doors read no JSON body: their context comes from the route table.)
 */
let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({
    policies: { watch: false },
    avpDoor: { enabled: true, port: 0, policyStores: { PSEXAMPLEcustomers0001: 'customers' } },
    authzen: { subjectTypes: { user: 'Payments::User' }, actionType: 'Payments::Action' },
    routes: [{ callerType: 'user', store: 'customers' }],
  });
});
afterAll(async () => sidecar?.close());

const uid = (type: string, id: string) => `{"type":"${type}","id":"${id}"}`;

/** Context JSON texts that break one rule each, with the path the answer must name. */
const HOSTILE: [string, string, string][] = [
  ['a __proto__ key', '{"__proto__":{"mfa":true}}', '__proto__'],
  ['a __proto__ key written with an escape', '{"\\u005f_proto__":{"mfa":true}}', '__proto__'],
  ['a constructor key', '{"constructor":{"prototype":1}}', 'constructor'],
  ['an integer beyond 2^53 - 1', '{"amount":9007199254740993}', 'amount'],
  ['a lone surrogate', '{"note":"a\\ud800b"}', 'note'],
  [
    'nesting past the limit',
    '{"deep":' + '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH) + '}',
    'deep',
  ],
];

describe.each(HOSTILE)('%s', (_name, context, field) => {
  it('POST /v1/is-authorized: 400 naming the field', async () => {
    const body = `{"store":"customers","principal":${uid('Payments::User', 'alice')},"action":${uid('Payments::Action', 'InitiatePayment')},"resource":${uid('Payments::Account', 'a')},"context":${context}}`;
    const res = await postJson(`${sidecar.url}/v1/is-authorized`, body);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'invalid_request' });
    expect((res.json.fields as { path: string }[])[0]!.path).toContain(`context.${field}`);
  });

  it('POST /v1/authorize and /v1/authorize/batch: 400 before any token check', async () => {
    const item = `"action":${uid('Payments::Action', 'InitiatePayment')},"resource":${uid('Payments::Account', 'a')},"context":${context}`;
    const single = await postJson(`${sidecar.url}/v1/authorize`, `{${item}}`);
    expect(single.status).toBe(400);
    expect((single.json.fields as { path: string }[])[0]!.path).toContain(`context.${field}`);
    const batch = await postJson(`${sidecar.url}/v1/authorize/batch`, `{"items":[{${item}}]}`);
    expect(batch.status).toBe(400);
    expect((batch.json.fields as { path: string }[])[0]!.path).toContain(`items.0.context.${field}`);
  });

  it('POST /access/v1/evaluation (AuthZEN): 400', async () => {
    const body = `{"subject":{"type":"user","id":"alice"},"action":{"name":"InitiatePayment"},"resource":{"type":"Payments::Account","id":"a"},"context":${context}}`;
    const res = await postJson(`${sidecar.url}/access/v1/evaluation`, body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain(field);
  });

  it('AVP IsAuthorized: ValidationException naming the field, in the body and in cedarJson', async () => {
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'VerifiedPermissions.IsAuthorized',
    };
    const start = `"policyStoreId":"PSEXAMPLEcustomers0001","principal":{"entityType":"Payments::User","entityId":"alice"},"action":{"actionType":"Payments::Action","actionId":"InitiatePayment"},"resource":{"entityType":"Payments::Account","entityId":"a"}`;
    const inBody = await postJson(
      `${sidecar.avpUrl}/`,
      `{${start},"context":{"cedarJson":"{}"},"x":${context}}`,
      headers,
    );
    expect(inBody.status).toBe(400);
    expect(inBody.json).toMatchObject({ __type: 'ValidationException' });
    expect(String(inBody.json.message)).toContain(field);
    const inCedarJson = await postJson(
      `${sidecar.avpUrl}/`,
      `{${start},"context":{"cedarJson":${JSON.stringify(context)}}}`,
      headers,
    );
    expect(inCedarJson.status).toBe(400);
    expect(inCedarJson.json).toMatchObject({ __type: 'ValidationException' });
    expect(String(inCedarJson.json.message)).toContain(field);
  });
});
