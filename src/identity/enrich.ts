import { LRUCache } from 'lru-cache';
import { AuthzError } from '../core/errors.js';
import { claimValue } from './claims.js';
import type { DirectoryClient, DirectoryUser, UserDirectory } from './cognito-directory.js';
import { isAccessToken, toCaller } from './to-caller.js';
import type { Caller } from './types.js';
import type { TrustedIssuer, VerifiedToken } from './verify-token.js';

export type LookupOutcome = 'hit' | 'lookup' | 'failure' | 'unknown';

export interface EnricherOptions {
  issuer: TrustedIssuer;
  directory: UserDirectory;
  ttlSeconds: number;
  maxEntries: number;
  /** Counts lookups by kind and outcome, for metrics. */
  onLookup?: (kind: 'user' | 'client', outcome: LookupOutcome) => void;
}

/** Applies the issuer's Cognito lookups to a verified caller. */
export interface Enricher {
  enrich(caller: Caller): Promise<Caller>;
}

/**
 * Completes callers from the user pool. A user is looked up when the token is an access token
 * (which carries no custom attributes) or lacks a mapped attribute; the pool's attributes and
 * groups then replace the token's, mapped exactly as ID-token claims are. A client-credentials
 * caller must be a registered app client; its name and allowed scopes become attributes.
 * Results are cached per user or client for the TTL, so a removed group or a deleted client
 * takes effect within it. A failed lookup is `enrichment_failed`: never a decision on partial data.
 */
export function createEnricher(o: EnricherOptions): Enricher {
  const config = o.issuer.config;
  const cognito = config.cognito!;
  const ttl = o.ttlSeconds * 1000;
  // The LRU bounds memory; expiry is checked here against Date.now() so it is exact and testable.
  type Entry<T> = { found: T | null; expiresAt: number };
  const users = new LRUCache<string, Entry<DirectoryUser>>({ max: o.maxEntries });
  const clients = new LRUCache<string, Entry<DirectoryClient>>({ max: o.maxEntries });
  // One lookup per key at a time: when an entry expires under load, concurrent requests share it.
  const inFlight = new Map<string, Promise<unknown>>();

  async function cached<T>(
    kind: 'user' | 'client',
    cache: LRUCache<string, Entry<T>>,
    key: string,
    fetch: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const hit = cache.get(key);
    if (hit && hit.expiresAt > Date.now()) {
      o.onLookup?.(kind, 'hit');
      return hit.found ?? undefined;
    }
    const flightKey = `${kind}\u0000${key}`;
    const pending = inFlight.get(flightKey) as Promise<T | undefined> | undefined;
    if (pending) {
      o.onLookup?.(kind, 'hit');
      return pending;
    }
    const lookup = (async () => {
      let found: T | undefined;
      try {
        found = await fetch();
      } catch (err) {
        o.onLookup?.(kind, 'failure');
        throw new AuthzError('enrichment_failed', undefined, { cause: err });
      }
      o.onLookup?.(kind, found ? 'lookup' : 'unknown');
      cache.set(key, { found: found ?? null, expiresAt: Date.now() + ttl });
      return found;
    })();
    inFlight.set(flightKey, lookup);
    try {
      return await lookup;
    } finally {
      inFlight.delete(flightKey);
    }
  }

  function needsUserLookup(caller: Caller): boolean {
    if (!cognito.enrichUsers) return false;
    if (isAccessToken(caller.claims)) return true;
    return Object.keys(config.attributes).some((claim) => claimValue(caller.claims, claim) === undefined);
  }

  return {
    async enrich(caller) {
      if (caller.type === 'service') {
        if (!cognito.registeredClients) return caller;
        const client = await cached('client', clients, caller.principal.uid.id, () =>
          o.directory.client(caller.principal.uid.id),
        );
        if (!client) throw new AuthzError('unknown_client');
        return {
          ...caller,
          principal: {
            ...caller.principal,
            attrs: { ...caller.principal.attrs, clientName: client.name, allowedScopes: client.scopes },
          },
        };
      }
      if (!needsUserLookup(caller)) return caller;
      const username = String(
        claimValue(caller.claims, 'username') ??
          claimValue(caller.claims, 'cognito:username') ??
          caller.claims.sub,
      );
      const user = await cached('user', users, username, () => o.directory.user(username));
      if (!user) throw new AuthzError('enrichment_failed', 'The user is not in the user pool.');
      if (!user.enabled) throw new AuthzError('enrichment_failed', 'The user is disabled in the user pool.');
      // The pool's data as ID-token claims would carry them; identity claims stay the token's.
      const claims = {
        ...caller.claims,
        ...user.attributes,
        [config.groupsClaim]: user.groups,
        sub: caller.claims.sub,
        token_use: caller.claims.token_use,
      };
      // Map as an ID token is mapped (principal, parents, attributes, caller type); the context keeps
      // the access token's claims. Routing sees the enriched claims too, so a store picked from
      // `custom:tenantId` is the same for the access token as for the matching ID token.
      const asId = toCaller({
        issuer: o.issuer,
        claims: { ...claims, token_use: 'id' } as VerifiedToken['claims'],
      });
      return { ...caller, type: asId.type, principal: asId.principal, claims };
    },
  };
}

/** `eu-west-1_AbCdEf` → `eu-west-1`. */
export function regionOfPool(poolId: string): string | undefined {
  return /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(poolId)?.[1];
}
