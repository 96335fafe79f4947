import type { RouteConfig } from '../config/index.js';
import { claimValue } from '../identity/claims.js';
import type { RouteInput, Router } from '../identity/types.js';

/**
 * Routes a caller to a policy store: the first route whose caller type, issuer and claim all
 * match wins; its store is named, or built from a claim (one store per tenant). A route condition on a claim never matches a caller without claims (AuthZEN
 * subjects), so claim-routed stores are reachable only with a verified token.
 */
export function createRouter(routes: RouteConfig[]): Router {
  return {
    route(input: RouteInput): string | undefined {
      for (const r of routes) {
        if (r.callerType !== undefined && r.callerType !== input.callerType) continue;
        if (r.issuer !== undefined && r.issuer !== input.issuer) continue;
        if (r.claim) {
          const value = input.claims ? claimValue(input.claims, r.claim.name) : undefined;
          const matches = Array.isArray(value) ? value.includes(r.claim.equals) : value === r.claim.equals;
          if (!matches) continue;
        }
        if (r.store !== undefined) return r.store;
        const value = input.claims ? claimValue(input.claims, r.storeFromClaim!.claim) : undefined;
        // Only a plain name may pick a store: no separators, no way to reach another store's name space.
        if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) return undefined;
        return r.storeFromClaim!.template.replaceAll('{value}', value);
      }
      return undefined;
    },
  };
}
