import {
  BatchIsAuthorizedCommand,
  BatchIsAuthorizedWithTokenCommand,
  IsAuthorizedCommand,
  IsAuthorizedWithTokenCommand,
  ResourceNotFoundException,
  ValidationException,
  VerifiedPermissionsClient,
  VerifiedPermissionsServiceException,
} from '@aws-sdk/client-verifiedpermissions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { TEST_CREDENTIALS } from '../support/avp-fixtures.js';
import { createTestIssuer } from '../support/avp-dev-issuer.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

/**
 * The real AWS SDK client pointed at the sidecar's AVP door: local decisions through AVP's
 * protocol for all four operations, and AWS-typed errors for bad input.
 */
const CUSTOMERS_ID = 'PSEXAMPLEcustomers0001';
let sidecar: Sidecar;
let client: VerifiedPermissionsClient;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;

const user = (id: string) => ({ entityType: 'Payments::User', entityId: id });
const account = (id: string) => ({ entityType: 'Payments::Account', entityId: id });
const action = (id: string) => ({ actionType: 'Payments::Action', actionId: id });
const alice = {
  identifier: user('alice'),
  attributes: { tenantId: { string: 'acme' } },
  parents: [{ entityType: 'Payments::UserGroup', entityId: 'PAYMENT_INITIATOR' }],
};
const accountEntity = (id: string, tenant: string, type = 'BUSINESS') => ({
  identifier: account(id),
  attributes: { tenantId: { string: tenant }, accountType: { string: type }, country: { string: 'GB' } },
  parents: [{ entityType: 'Payments::Tenant', entityId: tenant }],
});

