import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { closeServer, listen } from './peers.js';

/** The API (resource indicator) the services ask tokens for; it becomes the tokens' `aud`. */
export const PAYMENTS_API = 'https://payments.example/api';
export const API_SCOPES = ['payments/settle', 'payments/read', 'payments/screen'];

export interface OidcClient {
  client_id: string;
  client_secret: string;
  /** Scopes the client may ask for. */
  scope: string;
}

export interface OidcProvider {
  /** The issuer, `http://127.0.0.1:PORT` (discovery at `/.well-known/openid-configuration`). */
  issuer: string;
  close(): Promise<void>;
}

/**
 * Starts the real `oidc-provider` on an ephemeral port of 127.0.0.1 with the client-credentials
 * grant, and resource indicators that make a token request with `resource=PAYMENTS_API` return an
 * RS256 JWT access token for that API.
 */
export async function startOidcProvider(clients: OidcClient[]): Promise<OidcProvider> {
  const app: { callback?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  // Listen first: the provider must know its issuer URL (with the port) when it is created.
  const { server, url } = await listen((req, res) => {
    if (app.callback) app.callback(req, res);
    else res.writeHead(503).end();
  });
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'oidc-provider-1', alg: 'RS256', use: 'sig' };
  const provider = new Provider(url, {
    clients: clients.map((c) => ({
      ...c,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    scopes: API_SCOPES,
    ttl: { ClientCredentials: 300 },
    jwks: { keys: [signingKey] },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => PAYMENTS_API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== PAYMENTS_API) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(' '),
            audience: PAYMENTS_API,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 300,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  app.callback = provider.callback();
  return { issuer: url, close: () => closeServer(server) };
}

/** A real token request: client_credentials, client_secret_basic, a resource and scopes. */
export async function clientCredentialsToken(
  issuer: string,
  client: OidcClient,
  scopes: string[],
  resource = PAYMENTS_API,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const basic = Buffer.from(
    `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
  ).toString('base64');
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' '), resource }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
