import type { Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { closeServer, listen } from './peers.js';

/** A signing key of a test issuer: the private key and its public JWK (with kid, alg, use). */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Signs a token with `key`. The payload is used as given (no defaults are added) so tests can leave
 * claims out; `header` fields override the defaults (alg and kid of the key).
 */
export function sign(
  key: TestKey,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/**
 * A JWKS endpoint on 127.0.0.1 that counts its requests; its key set can change, and it can stop
 * (connections refused) and start again on the same port.
 */
export interface JwksServer {
  /** `http://127.0.0.1:PORT/jwks.json` */
  jwksUri: string;
  /** GETs of the JWKS so far. */
  readonly requests: number;
  keys: JWK[];
  stop(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let requests = 0;
  const state = { keys };
  const { server, url } = await listen((req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  let live: Server | undefined = server;
  return {
    jwksUri: `${url}/jwks.json`,
    get requests() {
      return requests;
    },
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    async stop() {
      if (live) await closeServer(live);
      live = undefined;
    },
  };
}