beforeAll(async () => {
  issuer = await createTestIssuer();
  sidecar = await startTestSidecar({
    policies: { watch: false },
    issuers: [issuer.issuer],
    routes: issuer.routes,
    avpDoor: { enabled: true, port: 0, policyStores: { [CUSTOMERS_ID]: 'customers' } },
  });
  client = new VerifiedPermissionsClient({
    region: 'us-east-1',
    endpoint: sidecar.avpUrl!,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await sidecar?.close();
  issuer?.cleanup();
});

async function rejection(
  p: Promise<unknown>,
): Promise<Error & { fieldList?: { path: string; message: string }[] }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('the AVP door', () => {
  it('listens on loopback, on a port of its own', () => {
    expect(sidecar.avpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sidecar.avpUrl).not.toBe(sidecar.url);
  });

  it('IsAuthorized: ALLOW with determining policies, through the mapped policy store id', async () => {
    const out = await client.send(
      new IsAuthorizedCommand({
        policyStoreId: CUSTOMERS_ID,
        principal: user('alice'),
        action: action('InitiatePayment'),
        resource: account('acme-ops'),
        context: { contextMap: { destinationCountry: { string: 'DE' }, amount: { decimal: '120.50' } } },
        entities: { entityList: [alice, accountEntity('acme-ops', 'acme')] },
      }),
    );
    expect(out.decision).toBe('ALLOW');
    expect(out.determiningPolicies).toEqual([{ policyId: 'initiator-business-accounts' }]);
    expect(out.errors).toEqual([]);
  });

  it('IsAuthorized: DENY by a forbid, and a store selected by its own name', async () => {
    const sanctioned = await client.send(
      new IsAuthorizedCommand({
        policyStoreId: 'customers',
        principal: user('alice'),
        action: action('InitiatePayment'),
        resource: account('acme-ops'),
        context: { contextMap: { destinationCountry: { string: 'KP' } } },
        entities: { entityList: [alice, accountEntity('acme-ops', 'acme')] },
      }),
    );
    expect(sanctioned).toMatchObject({
      decision: 'DENY',
      determiningPolicies: [{ policyId: 'sanctioned-destinations' }],
    });
  });

  it('IsAuthorized accepts Cedar JSON for context and entities too', async () => {
    const out = await client.send(
      new IsAuthorizedCommand({
        policyStoreId: 'customers',
        principal: user('alice'),
        action: action('ViewAccount'),
        resource: account('acme-ops'),
        context: { cedarJson: '{}' },
        entities: {
          cedarJson: JSON.stringify([
            {
              uid: { type: 'Payments::User', id: 'alice' },
              attrs: { tenantId: 'acme' },
              parents: [{ type: 'Payments::UserGroup', id: 'VIEWER' }],
            },
            {
              uid: { type: 'Payments::Account', id: 'acme-ops' },
              attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
              parents: [],
            },
          ]),
        },
      }),
    );
    expect(out).toMatchObject({ decision: 'ALLOW', determiningPolicies: [{ policyId: 'viewers-read' }] });
  });

  it('BatchIsAuthorized: one answer per request, in order, echoing the request', async () => {
    const out = await client.send(
      new BatchIsAuthorizedCommand({
        policyStoreId: CUSTOMERS_ID,
        entities: {
          entityList: [alice, accountEntity('acme-ops', 'acme'), accountEntity('globex-main', 'globex')],
        },
        requests: [
          { principal: user('alice'), action: action('ViewAccount'), resource: account('acme-ops') },
          { principal: user('alice'), action: action('ViewAccount'), resource: account('globex-main') },
          {
            principal: user('alice'),
            action: action('InitiatePayment'),
            resource: account('acme-ops'),
            context: { contextMap: { destinationCountry: { string: 'FR' } } },
          },
        ],
      }),
    );
    expect(out.results?.map((r) => r.decision)).toEqual(['ALLOW', 'DENY', 'ALLOW']);
    expect(out.results?.[1]?.determiningPolicies).toEqual([{ policyId: 'tenant-isolation' }]);
    expect(out.results?.[2]?.request).toMatchObject({
      action: action('InitiatePayment'),
      context: { contextMap: { destinationCountry: { string: 'FR' } } },
    });
  });

  it('IsAuthorizedWithToken: the token goes through the pipeline; the answer names the principal', async () => {
    const identityToken = await issuer.mint({
      kind: 'user',
      sub: 'alice',
      groups: ['PAYMENT_INITIATOR'],
      claims: { 'custom:tenantId': 'acme' },
    });
    const out = await client.send(
      new IsAuthorizedWithTokenCommand({
        policyStoreId: CUSTOMERS_ID,
        identityToken,
        action: action('InitiatePayment'),
        resource: account('acme-ops'),
        context: { contextMap: { destinationCountry: { string: 'DE' } } },
        entities: { entityList: [accountEntity('acme-ops', 'acme')] },
      }),
    );
    expect(out).toMatchObject({
      decision: 'ALLOW',
      determiningPolicies: [{ policyId: 'initiator-business-accounts' }],
      principal: user('alice'),
    });
  });

  it('BatchIsAuthorizedWithToken: a service token against the services store', async () => {
    const accessToken = await issuer.mint({
      kind: 'service',
      clientId: 'fraud-svc',
      scopes: ['payments/screen'],
    });
    const payment = (id: string) => ({ entityType: 'Payments::Payment', entityId: id });
    const out = await client.send(
      new BatchIsAuthorizedWithTokenCommand({
        policyStoreId: 'services',
        accessToken,
        requests: [
          { action: action('ScreenPayment'), resource: payment('p1') },
          { action: action('SettlePayment'), resource: payment('p1') },
        ],
        entities: {
          entityList: [
            {
              identifier: payment('p1'),
              attributes: {
                tenantId: { string: 'acme' },
                amount: { decimal: '10.00' },
                currency: { string: 'EUR' },
                destinationCountry: { string: 'DE' },
                status: { string: 'APPROVED' },
              },
            },
          ],
        },
      }),
    );
    expect(out.principal).toEqual({ entityType: 'Payments::Service', entityId: 'fraud-svc' });
    expect(out.results?.map((r) => [r.decision, r.determiningPolicies])).toEqual([
      ['ALLOW', [{ policyId: 'screen-with-scope' }]],
      ['DENY', []],
    ]);
  });

  it('an unknown policy store is a ResourceNotFoundException', async () => {
    const err = await rejection(
      client.send(
        new IsAuthorizedCommand({
          policyStoreId: 'PSnope',
          principal: user('alice'),
          action: action('ViewAccount'),
          resource: account('acme-ops'),
        }),
      ),
    );
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({
      resourceId: 'PSnope',
      resourceType: 'POLICY_STORE',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('missing and malformed fields are one ValidationException naming each field', async () => {
    const err = await rejection(
      client.send(
        new IsAuthorizedCommand({
          policyStoreId: CUSTOMERS_ID,
          principal: user('alice'),
          resource: account('acme-ops'),
          context: { contextMap: { amount: { long: 1.5 } } },
        } as never),
      ),
    );
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as ValidationException).$metadata.httpStatusCode).toBe(400);
    expect(err.fieldList?.map((f) => f.path)).toEqual(['action', 'context.contextMap.amount.long']);
  });

  it('a request the schema refuses is a ValidationException', async () => {
    const err = await rejection(
      client.send(
        new IsAuthorizedCommand({
          policyStoreId: CUSTOMERS_ID,
          principal: user('alice'),
          action: action('ViewAccount'),
          resource: account('acme-ops'),
          entities: {
            entityList: [{ identifier: user('alice'), attributes: { tenantId: { long: 7 } } }],
          },
        }),
      ),
    );
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toMatch(/tenantId/);
  });

  it('a batch whose requests share neither principal nor resource is refused, as AVP does', async () => {
    const err = await rejection(
      client.send(
        new BatchIsAuthorizedCommand({
          policyStoreId: CUSTOMERS_ID,
          requests: [
            { principal: user('alice'), action: action('ViewAccount'), resource: account('acme-ops') },
            { principal: user('bob'), action: action('ViewAccount'), resource: account('globex-main') },
          ],
        }),
      ),
    );
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.fieldList).toEqual([
      {
        path: 'requests',
        message: 'either the principal or the resource must be identical across all requests',
      },
    ]);
  });

  it('more than 30 requests in a batch is a ValidationException', async () => {
    const requests = Array.from({ length: 31 }, () => ({
      principal: user('alice'),
      action: action('ViewAccount'),
      resource: account('acme-ops'),
    }));
    const err = await rejection(
      client.send(new BatchIsAuthorizedCommand({ policyStoreId: CUSTOMERS_ID, requests })),
    );
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.fieldList?.[0]).toEqual({ path: 'requests', message: 'must hold at most 30 requests' });
  });

  it('a body over server.bodyLimitBytes is a ValidationException, declared or streamed', async () => {
    const body = JSON.stringify({
      policyStoreId: CUSTOMERS_ID,
      principal: user('alice'),
      action: action('ViewAccount'),
      resource: account('acme-ops'),
      context: { contextMap: { pad: { string: 'x'.repeat(1_100_000) } } },
    });
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'VerifiedPermissions.IsAuthorized',
    };
    const bytes = new TextEncoder().encode(body);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65_536) controller.enqueue(bytes.slice(i, i + 65_536));
        controller.close();
      },
    });
    for (const init of [
      { method: 'POST', headers, body },
      { method: 'POST', headers, body: streamed, duplex: 'half' },
    ]) {
      const res = await fetch(`${sidecar.avpUrl}/`, init as RequestInit);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        __type: expect.stringContaining('ValidationException'),
        message: 'The request body is larger than 1048576 bytes.',
      });
    }
  });

  it('an invalid token is a ValidationException on the token field, never a decision', async () => {
    const err = await rejection(
      client.send(
        new IsAuthorizedWithTokenCommand({
          policyStoreId: CUSTOMERS_ID,
          accessToken: 'not.a.jwt',
          action: action('ViewAccount'),
          resource: account('acme-ops'),
        }),
      ),
    );
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.fieldList?.[0]?.path).toBe('accessToken');
    expect(err.message).not.toContain('not.a.jwt');
  });

  it('a token caller may not bring its own principal entity', async () => {
    const identityToken = await issuer.mint({
      kind: 'user',
      sub: 'mallory',
      claims: { 'custom:tenantId': 'globex' },
    });
    const err = await rejection(
      client.send(
        new IsAuthorizedWithTokenCommand({
          policyStoreId: CUSTOMERS_ID,
          identityToken,
          action: action('ViewAccount'),
          resource: account('acme-ops'),
          entities: {
            entityList: [{ identifier: user('mallory'), attributes: { tenantId: { string: 'acme' } } }],
          },
        }),
      ),
    );
    expect(err).toBeInstanceOf(ValidationException);
  });

  it('speaks AWS JSON 1.0 errors on the wire: x-amzn-errortype and __type', async () => {
    const headers = { 'content-type': 'application/x-amz-json-1.0' };
    const unknown = await postJson(`${sidecar.avpUrl}/`, '{}', {
      ...headers,
      'x-amz-target': 'VerifiedPermissions.CreatePolicy',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(unknown.json).toMatchObject({ __type: 'UnknownOperationException' });
    const garbage = await postJson(`${sidecar.avpUrl}/`, '{"policyStoreId": ', {
      ...headers,
      'x-amz-target': 'VerifiedPermissions.IsAuthorized',
    });
    expect(garbage.status).toBe(400);
    expect(garbage.json).toMatchObject({ __type: 'SerializationException' });
    const sdkErr = await rejection(
      client.send(
        new IsAuthorizedCommand({
          policyStoreId: '',
          principal: user('a'),
          action: action('x'),
          resource: account('y'),
        }),
      ),
    );
    expect(sdkErr).toBeInstanceOf(VerifiedPermissionsServiceException);
  });

  it('the main HTTP port does not serve the AVP protocol', async () => {
    const res = await postJson(`${sidecar.url}/`, '{}', {
      'x-amz-target': 'VerifiedPermissions.IsAuthorized',
    });
    expect(res.status).toBe(404);
  });
});
