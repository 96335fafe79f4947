import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** The development issuer's fixed names; config/dev.yaml trusts exactly these. */
export const DEV_ISSUER = 'urn:authz-sidecar:dev';
export const DEV_AUDIENCE = 'authz-sidecar-dev';
const ALG = 'ES256';

const files = (dir: string) => ({
  privateKey: path.join(dir, 'private.jwk.json'),
  jwks: path.join(dir, 'jwks.json'),
});

/**
 * Makes sure a development signing key exists in `dir` (generated on first use, git-ignored) and
 * returns whether it was created now. The public half is written as a JWKS file the sidecar
 * trusts through an ordinary `jwksFile` issuer.
 */
export async function ensureDevKeys(dir: string): Promise<{ created: boolean; jwksFile: string }> {
  const f = files(dir);
  if (existsSync(f.privateKey) && existsSync(f.jwks)) return { created: false, jwksFile: f.jwks };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg: ALG, use: 'sig' };
  writeFileSync(f.privateKey, JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }, null, 2), {
    mode: 0o600,
  });
  writeFileSync(f.jwks, JSON.stringify({ keys: [{ ...publicJwk, ...meta }] }, null, 2));
  return { created: true, jwksFile: f.jwks };
}

export interface DevTokenOptions {
  keyDir: string;
  issuer?: string;
  /** A user (ID token, Cognito-shaped) or a service (client-credentials access token). */
  kind: 'user' | 'service';
  sub?: string;
  groups?: string[];
  claims?: Record<string, string>;
  clientId?: string;
  scopes?: string[];
  expiresInSeconds?: number;
}

/** Signs a development token shaped like Cognito's: an ID token for a user, an access token for a service. */
export async function mintDevToken(o: DevTokenOptions): Promise<string> {
  await ensureDevKeys(o.keyDir);
  const jwk = JSON.parse(readFileSync(files(o.keyDir).privateKey, 'utf8')) as JWK & { kid: string };
  const key = await importJWK(jwk, ALG);
  let payload: Record<string, unknown>;
  if (o.kind === 'service') {
    if (!o.clientId) throw new Error('a service token needs --client-id');
    payload = {
      sub: o.clientId,
      client_id: o.clientId,
      token_use: 'access',
      scope: (o.scopes ?? []).join(' '),
    };
  } else {
    if (!o.sub) throw new Error('a user token needs --sub');
    payload = {
      sub: o.sub,
      aud: DEV_AUDIENCE,
      token_use: 'id',
      'cognito:username': o.sub,
      ...(o.groups?.length ? { 'cognito:groups': o.groups } : {}),
      ...o.claims,
    };
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALG, kid: jwk.kid, typ: 'JWT' })
    .setIssuer(o.issuer ?? DEV_ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${o.expiresInSeconds ?? 3600}s`)
    .sign(key);
}
