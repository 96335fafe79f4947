import { createHmac } from 'node:crypto';
import { exportSPKI, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { authorize, onAccount, PAYMENTS_TYPES, TOKEN_CONTEXT } from '../support/authorize.js';
import {
  makeKey,
  nowSeconds,
  sign,
  startJwksServer,
  type JwksServer,
  type TestKey,
} from '../support/keys.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';

const ISS = 'https://idp.test/users';
const ACCESS_ONLY_ISS = 'https://idp.test/access-only';
const SKEW = 30;

let key: TestKey;
let ecKey: TestKey;
let stranger: TestKey;
let jwks: JwksServer;
let sidecar: Sidecar;

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An ID token that the sample policies allow to initiate a payment from acme-ops. */
function idClaims(overrides: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    iss: ISS,
    sub: 'alice-sub',
    aud: 'web-app',
    token_use: 'id',
    'cognito:username': 'alice',
    'cognito:groups': ['PAYMENT_INITIATOR'],
    'custom:tenantId': 'acme',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

const request = onAccount('InitiatePayment', 'acme-ops');

beforeAll(async () => {
  key = await makeKey('key-1', 'RS256');
  ecKey = await makeKey('key-ec', 'ES256');
  stranger = await makeKey('stranger', 'RS256');
  jwks = await startJwksServer([key.publicJwk, ecKey.publicJwk]);
  const common = {
    jwksUri: jwks.jwksUri,
    algorithms: ['RS256', 'ES256'],
    clockSkewSeconds: SKEW,
    // No refetch for unknown kids during this file (rate limiting has its own tests).
    jwksCooldownSeconds: 3600,
    groupIdFormat: 'name',
    entityTypes: PAYMENTS_TYPES,
    attributes: { 'custom:tenantId': 'tenantId' },
    accessTokenContext: TOKEN_CONTEXT,
  };
  sidecar = await startTestSidecar({
    policies: { watch: false },
    issuers: [
      { name: 'idp', issuer: ISS, audiences: ['web-app'], tokenUse: ['id', 'access'], ...common },
      {
        name: 'idp-access',
        issuer: ACCESS_ONLY_ISS,
        audiences: ['web-app'],
        tokenUse: ['access'],
        ...common,
      },
    ],
    routes: [{ callerType: 'user', store: 'customers' }],
  });
});

afterAll(async () => {
  await sidecar?.close();
  await jwks?.stop();
});

/** A refused token: 401, DENY with the reason, the RFC 6750 challenge, and no trace of the token. */
async function expectRefused(token: string, reason: string, via: 'header' | 'body' = 'header') {
  const res =
    via === 'header'
      ? await authorize(sidecar.url, token, request)
      : await postJson(`${sidecar.url}/v1/authorize`, { ...request, token });
  expect(res.status, `${reason}: ${res.text}`).toBe(401);
  expect(res.json).toEqual({ decision: 'DENY', reason, message: expect.any(String) });
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="authz-sidecar", error="invalid_token"');
  expectNoTrace(res, token);
}

/** Neither the body nor any header holds the token or one of its parts. */
function expectNoTrace(res: { text: string; headers: Headers }, token: string) {
  const parts = token.split('.').filter((p) => p.length >= 16);
  const everything = [res.text, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)].join('\n');
  if (token.length >= 16) expect(everything).not.toContain(token);
  for (const part of parts) expect(everything).not.toContain(part);
}

describe('the valid token these cases start from', () => {
  it('is allowed (so every refusal below is the sidecar refusing it)', async () => {
    const res = await authorize(sidecar.url, await sign(key, idClaims()), request);
    expect(res.status).toBe(200);
    expect(res.json.decision).toBe('ALLOW');
    expectNoTrace(res, await sign(key, idClaims()));
    const ec = await authorize(sidecar.url, await sign(ecKey, idClaims()), request);
    expect(ec.json.decision).toBe('ALLOW');
  });
});

describe('hostile tokens: 401 with the reason, never ALLOW', () => {
  it('alg none (unsigned) → algorithm_not_allowed', async () => {
    const unsigned = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(idClaims()))}.`;
    await expectRefused(unsigned, 'algorithm_not_allowed');
    const withKid = `${b64url(JSON.stringify({ alg: 'none', kid: key.kid }))}.${b64url(JSON.stringify(idClaims()))}.`;
    await expectRefused(withKid, 'algorithm_not_allowed');
  });

  it("HS256 signed with the issuer's public key (PEM bytes, JWK bytes) → algorithm_not_allowed", async () => {
    const pem = await exportSPKI(key.publicKey);
    for (const secret of [pem, JSON.stringify(key.publicJwk), key.publicJwk.n!]) {
      const forged = await new SignJWT(idClaims())
        .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(forged, 'algorithm_not_allowed');
    }
    // Hand-made too, in case a library ever refused to sign with such a key.
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: key.kid }))}.${b64url(JSON.stringify(idClaims()))}`;
    const mac = createHmac('sha256', pem).update(input).digest('base64url');
    await expectRefused(`${input}.${mac}`, 'algorithm_not_allowed');
  });

  it('an asymmetric algorithm the issuer is not configured for → algorithm_not_allowed', async () => {
    const ps = await makeKey('key-1', 'PS256');
    await expectRefused(await sign(ps, idClaims()), 'algorithm_not_allowed');
  });

  it('wrong issuer (right key) → wrong_issuer, also a trailing-slash variant and no iss', async () => {
    await expectRefused(await sign(key, idClaims({ iss: 'https://evil.test/users' })), 'wrong_issuer');
    await expectRefused(await sign(key, idClaims({ iss: `${ISS}/` })), 'wrong_issuer');
    const { iss: _iss, ...noIss } = idClaims();
    await expectRefused(await sign(key, noIss), 'wrong_issuer');
  });

  it('a token of an issuer that is not trusted, with its own key → wrong_issuer', async () => {
    await expectRefused(await sign(stranger, idClaims({ iss: 'https://other-pool.test/x' })), 'wrong_issuer');
  });

  it('wrong audience → wrong_audience (ID token aud, access token client_id, neither)', async () => {
    await expectRefused(await sign(key, idClaims({ aud: 'other-app' })), 'wrong_audience');
    await expectRefused(await sign(key, idClaims({ aud: ['other-app', 'third-app'] })), 'wrong_audience');
    const { aud: _aud, ...noAud } = idClaims({ token_use: 'access', client_id: 'other-app' });
    await expectRefused(await sign(key, noAud), 'wrong_audience');
    const { client_id: _c, ...neither } = noAud;
    await expectRefused(await sign(key, neither), 'wrong_audience');
  });

  it('expired beyond the skew → expired; expired within the skew is accepted', async () => {
    const now = nowSeconds();
    await expectRefused(await sign(key, idClaims({ iat: now - 900, exp: now - SKEW - 60 })), 'expired');
    const res = await authorize(
      sidecar.url,
      await sign(key, idClaims({ iat: now - 900, exp: now - 5 })),
      request,
    );
    expect(res.status).toBe(200);
    expect(res.json.decision).toBe('ALLOW');
  });

  it('not yet valid (nbf beyond the skew) → not_yet_valid; nbf within the skew is accepted', async () => {
    const now = nowSeconds();
    await expectRefused(await sign(key, idClaims({ nbf: now + SKEW + 120 })), 'not_yet_valid');
    const res = await authorize(sidecar.url, await sign(key, idClaims({ nbf: now + 5 })), request);
    expect(res.json.decision).toBe('ALLOW');
  });

  it('no exp at all → invalid_token', async () => {
    const { exp: _exp, ...noExp } = idClaims();
    await expectRefused(await sign(key, noExp), 'invalid_token');
  });

  it('unknown kid → unknown_key (also a known kid with the wrong key type)', async () => {
    await expectRefused(await sign(stranger, idClaims(), { kid: 'no-such-key' }), 'unknown_key');
    const ecUnderRsaKid = await makeKey('key-1', 'ES256');
    await expectRefused(await sign(ecUnderRsaKid, idClaims()), 'unknown_key');
  });

  it("another key under the issuer's kid, or an embedded jwk header → invalid_signature", async () => {
    await expectRefused(await sign(stranger, idClaims(), { kid: key.kid }), 'invalid_signature');
    const embedded = await sign(stranger, idClaims(), { kid: key.kid, jwk: stranger.publicJwk });
    await expectRefused(embedded, 'invalid_signature');
  });

  it('a tampered payload with the original signature → invalid_signature', async () => {
    const [h, , s] = (await sign(key, idClaims())).split('.');
    const tampered = b64url(
      JSON.stringify(idClaims({ 'custom:tenantId': 'globex', 'cognito:groups': ['TREASURER'] })),
    );
    await expectRefused(`${h}.${tampered}.${s}`, 'invalid_signature');
    // The same signature on a re-encoded but equal payload is still another signing input.
    const [h2, p2, s2] = (await sign(key, idClaims())).split('.');
    const reencoded = b64url(JSON.stringify(JSON.parse(Buffer.from(p2!, 'base64url').toString()), null, 1));
    await expectRefused(`${h2}.${reencoded}.${s2}`, 'invalid_signature');
  });

  it('an ID token where only access tokens are accepted → wrong_token_use; no token_use at all too', async () => {
    await expectRefused(await sign(key, idClaims({ iss: ACCESS_ONLY_ISS })), 'wrong_token_use');
    const { token_use: _t, ...noUse } = idClaims();
    await expectRefused(await sign(key, noUse), 'wrong_token_use');
    const access = idClaims({ iss: ACCESS_ONLY_ISS, token_use: 'access', client_id: 'web-app' });
    const { aud: _a, ...accessToken } = access;
    const res = await authorize(sidecar.url, await sign(key, accessToken), request);
    expect(res.status).not.toBe(401);
  });

  it('truncated tokens → malformed_token or invalid_signature', async () => {
    const token = await sign(key, idClaims());
    const [h, p, s] = token.split('.') as [string, string, string];
    await expectRefused(`${h}.${p}`, 'malformed_token');
    await expectRefused(`${h}.${p.slice(0, p.length / 2)}`, 'malformed_token');
    await expectRefused(token.slice(0, h.length + 10), 'malformed_token');
    await expectRefused(`${h}.${p.slice(0, -7)}.${s}`, 'malformed_token');
    await expectRefused(`${h}.${p}.${s.slice(0, -10)}`, 'invalid_signature');
    await expectRefused(`${h}.${p}.`, 'invalid_signature');
  });

  it('a 100 KB token → malformed_token in the body; in a header Node refuses it before the sidecar (431)', async () => {
    const huge = await sign(key, idClaims({ padding: 'x'.repeat(100_000) }));
    expect(huge.length).toBeGreaterThan(100_000);
    await expectRefused(huge, 'malformed_token', 'body');
    const res = await authorize(sidecar.url, huge, request);
    expect(res.status).toBe(431);
    expect(res.text).not.toContain('ALLOW');
  });

  it('garbage → malformed_token', async () => {
    const garbage = [
      'garbage',
      'a.b.c',
      'a.b',
      '..',
      'eyJ.eyJ.eyJ',
      'not%20base64.at+all.x',
      `${b64url('{"alg":"RS256"')}.${b64url('{}')}.${b64url('sig')}`,
      `${b64url('[]')}.${b64url('{}')}.sig`,
      `${b64url(JSON.stringify({ alg: 'RS256' }))}.${b64url('not json')}.sig`,
      `${b64url(JSON.stringify({ alg: 'RS256' }))}.${b64url('"a string"')}.sig`,
      `${b64url(JSON.stringify({ alg: 'RS256', kid: 'key-1' }))}.${b64url(JSON.stringify(idClaims()))}.sig.extra.parts`,
    ];
    for (const g of garbage) await expectRefused(g, 'malformed_token');
    await expectRefused('ünïcödé.tøkén.✓', 'malformed_token', 'body');
  });

  it('a missing token → missing_token with a bare Bearer challenge', async () => {
    const challenges: Record<string, string>[] = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of challenges) {
      const res = await postJson(`${sidecar.url}/v1/authorize`, request, headers);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ decision: 'DENY', reason: 'missing_token' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="authz-sidecar"');
    }
  });

  it('a token in the body is verified like one in the header, and the header wins', async () => {
    const good = await sign(key, idClaims());
    const bad = await sign(key, idClaims({ aud: 'other-app' }));
    await expectRefused(bad, 'wrong_audience', 'body');
    const headerWins = await postJson(
      `${sidecar.url}/v1/authorize`,
      { ...request, token: good },
      { authorization: `Bearer ${bad}` },
    );
    expect(headerWins.status).toBe(401);
    expect(headerWins.json.reason).toBe('wrong_audience');
  });
});
