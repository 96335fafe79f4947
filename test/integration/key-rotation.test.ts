import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { authorize, onAccount, PAYMENTS_TYPES } from '../support/authorize.js';
import {
  makeKey,
  nowSeconds,
  sign,
  startJwksServer,
  type JwksServer,
  type TestKey,
} from '../support/keys.js';
import { freePort, waitFor } from '../support/peers.js';
import { getJson, startTestSidecar } from '../support/sidecar.js';

const request = onAccount('InitiatePayment', 'acme-ops');
const started: { close(): Promise<void> }[] = [];
const jwksServers: JwksServer[] = [];

function issuer(name: string, iss: string, keys: Record<string, unknown>, cooldownSeconds: number) {
  return {
    name,
    issuer: iss,
    ...keys,
    audiences: ['web-app'],
    tokenUse: ['id'],
    algorithms: ['RS256'],
    jwksCooldownSeconds: cooldownSeconds,
    groupIdFormat: 'name',
    entityTypes: PAYMENTS_TYPES,
    attributes: { 'custom:tenantId': 'tenantId' },
  };
}

function claims(iss: string): JWTPayload {
  const now = nowSeconds();
  return {
    iss,
    sub: 'alice-sub',
    aud: 'web-app',
    token_use: 'id',
    'cognito:groups': ['PAYMENT_INITIATOR'],
    'custom:tenantId': 'acme',
    iat: now,
    exp: now + 600,
  };
}

async function sidecarWith(issuers: Record<string, unknown>[]): Promise<Sidecar> {
  const s = await startTestSidecar({
    policies: { watch: false },
    issuers,
    routes: [{ callerType: 'user', store: 'customers' }],
  });
  started.push(s);
  return s;
}

async function jwksServer(keys: TestKey[]): Promise<JwksServer> {
  const j = await startJwksServer(keys.map((k) => k.publicJwk));
  jwksServers.push(j);
  return j;
}

afterAll(async () => {
  for (const s of started) await s.close();
  for (const j of jwksServers) await j.stop();
});

describe('key rotation (cooldown 0)', () => {
  const ISS = 'https://rotating.test/pool';
  let a: TestKey;
  let b: TestKey;
  let jwks: JwksServer;
  let sidecar: Sidecar;

  beforeAll(async () => {
    [a, b] = await Promise.all([makeKey('key-a'), makeKey('key-b')]);
    jwks = await jwksServer([a]);
    sidecar = await sidecarWith([issuer('rotating', ISS, { jwksUri: jwks.jwksUri }, 0)]);
  });

  it('accepts a token signed with a newly published key after one refetch, for concurrent requests too', async () => {
    expect((await authorize(sidecar.url, await sign(a, claims(ISS)), request)).json.decision).toBe('ALLOW');
    expect(jwks.requests).toBe(1);
    jwks.keys = [a.publicJwk, b.publicJwk];
    const withB = await sign(b, claims(ISS));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => authorize(sidecar.url, withB, request)),
    );
    expect(answers.map((r) => r.json.decision)).toEqual(Array(10).fill('ALLOW'));
    expect(jwks.requests).toBe(2);
    await authorize(sidecar.url, withB, request);
    expect(jwks.requests).toBe(2);
  });

  it('keeps verifying with cached keys when the JWKS endpoint stops, and stays ready', async () => {
    await jwks.stop();
    for (const key of [a, b]) {
      const res = await authorize(sidecar.url, await sign(key, claims(ISS)), request);
      expect(res.json.decision).toBe('ALLOW');
    }
    const unknown = await authorize(sidecar.url, await sign(a, claims(ISS), { kid: 'key-c' }), request);
    expect(unknown.status).toBe(401);
    expect(unknown.json.reason).toBe('unknown_key');
    const ready = await getJson(`${sidecar.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      ready: true,
      checks: [
        {
          name: 'issuers',
          ready: true,
          detail: { rotating: { loaded: true, keys: 2, lastError: expect.any(String) } },
        },
      ],
    });
  });
});

describe('/readyz with an issuer whose keys never loaded', () => {
  const GOOD = 'https://good.test/pool';
  const BROKEN = 'https://broken.test/pool';
  let key: TestKey;
  let sidecar: Sidecar;

  beforeAll(async () => {
    key = await makeKey('good-key');
    const jwks = await jwksServer([key]);
    const refused = `http://127.0.0.1:${await freePort()}/jwks.json`;
    sidecar = await sidecarWith([
      issuer('good', GOOD, { jwksUri: jwks.jwksUri }, 30),
      issuer('broken', BROKEN, { jwksUri: refused }, 30),
    ]);
  });

  it('is 503 naming that issuer, with the stores still listed', async () => {
    const ready = await getJson(`${sidecar.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json.ready).toBe(false);
    expect((ready.json.stores as { name: string; ready: boolean }[]).map((s) => [s.name, s.ready])).toEqual([
      ['api', true],
      ['customers', true],
      ['internal', true],
      ['services', true],
      ['tenant-acme', true],
      ['tenant-globex', true],
    ]);
    expect(ready.json.checks).toEqual([
      {
        name: 'issuers',
        ready: false,
        detail: {
          good: expect.objectContaining({ loaded: true, keys: 1 }),
          broken: expect.objectContaining({ loaded: false, keys: 0, lastError: expect.any(String) }),
        },
      },
    ]);
  });

  it("decides for the good issuer and refuses the broken issuer's tokens", async () => {
    const good = await authorize(sidecar.url, await sign(key, claims(GOOD)), request);
    expect(good.json.decision).toBe('ALLOW');
    const broken = await authorize(sidecar.url, await sign(key, claims(BROKEN)), request);
    expect(broken.status).toBe(401);
    expect(broken.json).toMatchObject({ decision: 'DENY', reason: 'unknown_key' });
  });
});

describe('refetch rate limit', () => {
  const ISS = 'https://limited.test/pool';
  const COOLDOWN_S = 2;

  it('random unknown kids cause at most one JWKS fetch per cooldown', async () => {
    const key = await makeKey('only-key');
    const jwks = await jwksServer([key]);
    const sidecar = await sidecarWith([issuer('limited', ISS, { jwksUri: jwks.jwksUri }, COOLDOWN_S)]);
    expect(jwks.requests).toBe(1);
    let n = 0;
    const randomKid = async () => {
      const res = await authorize(
        sidecar.url,
        await sign(key, claims(ISS), { kid: `random-${n++}` }),
        request,
      );
      expect(res.status).toBe(401);
      expect(res.json.reason).toBe('unknown_key');
    };
    // Send unknown kids until the cooldown after the first fetch has passed and one refetch happens.
    await waitFor(
      async () => (await randomKid(), jwks.requests === 2),
      'a refetch after the cooldown',
      10_000,
    );
    const polled = n;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 40 }, randomKid));
    const windows = Math.floor((Date.now() - t0) / (COOLDOWN_S * 1000));
    expect(polled).toBeGreaterThan(1);
    expect(jwks.requests - 2).toBeLessThanOrEqual(windows);
  });
});
