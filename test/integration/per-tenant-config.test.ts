import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { mintDevToken } from '../../src/identity/dev-issuer.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSidecar, type Sidecar } from '../../src/server.js';
import { authorize, authorizeBatch, policyIds } from '../support/authorize.js';
import { REPO_ROOT } from '../support/sidecar.js';

/**
 * config/per-tenant.yaml as shipped (store per tenant, routed from `custom:tenantId`), with its
 * development key in a temporary folder instead of the repository's .dev-keys/.
 */
let sidecar: Sidecar;
let keyDir: string;

const userToken = (sub: string, groups: string[], claims: Record<string, string>) =>
  mintDevToken({ keyDir, kind: 'user', sub, groups, claims });

const account = (id: string, tenantId: string, accountType = 'BUSINESS') => ({
  type: 'Payments::Account',
  id,
  attributes: { tenantId, accountType, country: 'US' },
  parents: [{ type: 'Payments::Tenant', id: tenantId }],
});
const act = (id: string) => ({ type: 'Payments::Action', id });

beforeAll(async () => {
  keyDir = mkdtempSync(path.join(os.tmpdir(), 'per-tenant-keys-'));
  const loaded = loadConfig({ configPath: path.join(REPO_ROOT, 'config/per-tenant.yaml'), env: {} });
  loaded.config.server.port = 0;
  loaded.config.policies.watch = false;
  loaded.config.dev.keyDir = keyDir;
  loaded.config.issuers[0]!.jwksFile = path.join(keyDir, 'jwks.json');
  sidecar = await startSidecar(loaded, createLogger('silent'));
});
afterAll(async () => {
  await sidecar?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('config/per-tenant.yaml: one store per tenant', () => {
  it('serves exactly the tenant stores and the services store', () => {
    expect(sidecar.stores.names().sort()).toEqual(['services', 'tenant-acme', 'tenant-globex']);
  });

  it("routes each user to their tenant's store, where the same request gets that tenant's answer", async () => {
    const acme = await userToken('alice', ['PAYMENT_INITIATOR'], { 'custom:tenantId': 'acme' });
    const globex = await userToken('gina', ['PAYMENT_INITIATOR'], { 'custom:tenantId': 'globex' });
    const pay = (tenant: string) => ({
      action: act('InitiatePayment'),
      resource: account(`${tenant}-personal`, tenant, 'PERSONAL'),
      context: { destinationCountry: 'US' },
    });
    const a = await authorize(sidecar.url, acme, pay('acme'));
    expect(a.json).toMatchObject({ decision: 'DENY', store: 'tenant-acme', principal: { id: 'dev|alice' } });
    const g = await authorize(sidecar.url, globex, pay('globex'));
    expect(g.json).toMatchObject({ decision: 'ALLOW', store: 'tenant-globex' });
    expect(policyIds(g.json)).toEqual(['globex-initiator-any-account']);
  });

  it("never evaluates a tenant's user in another tenant's store, and the store forbids foreign resources", async () => {
    const acme = await userToken('alice', ['PAYMENT_INITIATOR'], { 'custom:tenantId': 'acme' });
    const res = await authorizeBatch(sidecar.url, acme, [
      { action: act('InitiatePayment'), resource: account('globex-main', 'globex'), context: {} },
      { action: act('ViewAccount'), resource: account('globex-main', 'globex'), context: {} },
      { action: act('InitiatePayment'), resource: account('acme-ops', 'acme'), context: {} },
    ]);
    const results = res.json.results as Record<string, unknown>[];
    expect(results.map((r) => [r.decision, r.store])).toEqual([
      ['DENY', 'tenant-acme'],
      ['DENY', 'tenant-acme'],
      ['ALLOW', 'tenant-acme'],
    ]);
    expect(policyIds(results[0]!)).toEqual(['only-acme']);
    expect(policyIds(results[1]!)).toEqual(['only-acme']);
  });

  it.each([
    ['a tenant without a store', { 'custom:tenantId': 'initech' }],
    ['no tenant claim', {}],
    ['a path in the claim', { 'custom:tenantId': '../services' }],
    ['a separator in the claim', { 'custom:tenantId': 'acme/../globex' }],
    ['the name of a non-tenant store', { 'custom:tenantId': 'services' }],
  ])('denies %s with no_store', async (_what, claims: Record<string, string>) => {
    const token = await userToken('eve', ['PAYMENT_INITIATOR'], claims);
    const res = await authorize(sidecar.url, token, {
      action: act('ViewAccount'),
      resource: account('acme-ops', 'acme'),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'no_store', principal: { id: 'dev|eve' } });
    expect(res.json.store).toBeUndefined();
  });

  it('routes services to the shared services store, where a service acting for a tenant reads only that tenant', async () => {
    const token = await mintDevToken({
      keyDir,
      kind: 'service',
      clientId: 'statements-svc',
      scopes: ['accounts/read'],
    });
    const view = (onBehalfOfTenant: string | undefined, tenant: string) => ({
      action: act('ViewAccount'),
      resource: account(`${tenant}-main`, tenant),
      context: onBehalfOfTenant ? { onBehalfOfTenant } : {},
    });
    const res = await authorizeBatch(sidecar.url, token, [
      view('acme', 'acme'),
      view('globex', 'acme'),
      view('acme', 'globex'),
      view(undefined, 'acme'),
    ]);
    expect(res.json).toMatchObject({ callerType: 'service', principal: { type: 'Payments::Service' } });
    const results = res.json.results as Record<string, unknown>[];
    expect(results.map((r) => [r.decision, r.store])).toEqual([
      ['ALLOW', 'services'],
      ['DENY', 'services'],
      ['DENY', 'services'],
      ['DENY', 'services'],
    ]);
    expect(policyIds(results[0]!)).toEqual(['view-on-behalf-of-tenant']);
  });
});
