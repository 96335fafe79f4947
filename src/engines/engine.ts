import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';
import type { DecisionError } from '../pipeline/types.js';

/** A fully resolved request: the principal is known and every entity the decision needs is listed. */
export interface EngineRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
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
  loadedAt?: string;
  /** The last reload failure while an older version keeps serving. */
  lastError?: string;
}

/**
 * A policy store with the engine that decides for it. Async and batch-aware so that local and
 * remote engines are interchangeable: answers come back in request order, one per request.
 */
export interface StoreEngine {
  readonly name: string;
  readonly engine: string;
  /**
   * The store's state. Called on every request (the decision cache keys on `version`), so it must
   * be cheap: no counting or formatting per call. A store without a version is never cached.
   */
  status(): StoreStatus;
  decide(requests: EngineRequest[]): Promise<EngineAnswer[]>;
  close(): Promise<void>;
}
