import type { CedarValue, Entity } from '../cedar/types.js';
import type { CallerType } from '../core/decision.js';

/** A verified caller: who the token proves is asking, mapped to Cedar. */
export interface Caller {
  type: CallerType;
  /** Name of the issuer (from config) that vouched for the token. */
  issuer: string;
  /** The principal entity, attributes and parents from the verified token only. */
  principal: Entity;
  /**
   * Entity types only the token may supply (user, group, service): a request that brings its own
   * entity of one of these types could forge a principal or a group hierarchy, so it is refused.
   */
  protectedTypes: string[];
  /**
   * Context keys only the token may supply (the access-token claims key, `token` by default): a
   * request that brings its own `context.token` could forge scopes for policies that trust them,
   * so it is refused, whatever kind of token the caller holds.
   */
  protectedContextKeys: string[];
  /** Token claims the policies see in `context` (scope, client_id…). */
  context: Record<string, CedarValue>;
  /** The verified claims, for routing by claim. Never logged whole. */
  claims: Record<string, unknown>;
  /** Token expiry, seconds since the epoch. */
  expiresAt?: number;
  /** Claims the issuer's attribute mapping names that the token lacks, with the attribute each fills. */
  missingClaims?: { claim: string; attribute: string }[];
}

/** Verifies a bearer token. Throws AuthzError with a token error code when it cannot. */
export interface Identifier {
  identify(token: string | undefined): Promise<Caller>;
}

/** What routing looks at: the caller type, and for token callers the issuer and verified claims. */
export interface RouteInput {
  callerType: CallerType;
  issuer?: string;
  claims?: Record<string, unknown>;
}

/** Picks the policy store for a caller; undefined means no route (DENY `no_store`). */
export interface Router {
  route(input: RouteInput): string | undefined;
}
