import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { startAvpPeer, type AvpPeer } from '../support/avp-peer.js';
import { peerStores, storeIdOf, TEST_CREDENTIALS } from '../support/avp-fixtures.js';
import { scrape, total } from '../support/prometheus.js';
import { startTestSidecar } from '../support/sidecar.js';
import { waitFor } from '../support/temp.js';

/**
 * A client that disconnects stops paying for the AVP calls made on its behalf: the real sidecar,
 * an `avp` store whose peer is slow, a client that hangs up after 100 ms; the call is abandoned
 * (outcome `cancelled`) long before the peer would answer, and not retried.
 */
let peer: AvpPeer;
let sidecar: Sidecar;
beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  peer = await startAvpPeer({ stores: peerStores() });
  sidecar = await startTestSidecar({
    policies: { watch: false },
    stores: {
      customers: {
        engine: 'avp',
        policyStoreId: storeIdOf('customers'),
        region: 'us-east-1',
        endpoint: peer.url,
        timeBudgetMs: 10_000,
        retries: 3,
        entitiesFile: 'policies/customers/entities.json',
      },
    },
    cache: { decisions: { enabled: false } },
  });
});
afterAll(async () => {
  await sidecar?.close();
  await peer?.close();
  vi.unstubAllEnvs();
});

describe('a caller that goes away', () => {
  it('abandons the AVP call made for it (outcome cancelled), without retries', async () => {
    peer.faults.delayMs = 5_000;
    const { hostname, port } = new URL(sidecar.url);
    const body = JSON.stringify({
      store: 'customers',
      principal: { type: 'Payments::User', id: 'alice' },
      action: { type: 'Payments::Action', id: 'ViewAccount' },
      resource: { type: 'Payments::Account', id: 'acme-ops' },
      entities: [
        { uid: { type: 'Payments::User', id: 'alice' }, attrs: { tenantId: 'acme' }, parents: [] },
        {
          uid: { type: 'Payments::Account', id: 'acme-ops' },
          attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
          parents: [{ type: 'Payments::Tenant', id: 'acme' }],
        },
      ],
    });
    const started = Date.now();
    const req = http.request({
      host: hostname,
      port,
      method: 'POST',
      path: '/v1/is-authorized',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end(body);
    setTimeout(() => req.destroy(), 150);
    const cancelled = await waitFor(
      'the AVP call to be abandoned',
      async () => {
        const n = total(await scrape(sidecar.url), 'authz_avp_calls_total', { outcome: 'cancelled' });
        return n > 0 ? n : undefined;
      },
      4_000,
      50,
    );
    expect(cancelled).toBe(1);
    expect(Date.now() - started).toBeLessThan(4_000); // the peer would have taken 5 s
    expect(total(await scrape(sidecar.url), 'authz_avp_calls_total', {})).toBe(1); // no retry
    peer.faults.delayMs = 0;
  });
});
