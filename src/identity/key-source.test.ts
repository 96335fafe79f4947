import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type FlattenedJWSInput, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthzError } from '../core/errors.js';
import { KeySource, type KeyLocation } from './key-source.js';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

/** A JWKS (and discovery) endpoint on 127.0.0.1 whose answers the tests change. */
const endpoint = {
  keys: [] as JWK[],
  body: undefined as string | undefined,
  status: 200,
  /** How many of the next JWKS requests get their connection closed without an answer. */
  hangUps: 0,
  /** While set, JWKS answers wait for it (to hold a fetch in flight). */
  gate: undefined as Promise<void> | undefined,
  requests: 0,
  discoveryRequests: 0,
  /** The issuer the discovery document names (default: the server's own URL). */
  discoveryIssuer: undefined as string | undefined,
};
let server: Server;
let base: string;
let k1: JWK;
let k2: JWK;

beforeAll(async () => {
  [k1, k2] = await Promise.all([publicJwk('k1'), publicJwk('k2')]);
  server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      endpoint.discoveryRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ issuer: endpoint.discoveryIssuer ?? base, jwks_uri: `${base}/jwks.json` }),
      );
    }
    endpoint.requests++;
    if (endpoint.hangUps > 0) {
      endpoint.hangUps--;
      return void req.socket.destroy();
    }
    void (endpoint.gate ?? Promise.resolve()).then(() => {
      res.writeHead(endpoint.status, { 'content-type': 'application/json' });
      res.end(endpoint.body ?? JSON.stringify({ keys: endpoint.keys }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sources: KeySource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.stop();
  Object.assign(endpoint, {
    keys: [],
    body: undefined,
    status: 200,
    gate: undefined,
    requests: 0,
    hangUps: 0,
  });
  endpoint.discoveryRequests = 0;
  endpoint.discoveryIssuer = undefined;
});

/** A key source on a fake clock (milliseconds), so cooldowns are exact. */
function source(cooldownSeconds: number, location: KeyLocation = { kind: 'uri', uri: `${base}/jwks.json` }) {
  const clock = { now: 1_000_000 };
  const ks = new KeySource({ location, refreshSeconds: 600, cooldownSeconds, now: () => clock.now });
  sources.push(ks);
  return { ks, clock };
}

const input = { payload: '', signature: '' } as FlattenedJWSInput;
const lookup = (ks: KeySource, kid: string) => ks.getKey({ alg: 'ES256', kid }, input);
const unknownKey = (p: Promise<unknown>) =>
  expect(p).rejects.toSatisfy((e) => e instanceof AuthzError && e.code === 'unknown_key');

describe('KeySource', () => {
  it('loads the keys at start and reports them', async () => {
    endpoint.keys = [k1];
    const { ks } = source(30);
    await ks.start();
    expect(ks.status()).toMatchObject({ loaded: true, keys: 1 });
    expect(ks.status().lastRefresh).toBeDefined();
    await expect(lookup(ks, 'k1')).resolves.toBeDefined();
    expect(endpoint.requests).toBe(1);
  });

  it('refetches once for an unknown kid after the cooldown, not within it', async () => {
    endpoint.keys = [k1];
    const { ks, clock } = source(30);
    await ks.start();
    endpoint.keys = [k1, k2];
    await unknownKey(lookup(ks, 'k2'));
    expect(endpoint.requests).toBe(1); // within the cooldown of the first fetch
    clock.now += 30_000;
    await expect(lookup(ks, 'k2')).resolves.toBeDefined();
    expect(endpoint.requests).toBe(2);
    // A known kid never refetches.
    clock.now += 60_000;
    await lookup(ks, 'k1');
    expect(endpoint.requests).toBe(2);
  });

  it('a flood of random unknown kids costs at most one fetch per cooldown', async () => {
    endpoint.keys = [k1];
    const { ks, clock } = source(10);
    await ks.start();
    for (let window = 1; window <= 3; window++) {
      clock.now += 10_000;
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => unknownKey(lookup(ks, `random-${window}-${i}`))),
      );
      for (let i = 0; i < 20; i++) {
        clock.now += 400; // still within the window opened by the first unknown kid
        await unknownKey(lookup(ks, `later-${window}-${i}`));
      }
      expect(endpoint.requests).toBe(1 + window);
    }
  });

  it('lookups that arrive while a refetch is in flight wait for it instead of failing', async () => {
    endpoint.keys = [k1];
    const { ks, clock } = source(30);
    await ks.start();
    clock.now += 31_000;
    endpoint.keys = [k1, k2];
    let open!: () => void;
    endpoint.gate = new Promise((resolve) => (open = resolve));
    const first = lookup(ks, 'k2');
    const others = [lookup(ks, 'k2'), lookup(ks, 'k2')];
    open();
    await expect(first).resolves.toBeDefined();
    await expect(Promise.all(others)).resolves.toHaveLength(2);
    expect(endpoint.requests).toBe(2);
  });

  it('keeps serving cached keys while the endpoint fails, and says why', async () => {
    endpoint.keys = [k1];
    const { ks, clock } = source(0);
    await ks.start();
    endpoint.status = 503;
    clock.now += 1;
    await unknownKey(lookup(ks, 'k2'));
    expect(endpoint.requests).toBe(2);
    await expect(lookup(ks, 'k1')).resolves.toBeDefined();
    expect(ks.status()).toMatchObject({ loaded: true, keys: 1, lastError: expect.stringContaining('503') });
  });

  it('a malformed, empty or unusable key set does not replace a good one', async () => {
    endpoint.keys = [k1];
    const { ks } = source(0);
    await ks.start();
    const bodies = ['not json', '{"no":"keys"}', '{"keys":"k1"}', '{"keys":[]}', '{"keys":[{"kty":"nope"}]}'];
    for (const body of bodies) {
      endpoint.body = body;
      await ks.refresh();
      await expect(lookup(ks, 'k1')).resolves.toBeDefined();
      expect(ks.status()).toMatchObject({ loaded: true, keys: 1 });
      expect(ks.status().lastError).toBeDefined();
    }
  });

  it('sends a GET again once when the connection closes before an answer (a stale keep-alive socket)', async () => {
    endpoint.keys = [k1];
    endpoint.hangUps = 1;
    const { ks } = source(30);
    await ks.start();
    expect(ks.status()).toMatchObject({ loaded: true, keys: 1 });
    expect(endpoint.requests).toBe(2);
    // Twice in a row is a failed fetch, reported with its cause.
    endpoint.hangUps = 2;
    await ks.refresh();
    expect(ks.status()).toMatchObject({ loaded: true, lastError: expect.stringMatching(/failed: \w+/) });
    expect(endpoint.requests).toBe(4);
  });

  it('never loaded: not ready, and every lookup is unknown_key', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { ks } = source(30, { kind: 'uri', uri: `http://127.0.0.1:${port}/jwks.json` });
    await ks.start();
    expect(ks.status()).toMatchObject({
      loaded: false,
      keys: 0,
      lastError: expect.stringContaining('ECONNREFUSED'),
    });
    await unknownKey(lookup(ks, 'k1'));
  });

  it('finds the JWKS through OIDC discovery', async () => {
    endpoint.keys = [k1, k2];
    const { ks } = source(30, { kind: 'discovery', issuer: `${base}/` });
    await ks.start();
    expect(endpoint.discoveryRequests).toBe(1);
    expect(ks.status()).toMatchObject({ loaded: true, keys: 2 });
  });

  it('refuses a discovery document that names another issuer', async () => {
    endpoint.keys = [k1];
    endpoint.discoveryIssuer = 'https://attacker.example';
    const { ks } = source(30, { kind: 'discovery', issuer: base });
    await ks.start();
    expect(endpoint.requests).toBe(0); // its jwks_uri is never fetched
    expect(ks.status()).toMatchObject({
      loaded: false,
      lastError: expect.stringContaining('names issuer "https://attacker.example"'),
    });
    await unknownKey(lookup(ks, 'k1'));
  });

  it('reads a local JWKS file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jwks-'));
    const file = path.join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [k2] }));
    const { ks } = source(30, { kind: 'file', path: file });
    await ks.start();
    await expect(lookup(ks, 'k2')).resolves.toBeDefined();
  });
});
