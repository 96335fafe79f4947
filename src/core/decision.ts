import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';
import type { PolicyExplanation } from '../cedar/explain.js';
import type { ErrorCode } from './errors.js';

/** Who is asking, once the pipeline has established it. */
export type CallerType = 'user' | 'service' | string;

/**
 * Who the request is about.
 * - `token`: a bearer token the pipeline must verify; the principal comes only from the token.
 * - `principal`: a principal stated by a trusted local caller (the `/v1/is-authorized` API, the AVP door).
 */
export type Subject =
  | { kind: 'token'; token: string | undefined }
  | { kind: 'principal'; principal: EntityUid; callerType?: CallerType };

/** One question for the pipeline, as every door hands it over. */
export interface DecisionRequest {
  subject: Subject;
  /** An explicit store name; when absent, the caller is routed to a store. */
  store?: string;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  /** Extra entities supplied by the caller (resource attributes, related objects). */
  entities: Entity[];
  /**
   * Set by a door that already knows the answer is a DENY (no route matches the proxied path, the
   * path is refused). The pipeline still identifies the caller, so a bad token answers as a token
   * failure first, and the deny is observed (logged, counted) like any other; no engine is asked.
   */
  reject?: { reason: ErrorCode; message?: string };
  /**
   * The request exactly as it arrived, when the door built everything else above from these bytes
   * alone (plus the caller the pipeline verifies): a byte-identical repeat from the same caller to
   * the same store version is the same question, so the cache answers it before the body is
   * parsed (Pipeline.decideRaw). `door` keeps two doors' identical bytes apart.
   */
  raw?: RawRequest;
  /** Asks for an explanation: the decision is then made afresh (never from or into the cache). */
  explain?: boolean;
  /**
   * Aborted when the caller goes away (the door's connection closed before the answer). A door may
   * give a function that makes the signal instead: the pipeline calls it only for an engine that
   * makes remote calls (an AbortController per request cost ~3% of a cached decision's CPU).
   */
  signal?: AbortSignal | (() => AbortSignal | undefined);
  /** When the caller stops waiting (ms since the epoch), e.g. from a proxy's timeout header. */
  deadline?: number;
}

export type DecisionValue = 'ALLOW' | 'DENY';

/** Why a decision came out as it did: every policy that could apply, and a one-line summary. */
export interface Explanation {
  summary: string;
  policies: PolicyExplanation[];
  /** Policies left out because their scope cannot match this request (sliced stores), with why. */
  notShown?: { count: number; reason: string };
}

/** How a batch is run: every item (the default), or in order until the first DENY / first ALLOW. */
export type BatchSemantic = 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit';

export interface DecisionError {
  policyId: string;
  message: string;
}

/** The answer every door renders. A deny without evaluation carries a `reason`. */
export interface Decision {
  decision: DecisionValue;
  decisionId: string;
  store?: string;
  storeVersion?: string;
  determiningPolicies: string[];
  errors: DecisionError[];
  cached: boolean;
  reason?: ErrorCode;
  /** Human-safe detail for a deny without evaluation (never contains a token). */
  message?: string;
  principal?: EntityUid;
  callerType?: CallerType;
  /** Present when the request asked for it (and the store's engine can explain). */
  explanation?: Explanation | { unavailable: string };
}

/** A request's bytes as its door received them, and the door (two doors' identical bytes are different questions). */
export interface RawRequest {
  door: string;
  text: string;
}
