import path from 'node:path';
import type { IssuerConfig } from '../config/index.js';
import { AuthzError, type ErrorCode } from '../core/errors.js';
import type { ReadinessCheck } from '../core/health.js';
import { createCognitoDirectory, type UserDirectory } from './cognito-directory.js';
import { createEnricher, regionOfPool, type Enricher, type LookupOutcome } from './enrich.js';
import { KeySource, type KeyLocation } from './key-source.js';
import { defaultPrefix, toCaller } from './to-caller.js';
import type { Caller, Identifier } from './types.js';
import { verifyToken, type TrustedIssuer } from './verify-token.js';

/** Remembers verified callers by token (the token cache implements it); only successes go in. */
export interface CallerCache {
  get(token: string): Caller | undefined;
  set(token: string, caller: Caller, expiresAt?: number): void;
}

export interface IdentifierDeps {
  issuers: IssuerConfig[];
  /** Folder that relative `jwksFile` paths resolve against. */
  baseDir: string;
  maxTokenBytes: number;
  cache?: CallerCache;
  /** Called once per verification (not for cache hits): the metrics count results by reason. */
  onVerification?: (result: 'success' | 'failure', reason: ErrorCode | 'ok') => void;
  /** Counts user-pool lookups (enrichment and registered clients). */
  onLookup?: (kind: 'user' | 'client', outcome: LookupOutcome) => void;
  /** Replaces the Cognito client (tests); by default one per issuer with a `cognito` section. */
  directoryFor?: (issuer: IssuerConfig) => UserDirectory;
}

export interface TokenIdentifier extends Identifier {
  start(): Promise<void>;
  stop(): void;
  readiness: ReadinessCheck;
}

/**
 * Verifies bearer tokens against the configured issuers and maps them to callers. Keys load at
 * start; an issuer whose keys never loaded makes `/readyz` red, one whose endpoint went down
 * later keeps serving with the keys it has.
 */
export function createIdentifier(deps: IdentifierDeps): TokenIdentifier {
  const trusted = new Map<string, TrustedIssuer>();
  for (const config of deps.issuers) {
    const location: KeyLocation = config.jwksFile
      ? { kind: 'file', path: path.resolve(deps.baseDir, config.jwksFile) }
      : config.jwksUri
        ? { kind: 'uri', uri: config.jwksUri }
        : { kind: 'discovery', issuer: config.issuer };
    const keys = new KeySource({
      location,
      refreshSeconds: config.jwksRefreshSeconds,
      cooldownSeconds: config.jwksCooldownSeconds,
    });
    trusted.set(config.issuer, { config, keys, prefix: defaultPrefix(config) });
  }

  const enrichers = new Map<string, Enricher>();
  for (const issuer of trusted.values()) {
    const cognito = issuer.config.cognito;
    if (!cognito || !(cognito.enrichUsers || cognito.registeredClients)) continue;
    const userPoolId = cognito.userPoolId ?? issuer.prefix;
    const region = cognito.region ?? regionOfPool(userPoolId) ?? 'us-east-1';
    const directory =
      deps.directoryFor?.(issuer.config) ??
      createCognitoDirectory({
        userPoolId,
        region,
        timeoutMs: cognito.timeoutMs,
        ...(cognito.endpoint ? { endpoint: cognito.endpoint } : {}),
      });
    enrichers.set(
      issuer.config.name,
      createEnricher({
        issuer,
        directory,
        ttlSeconds: cognito.ttlSeconds,
        maxEntries: cognito.maxEntries,
        ...(deps.onLookup ? { onLookup: deps.onLookup } : {}),
      }),
    );
  }

  /** The verified caller, from the token cache or by verifying now. */
  async function verified(token: string | undefined): Promise<Caller> {
    const cached = token ? deps.cache?.get(token) : undefined;
    if (cached) return cached;
    try {
      const caller = toCaller(await verifyToken(token, trusted, deps.maxTokenBytes));
      deps.onVerification?.('success', 'ok');
      deps.cache?.set(token!, caller, caller.expiresAt);
      return caller;
    } catch (err) {
      const code = err instanceof AuthzError ? err.code : 'invalid_token';
      deps.onVerification?.('failure', code);
      throw err instanceof AuthzError ? err : new AuthzError('invalid_token');
    }
  }

  /** Verification is cached per token; enrichment after it has its own per-user TTL. */
  async function identify(token: string | undefined): Promise<Caller> {
    const caller = await verified(token);
    const enricher = enrichers.get(caller.issuer);
    return enricher ? enricher.enrich(caller) : caller;
  }

  return {
    identify,
    async start() {
      await Promise.all([...trusted.values()].map((t) => t.keys.start()));
    },
    stop() {
      for (const t of trusted.values()) t.keys.stop();
    },
    readiness: {
      name: 'issuers',
      check() {
        const detail = Object.fromEntries([...trusted.values()].map((t) => [t.config.name, t.keys.status()]));
        return { ready: [...trusted.values()].every((t) => t.keys.status().loaded), detail };
      },
    },
  };
}
