import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { scrape, total } from '../support/prometheus.js';
import { getJson, postJson } from '../support/sidecar.js';
import { copyOfSamplePolicies, tempDir, waitFor } from '../support/temp.js';

/**
 * "What is this policy change doing to today's traffic?": a running sidecar (config/dev.yaml) with
 * `stores.customers.shadow` set to a candidate folder. The live answers must not change; the flips
 * show in /metrics, in the process log with the decision id, and in /readyz; the candidate
 * hot-reloads; a broken candidate leaves the live store serving and shows its error.
 */
const live = copyOfSamplePolicies();
const work = tempDir('shadow-');
const candidate = path.join(work.dir, 'candidate-customers');

const WIDENED = 'when { resource.accountType == "BUSINESS" || resource.accountType == "PERSONAL" };';
const ORIGINAL = 'when { resource.accountType == "BUSINESS" };';

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

let dev: DevSidecar | undefined;
afterEach(async () => {
  await dev?.sidecar.close();
  dev = undefined;
});
afterAll(() => {
  live.remove();
  work.remove();
});

async function start(shadow: unknown, capture = logCapture()) {
  const store = (name: string) => ({ path: path.join(live.dir, name) });
  dev = await startDevSidecar(
    {
      policies: { dir: live.dir, watch: true, reloadDebounceMs: 20 },
      stores: {
        customers: { ...store('customers'), shadow },
        services: store('services'),
        internal: store('internal'),
        api: store('api'),
      },
      // Every request is decided by its store, none answered by the cache: each one is shadowed as
      // a fresh decision (cache hits are shadowed too; this keeps the counts simple).
      cache: { decisions: { enabled: false } },
    },
    { logger: capture.logger },
  );
  const alice = await dev.token({
    kind: 'user',
    sub: 'alice',
    groups: ['PAYMENT_INITIATOR'],
    claims: { 'custom:tenantId': 'acme' },
  });
  const ask = async (id: string, accountType: string) => {
    const res = await postJson(
      `${dev!.sidecar.url}/v1/authorize`,
      {
        action: { type: 'Payments::Action', id: 'InitiatePayment' },
        resource: {
          type: 'Payments::Account',
          id,
          attributes: { tenantId: 'acme', accountType, country: 'GB' },
        },
      },
      { authorization: `Bearer ${alice}` },
    );
    return res.json as { decision: string; decisionId: string };
  };
  return { ask, capture };
}

const shadowCount = async (result: string) =>
  total(await scrape(dev!.sidecar.url), 'authz_shadow_decisions_total', { store: 'customers', result });

describe('shadow store', () => {
  it('counts and logs the flips of a candidate while the live answers stay the same; it hot-reloads', async () => {
    cpSync(path.join(live.dir, 'customers'), candidate, { recursive: true });
    const file = path.join(candidate, 'accounts.cedar');
    writeFileSync(file, readFileSync(file, 'utf8').replace(ORIGINAL, WIDENED));
    const { ask, capture } = await start({ path: candidate, sampleRate: 1 });

    const business = await ask('acme-ops', 'BUSINESS');
    const personal = await ask('acme-savings', 'PERSONAL');
    // Live answers as without a shadow: the widened permit is only the candidate's.
    expect([business.decision, personal.decision]).toEqual(['ALLOW', 'DENY']);
    await waitFor('two shadowed decisions', async () =>
      (await shadowCount('same')) + (await shadowCount('deny_to_allow')) === 2 ? true : undefined,
    );
    expect(await shadowCount('deny_to_allow')).toBe(1);
    expect(await shadowCount('allow_to_deny')).toBe(0);
    expect(capture.lines).toContainEqual(
      expect.objectContaining({
        store: 'customers',
        decisionId: personal.decisionId,
        result: 'deny_to_allow',
        shadow: expect.objectContaining({
          decision: 'ALLOW',
          determiningPolicies: ['initiator-business-accounts'],
        }),
      }),
    );
    const ready = await getJson(`${dev!.sidecar.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toContainEqual({
      name: 'shadow',
      ready: true,
      detail: {
        customers: expect.objectContaining({
          source: candidate,
          shadowed: 2,
          results: expect.objectContaining({ same: 1, deny_to_allow: 1 }),
        }),
      },
    });

    // The candidate is edited back: it reloads like any store and agrees with live again.
    writeFileSync(file, readFileSync(file, 'utf8').replace(WIDENED, ORIGINAL));
    await waitFor(
      'the candidate to reload',
      async () =>
        capture.lines.some((l) => l.store === 'customers:shadow' && l.msg === 'policy store reloaded')
          ? true
          : undefined,
      5_000,
    );
    const again = await ask('acme-savings', 'PERSONAL');
    expect(again.decision).toBe('DENY');
    await waitFor('the third shadowed decision', async () =>
      (await shadowCount('same')) === 2 ? true : undefined,
    );
    expect(await shadowCount('deny_to_allow')).toBe(1);
  });

  it('a broken candidate leaves the live store serving and ready, and shows its error', async () => {
    rmSync(candidate, { recursive: true, force: true });
    cpSync(path.join(live.dir, 'customers'), candidate, { recursive: true });
    writeFileSync(path.join(candidate, 'accounts.cedar'), 'permit (principal, action, resource) when {');
    const { ask, capture } = await start(candidate);
    expect((await ask('acme-ops', 'BUSINESS')).decision).toBe('ALLOW');
    expect((await ask('acme-savings', 'PERSONAL')).decision).toBe('DENY');
    await waitFor('two shadow errors', async () => ((await shadowCount('error')) === 2 ? true : undefined));
    expect(await shadowCount('deny_to_allow')).toBe(0);
    const ready = await getJson(`${dev!.sidecar.url}/readyz`);
    expect(ready.status).toBe(200);
    const detail = (
      ready.json.checks as { name: string; detail: Record<string, Record<string, unknown>> }[]
    ).find((c) => c.name === 'shadow')!.detail.customers!;
    expect(detail).toMatchObject({
      version: null,
      loadError: expect.stringContaining('accounts.cedar'),
      results: expect.objectContaining({ error: 2 }),
    });
    expect(capture.lines).toContainEqual(
      expect.objectContaining({
        store: 'customers',
        msg: expect.stringContaining('shadow store does not load'),
      }),
    );
  });

  it('a shadow naming no store, or both a path and a store, fails at start naming the key', async () => {
    await expect(start({ store: 'nope' })).rejects.toThrow(
      'config key stores.customers.shadow.store: no store named "nope"',
    );
    await expect(start({ store: 'services', path: candidate })).rejects.toThrow(
      /stores\.customers\.shadow.*exactly one of path/s,
    );
  });
});
