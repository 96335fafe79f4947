import type { DescribedSchema } from '../cedar/schema/describe.js';
import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';
import type { DecisionError, DecisionValue, Explanation } from './decision.js';

/** A fully resolved request: the principal is known and every entity the decision needs is listed. */
export interface EngineRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: Entity[];
  /**
   * The raw bearer token, present only when the store's engine maps tokens itself
   * (`wantsToken`, AVP's IsAuthorizedWithToken) and the request came with a token. `context` and
   * `entities` above stay the sidecar's full view (the token-derived principal, its claims in
   * context) so caches and logs see the same request shape for every engine; the token carries
   * what the door sent before the pipeline added anything. Never log or cache it.
   */
  token?: EngineToken;
  /** The id the decision will carry, so an engine's later reports (a verification mismatch) can name it. */
  decisionId?: string;
  /** Aborted when the caller went away: an engine stops paying for remote calls made for it. */
  signal?: AbortSignal;
  /** When the caller stops waiting (ms since the epoch, Date.now's clock), if it said. */
  deadline?: number;
}

/** A verified bearer token handed to an engine that maps tokens itself. */
export interface EngineToken {
  value: string;
  /** AVP's field for it: `identity` (an ID token) or `access` (an access token). */
  use: 'identity' | 'access';
  /** The request's own context, without the claims the pipeline derives from the token. */
  context: Record<string, CedarValue>;
  /** The request's own entities, without the token-derived principal. */
  entities: Entity[];
}

/**
 * One engine answer. `invalid` means the request itself was rejected (it does not fit the schema,
 * an entity is malformed): the pipeline turns it into a DENY with reason `invalid_request`.
 */
export type EngineAnswer =
  | {
      kind: 'evaluated';
      allow: boolean;
      determiningPolicies: string[];
      errors: DecisionError[];
      storeVersion: string;
    }
  | { kind: 'invalid'; message: string; storeVersion: string }
  | { kind: 'failed'; reason: 'engine_error' | 'engine_unavailable'; message: string };

export interface StoreStatus {
  name: string;
  engine: string;
  ready: boolean;
  version?: string;
  policies?: number;
  /** Present when the serving version evaluates scope slices: how many preparsed slices are cached. */
  slicing?: { cachedSlices: number };
  loadedAt?: string;
  /** The last reload failure while an older version keeps serving. */
  lastError?: string;
  /** Sync engines: when the last good sync finished, and how old it is now. */
  lastSyncAt?: string;
  syncAgeSeconds?: number;
  /** Local and sync engines: which Cedar evaluator decides (`native` or `wasm`). */
  evaluator?: 'native' | 'wasm';
  /** Why the store runs on `wasm` although `native` was configured (unsupported construct, mismatch). */
  evaluatorFallback?: string;
  /** Remote engines: the circuit breaker's state. */
  circuit?: 'closed' | 'open' | 'half-open';
}

/**
 * A policy store with the engine that decides for it. Async and batch-aware so that local and
 * remote engines are interchangeable: answers come back in request order, one per request.
 */
export interface StoreEngine {
  readonly name: string;
  readonly engine: string;
  /**
   * True when the engine maps bearer tokens to principals itself (AVP IsAuthorizedWithToken): the
   * pipeline still verifies and routes the token, then fills `EngineRequest.token`.
   */
  readonly wantsToken?: boolean;
  /** True when the engine makes remote calls per decision: it is given the caller's abort signal. */
  readonly remote?: boolean;
  /** Async start (a first sync); the registry awaits it before the sidecar listens. */
  start?(): Promise<void>;
  /**
   * The store's state. Called on every request (the decision cache keys on `version`), so it must
   * be cheap: no counting or formatting per call. A store without a version is never cached.
   */
  status(): StoreStatus;
  /**
   * The version answers come from right now, or undefined when the store must not be answered
   * from cache (not loaded; an AVP sync past its staleness limit). Read on every request: a field
   * read, nothing built.
   */
  servingVersion(): string | undefined;
  decide(requests: EngineRequest[]): Promise<EngineAnswer[]>;
  /**
   * Explains a decision this engine made (engines that can: the local engine on the native
   * evaluator). Off the decision path: called only when a request asks for it.
   */
  explain?(request: EngineRequest, decision: DecisionValue): Explanation | { unavailable: string };
  /** The schema as a caller reads it (discovery: actions, entity types), when the engine has one. */
  describe?(): DescribedSchema | undefined;
  close(): Promise<void>;
}
