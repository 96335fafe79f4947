import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';
import { copyOfSamplePolicies, waitFor } from '../support/temp.js';

/**
 * Hot reload on a temp copy of policies/: a good edit goes live, a broken edit keeps the last good
 * set serving and shows in /readyz, fixing the file recovers. The steps run in order.
 */

interface StoreStatus {
  name: string;
  ready: boolean;
  version: string;
  policies: number;
  lastError?: string;
}

let sidecar: Sidecar;
const policies = copyOfSamplePolicies();
const settlement = path.join(policies.dir, 'services', 'settlement.cedar');
const original = readFileSync(settlement, 'utf8');

beforeAll(async () => {
  // The default debounce (150 ms), as a deployment would run.
  sidecar = await startTestSidecar({ policies: { dir: policies.dir, watch: true } });
});
afterAll(async () => {
  await sidecar?.close();
  policies.remove();
});

async function readyz(): Promise<{ status: number; ready: boolean; stores: StoreStatus[] }> {
  const res = await fetch(`${sidecar.url}/readyz`);
  const body = (await res.json()) as { ready: boolean; stores: StoreStatus[] };
  return { status: res.status, ...body };
}
const services = async () => (await readyz()).stores.find((s) => s.name === 'services')!;

/** The reporting service settles a payment: DENY in the sample store (no settlement scope). */
const settle = () =>
  postJson(`${sidecar.url}/v1/is-authorized`, {
    store: 'services',
    principal: { type: 'Payments::Service', id: 'reporting-svc' },
    action: { type: 'Payments::Action', id: 'SettlePayment' },
    resource: { type: 'Payments::Payment', id: 'p1' },
    entities: [
      { uid: { type: 'Payments::Service', id: 'reporting-svc' }, attrs: { scopes: ['payments/read'] } },
    ],
  });

const GRANT = `
@id("reporting-may-settle")
permit (principal == Payments::Service::"reporting-svc", action == Payments::Action::"SettlePayment", resource);
`;

/** Writes a file the way editors save: a temp file renamed over the original. */
function saveAtomically(file: string, content: string) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

let initialVersion: string;
let grantedVersion: string;

describe('hot reload', () => {
  it('starts from the sample store', async () => {
    const status = await services();
    expect(status).toMatchObject({ ready: true, policies: 4 });
    expect(status.lastError).toBeUndefined();
    initialVersion = status.version;
    const res = await settle();
    expect(res.json).toMatchObject({ decision: 'DENY', storeVersion: initialVersion });
  });

  it('a good edit is live within moments, under a new storeVersion', async () => {
    const started = Date.now();
    writeFileSync(settlement, original + GRANT);
    const res = await waitFor('the edit to go live', async () => {
      const r = await settle();
      return r.json.decision === 'ALLOW' ? r : undefined;
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.json.determiningPolicies).toEqual([{ policyId: 'reporting-may-settle' }]);
    grantedVersion = res.json.storeVersion as string;
    expect(grantedVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(grantedVersion).not.toBe(initialVersion);
    const status = await services();
    expect(status).toMatchObject({ ready: true, version: grantedVersion, policies: 5 });
    expect(status.lastError).toBeUndefined();
  });

  it('a broken edit keeps the last good set serving and shows lastError in /readyz', async () => {
    // A validation error on line 3 of the appended text: `principal.nope` is not in the schema.
    const broken = `${original}${GRANT}\n@id("broken")\npermit (principal, action, resource) when { principal.nope };\n`;
    const brokenLine = broken.split('\n').length - 1;
    saveAtomically(settlement, broken);
    const status = await waitFor('lastError on the services store', async () => {
      const s = await services();
      return s.lastError ? s : undefined;
    });
    expect(status).toMatchObject({ ready: true, version: grantedVersion, policies: 5 });
    expect(status.lastError).toContain(`settlement.cedar:${brokenLine}:`);
    expect(status.lastError).toContain('policy "broken"');

    const all = await readyz();
    expect(all.status).toBe(200);
    expect(all.ready).toBe(true);
    for (const other of all.stores.filter((s) => s.name !== 'services'))
      expect(other.lastError).toBeUndefined();

    const res = await settle();
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      storeVersion: grantedVersion,
      determiningPolicies: [{ policyId: 'reporting-may-settle' }],
    });
  });

  it('a syntax error is reported the same way, with its line', async () => {
    writeFileSync(settlement, `${original}${GRANT}\npermit (principal, action,\n`);
    const status = await waitFor('the syntax error in lastError', async () => {
      const s = await services();
      return s.lastError && !s.lastError.includes('policy "broken"') ? s : undefined;
    });
    expect(status.lastError).toMatch(/settlement\.cedar:\d+:\d+: /);
    expect(status).toMatchObject({ ready: true, version: grantedVersion });
    expect((await settle()).json).toMatchObject({ decision: 'ALLOW', storeVersion: grantedVersion });
  });

  it('a broken schema is reported too, and the last good set keeps serving', async () => {
    const schemaFile = path.join(policies.dir, 'services', 'schema.cedarschema');
    const schema = readFileSync(schemaFile, 'utf8');
    writeFileSync(schemaFile, 'namespace Payments {\n  entity\n');
    const status = await waitFor('the schema error in lastError', async () => {
      const s = await services();
      return s.lastError?.includes('schema.cedarschema:') ? s : undefined;
    });
    expect(status).toMatchObject({ ready: true, version: grantedVersion });
    expect((await settle()).json).toMatchObject({ decision: 'ALLOW', storeVersion: grantedVersion });
    writeFileSync(schemaFile, schema);
  });

  it('fixing the file recovers and clears lastError', async () => {
    saveAtomically(settlement, original);
    const status = await waitFor('the store to recover', async () => {
      const s = await services();
      return !s.lastError && s.version === initialVersion ? s : undefined;
    });
    expect(status).toMatchObject({ ready: true, policies: 4 });
    const res = await settle();
    expect(res.json).toMatchObject({
      decision: 'DENY',
      determiningPolicies: [],
      storeVersion: initialVersion,
    });
  });
});
