/**
 * Over 400 lines on purpose: the stages of the one decision pipeline (identify, route, cache,
 * engine, observe) and its three entries (a single request, a raw repeat, a batch) share one
 * closure over the pipeline's dependencies and its private types; split across files, each stage
 * would need those passed in and exported. The pure helpers already live beside it.
 */
import { randomUUID } from 'node:crypto';
import { MAX_RAW_KEY_CHARS, type CacheLookup, type DecisionCache } from '../cache/decision-cache.js';
import { sameUid, type EntityUid } from '../cedar/types.js';
import type { BatchSemantic, CallerType, Decision, DecisionRequest, RawRequest } from '../core/decision.js';
import type { EngineAnswer, EngineRequest, StoreEngine } from '../core/engine.js';
import { AuthzError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import type { StoreRegistry } from '../engines/registry.js';
import type { Caller, Identifier, Router } from '../identity/types.js';

/** Sees every decision once it is made: the decision log and the metrics hang here. */
export interface DecisionObserver {
  onDecision(event: DecisionEvent): void;
}

export interface DecisionEvent {
  request: DecisionRequest;
  decision: Decision;
  /** Time this request spent in the pipeline (in a batch: its own share, not the batch's). */
  durationSeconds: number;
  /**
   * The request as its store saw it (the verified principal entity and the token's context
   * joined in), when the request reached its store: answered from the cache or by the engine.
   * Absent for a deny before that (a bad token, no route). What replay and shadow stores decide
   * again; it may carry the raw token (`token`) for an engine that reads tokens: never log that.
   */
  evaluated?: EngineRequest;
}

export interface PipelineDeps {
  stores: StoreRegistry;
  /** Verifies bearer tokens; without one, token requests are denied with `invalid_token`. */
  identifier?: Identifier;
  router?: Router;
  /** The decision cache stage between routing and the engine; absent means every request is evaluated. */
  cache?: DecisionCache;
  observers?: DecisionObserver[];
  /** Counters the pipeline increments itself (the rest is counted by observers). */
  metrics?: PipelineMetrics;
  /** Told about an exception the pipeline turned into a DENY, with that decision's id. */
  onInternalError?: (err: unknown, decisionId: string) => void;
}

export interface PipelineMetrics {
  /** An engine failed to answer a request: a `failed` answer, a throw or a missing answer. */
  engineError(engine: string, reason: string): void;
}

export interface BatchOptions {
  /**
   * `execute_all` (default) decides every item; the short-circuit semantics decide in order and stop
   * after the first DENY (or ALLOW): later items get no decision, are not evaluated and not logged.
   */
  semantic?: BatchSemantic;
}

export interface Pipeline {
  decide(request: DecisionRequest): Promise<Decision>;
  /**
   * A single request as its door read it, before parsing: a byte-identical repeat of an answered
   * request by the same verified caller (`token`; `null` for a door without one) is answered from
   * the decision cache without parsing; anything else is parsed (`parse`, which may throw the
   * door's validation error) and decided as `decide` would. `undefined` token: the request's
   * token is not known before parsing (a body field), so it is always parsed.
   */
  decideRaw(
    raw: RawRequest,
    token: string | null | undefined,
    parse: () => DecisionRequest,
    miss?: RepeatMiss,
  ): Promise<Decision>;
  /**
   * Only the first step of `decideRaw`: the cached answer to a byte-identical repeat, or a miss
   * carrying what the lookup learnt (the verified caller), to hand to `decideRaw` so the token is
   * not verified twice. For a door's fast path that answers repeats before it routes.
   */
  repeat(raw: RawRequest, token: string | null | undefined): Promise<Repeat>;
  /**
   * Decides many requests, one answer per request in order (fewer under a short-circuit
   * semantic); identical tokens are verified once.
   */
  decideBatch(requests: DecisionRequest[], options?: BatchOptions): Promise<Decision[]>;
}

/** A lookup of a byte-identical repeat that found nothing; opaque outside the pipeline. */
export interface RepeatMiss {
  readonly caller?: unknown;
}

/** The answer to a repeat, or the miss to give `decideRaw`. */
export type Repeat = { decision: Decision; miss?: undefined } | { decision?: undefined; miss: RepeatMiss };

const NOTHING_LEARNT: Repeat = { miss: {} };

/** What the cache keeps, with an answer, to repeat it for a byte-identical request. */
interface RawMemo {
  request: DecisionRequest;
  evaluated: EngineRequest;
  principal: EntityUid;
  callerType?: CallerType;
}

/** A request that has passed identification and routing and waits for its engine. */
interface Resolved {
  request: DecisionRequest;
  store: StoreEngine;
  engineRequest: EngineRequest;
  principal: EntityUid;
  callerType?: CallerType;
  /** The cache slot, when the request was looked up (a miss; a hit never reaches the engine). */
  lookup?: CacheLookup;
  /** The request asked for an explanation. */
  explain?: boolean;
  /** Mapped claims the verified token lacks (token callers). */
  missingClaims?: { claim: string; attribute: string }[];
  /** The cache's answer: the request needs no engine. */
  hit?: Decision;
}

type Memo = Map<string | undefined, Promise<Caller>>;

/** A token verified before the request was parsed: its caller, or why it failed. */
type Verified = Caller | { failed: unknown };

/**
 * A small number per verified caller object, for the raw cache key: the token cache hands back the
 * same Caller for the same token until it expires or is evicted, so equal numbers mean the same
 * verified caller. A fresh Caller (re-verified, re-enriched) gets a new number: a miss, never a
 * stale answer.
 */
const callerIds = new WeakMap<Caller, number>();
let nextCallerId = 0;
function callerId(caller: Caller): number {
  let id = callerIds.get(caller);
  if (id === undefined) callerIds.set(caller, (id = ++nextCallerId));
  return id;
}

/** Whether an engine's message names an attribute (as a word, not inside another name). */
function mentions(message: string, attribute: string): boolean {
  return new RegExp(`(^|[^\\w])${attribute.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w]|$)`).test(message);
}

/**
 * The one decision pipeline: identify → route → cache → engine → observe. Every door calls it; nothing
 * here knows about HTTP or gRPC. Any failure on the way is a DENY with a reason, never an ALLOW.
 *
 * A single request takes a straight path (no batch bookkeeping); a batch resolves its requests
 * together, sends each store's misses to its engine in one call, and observes each request with
 * its own duration.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const observers = deps.observers ?? [];

  const deny = (reason: ErrorCode, extra: Partial<Decision> = {}): Decision => ({
    decision: 'DENY',
    decisionId: randomUUID(),
    determiningPolicies: [],
    errors: [],
    cached: false,
    reason,
    message: extra.message ?? ERROR_CODES[reason].message,
    ...extra,
  });

  const internalError = (err: unknown): Decision => {
    const d = deny('internal_error');
    deps.onInternalError?.(err, d.decisionId);
    return d;
  };

  function identify(token: string | undefined, memo: Memo | undefined): Promise<Caller> {
    if (!deps.identifier)
      return Promise.reject(new AuthzError('invalid_token', 'No token issuer is configured.'));
    if (!memo) return deps.identifier.identify(token);
    let pending = memo.get(token);
    if (!pending) {
      pending = deps.identifier.identify(token);
      memo.set(token, pending);
    }
    return pending;
  }

  /** Stage 1 and 2: who is asking, and which store answers. Returns a Decision when it is a deny already. */
  async function resolve(
    request: DecisionRequest,
    memo: Memo | undefined,
    verified?: Verified,
  ): Promise<Resolved | Decision> {
    let principal: EntityUid;
    let callerType: CallerType | undefined;
    let entities = request.entities;
    let context = request.context;
    let storeName = request.store;
    let tokenUse: 'identity' | 'access' | undefined;
    let rawKey: string | undefined;
    let missingClaims: Resolved['missingClaims'];
    if (request.subject.kind === 'token') {
      let caller: Caller;
      try {
        if (verified && 'failed' in verified) throw verified.failed;
        caller = verified ?? (await identify(request.subject.token, memo));
      } catch (err) {
        if (err instanceof AuthzError) return deny(err.code, { message: err.message });
        return deny('invalid_token');
      }
      principal = caller.principal.uid;
      callerType = caller.type;
      missingClaims = caller.missingClaims;
      tokenUse = caller.claims.token_use === 'id' ? 'identity' : 'access';
      // The principal and its groups come only from the verified token, never from the body.
      const forged = request.entities.find(
        (e) =>
          caller.protectedTypes.includes(e.uid.type) ||
          sameUid(e.uid, principal) ||
          caller.principal.parents.some((p) => sameUid(p, e.uid)),
      );
      if (forged) {
        return deny('entity_conflict', {
          principal,
          callerType,
          message: `The request may not supply entities of type ${forged.uid.type}.`,
        });
      }
      // Likewise the token's claims in context: a request may not supply that key at all.
      const forgedKey = caller.protectedContextKeys.find((k) => Object.hasOwn(request.context, k));
      if (forgedKey !== undefined) {
        return deny('invalid_request', {
          principal,
          callerType,
          message: `The request may not supply context.${forgedKey}: the sidecar sets it from the verified token.`,
        });
      }
      entities = [caller.principal, ...request.entities];
      context = { ...request.context, ...caller.context };
      if (request.raw) rawKey = `${request.raw.door}\0${callerId(caller)}\0${request.raw.text}`;
      if (!storeName && !request.reject) {
        storeName = deps.router?.route({
          callerType: caller.type,
          issuer: caller.issuer,
          claims: caller.claims,
        });
        if (!storeName) return deny('no_store', { principal, callerType });
      }
    } else {
      principal = request.subject.principal;
      callerType = request.subject.callerType;
      if (request.raw) rawKey = `${request.raw.door}\0\0${request.raw.text}`;
      // A stated principal without a store (AuthZEN) is routed by its caller type alone.
      if (!storeName && callerType) storeName = deps.router?.route({ callerType });
    }
    if (request.reject) {
      const { reason, message } = request.reject;
      return deny(reason, {
        principal,
        ...(callerType ? { callerType } : {}),
        ...(message ? { message } : {}),
      });
    }
    if (!storeName) return deny('no_store', { principal, ...(callerType ? { callerType } : {}) });
    const store = deps.stores.get(storeName);
    // A store the caller named is unknown (404); a store that routing built (per tenant) is no route.
    if (!store)
      return deny(request.store ? 'unknown_store' : 'no_store', {
        principal,
        ...(callerType ? { callerType } : {}),
      });
    const engineRequest: EngineRequest = {
      principal,
      action: request.action,
      resource: request.resource,
      context,
      entities,
    };
    if (request.signal && store.remote) {
      const signal = typeof request.signal === 'function' ? request.signal() : request.signal;
      if (signal) engineRequest.signal = signal;
    }
    if (request.deadline !== undefined) engineRequest.deadline = request.deadline;
    // An engine that maps tokens itself (AVP with-token) gets the verified token and the request
    // as the door sent it; no other engine ever sees a token.
    if (store.wantsToken && request.subject.kind === 'token' && request.subject.token && tokenUse) {
      engineRequest.token = {
        value: request.subject.token,
        use: tokenUse,
        context: request.context,
        entities: request.entities,
      };
      // The raw key stands for the caller, not the token: an engine that reads the token itself
      // may see claims the caller does not carry, so only the semantic key (token included) serves.
      rawKey = undefined;
    }
    const resolved: Resolved = { request, store, principal, engineRequest };
    if (missingClaims) resolved.missingClaims = missingClaims;
    if (callerType) resolved.callerType = callerType;
    // Stage 3: the cache. A hit becomes a Decision of its own (fresh id, `cached: true`).
    // An explanation is made afresh: never served from the cache, never stored in it.
    if (request.explain) resolved.explain = true;
    else {
      const cached = fromCache(resolved, rawKey);
      if (cached) {
        resolved.hit = cached;
        return resolved;
      }
    }
    // The id is known before the engine runs, so an engine's later report (a verification
    // mismatch) names the decision the caller got.
    engineRequest.decisionId = randomUUID();
    return resolved;
  }

  const who = (r: Resolved) => ({
    principal: r.principal,
    ...(r.callerType ? { callerType: r.callerType } : {}),
    store: r.store.name,
  });

  function fromCache(r: Resolved, rawKey: string | undefined): Decision | undefined {
    const cache = deps.cache;
    if (!cache) return undefined;
    // A store that is not ready (an AVP sync past its staleness limit) must fail closed: its
    // cached answers are not served either.
    const version = r.store.servingVersion();
    if (!version) return undefined;
    const lookup = cache.lookup(r.store.name, version, r.engineRequest, rawKey);
    if (!lookup.hit) {
      r.lookup = lookup;
      return undefined;
    }
    if (lookup.rawKey !== undefined) cache.rememberRaw(lookup, rawMemo(r));
    return {
      decision: lookup.hit.allow ? 'ALLOW' : 'DENY',
      decisionId: randomUUID(),
      ...who(r),
      storeVersion: lookup.hit.storeVersion,
      determiningPolicies: lookup.hit.determiningPolicies,
      errors: lookup.hit.errors,
      cached: true,
    };
  }

  /**
   * Copies without what belongs to the first request only (its abort signal, deadline and id):
   * a memo outlives the request, and must not hold its connection.
   */
  function rawMemo(r: Resolved): RawMemo {
    const { signal: _s, deadline: _d, raw: _r, ...request } = r.request;
    const e = r.engineRequest;
    const memo: RawMemo = {
      request,
      evaluated: {
        principal: e.principal,
        action: e.action,
        resource: e.resource,
        context: e.context,
        entities: e.entities,
      },
      principal: r.principal,
    };
    if (r.callerType) memo.callerType = r.callerType;
    return memo;
  }

  async function repeat(raw: RawRequest, token: string | null | undefined): Promise<Repeat> {
    const started = performance.now();
    let caller: Verified | undefined;
    if (deps.cache && raw.text.length <= MAX_RAW_KEY_CHARS) {
      let key: string | undefined;
      if (token === null) key = `${raw.door}\0\0${raw.text}`;
      else if (token !== undefined && deps.identifier) {
        try {
          const verified = await deps.identifier.identify(token);
          caller = verified;
          key = `${raw.door}\0${callerId(verified)}\0${raw.text}`;
        } catch (failed) {
          // Reported by the full path, after the body's own problems (as without this shortcut),
          // and not verified twice.
          caller = { failed };
        }
      }
      const entry =
        key === undefined
          ? undefined
          : deps.cache.lookupRaw(key, (s) => deps.stores.get(s)?.servingVersion());
      if (entry) {
        const m = entry.memo as RawMemo;
        const decision: Decision = {
          decision: entry.hit.allow ? 'ALLOW' : 'DENY',
          decisionId: randomUUID(),
          principal: m.principal,
          ...(m.callerType ? { callerType: m.callerType } : {}),
          store: entry.store,
          storeVersion: entry.hit.storeVersion,
          determiningPolicies: entry.hit.determiningPolicies,
          errors: entry.hit.errors,
          cached: true,
        };
        const event: DecisionEvent = {
          request: m.request,
          decision,
          durationSeconds: (performance.now() - started) / 1e3,
          evaluated: m.evaluated,
        };
        for (const observer of observers) {
          try {
            observer.onDecision(event);
          } catch {
            /* an observer never changes or blocks a decision */
          }
        }
        return { decision };
      }
    }
    return caller ? { miss: { caller } } : NOTHING_LEARNT;
  }

  async function decideRaw(
    raw: RawRequest,
    token: string | null | undefined,
    parse: () => DecisionRequest,
    miss?: RepeatMiss,
  ): Promise<Decision> {
    let caller: Verified | undefined;
    if (miss) caller = miss.caller as Verified | undefined;
    else {
      const found = await repeat(raw, token);
      if (found.decision) return found.decision;
      caller = found.miss.caller as Verified | undefined;
    }
    const request = parse();
    // Only a request whose caller is known before parsing can be repeated from its bytes.
    if (token !== undefined) request.raw = raw;
    // The caller verified above is this request's only when the token it carries is that token.
    const verified =
      caller && request.subject.kind === 'token' && request.subject.token === token ? caller : undefined;
    return decideOne(request, undefined, verified);
  }

  const idOf = (r: Resolved) =>
    r.engineRequest.decisionId ? { decisionId: r.engineRequest.decisionId } : {};

  function toDecision(r: Resolved, answer: EngineAnswer | undefined): Decision {
    if (!answer || answer.kind === 'failed') {
      const reason = answer?.reason ?? 'engine_error';
      deps.metrics?.engineError(r.store.engine, reason);
      return deny(reason, { ...who(r), ...idOf(r) });
    }
    // Under the semantic key only: the bytes are remembered when the question comes again (a
    // semantic hit), so a flood of unique requests never fills the first level with one-offs
    // (measured: peak RSS through 1,000,000 unique requests 490 MiB with them, see BENCHMARKS.md).
    if (r.lookup) deps.cache?.remember(r.lookup, answer);
    switch (answer.kind) {
      case 'evaluated': {
        const decision: Decision = {
          decision: answer.allow ? 'ALLOW' : 'DENY',
          decisionId: r.engineRequest.decisionId ?? randomUUID(),
          ...who(r),
          storeVersion: answer.storeVersion,
          determiningPolicies: answer.determiningPolicies,
          errors: answer.errors,
          cached: false,
        };
        if (r.explain)
          decision.explanation = r.store.explain
            ? r.store.explain(r.engineRequest, decision.decision)
            : { unavailable: `the ${r.store.engine} engine cannot explain its decisions` };
        return decision;
      }
      case 'invalid': {
        // The principal the token built lacks a required attribute because the token lacks its
        // claim: that is the token's shortcoming, not the request's (a DENY naming the claim).
        const claim = r.missingClaims?.find((m) => mentions(answer.message, m.attribute));
        if (claim)
          return deny('missing_claim', {
            ...who(r),
            ...idOf(r),
            storeVersion: answer.storeVersion,
            message: `The token has no ${claim.claim} claim, which the store needs as the principal's ${claim.attribute} (${answer.message}).`,
          });
        return deny('invalid_request', {
          ...who(r),
          ...idOf(r),
          storeVersion: answer.storeVersion,
          message: answer.message,
        });
      }
    }
  }

  function observe(
    request: DecisionRequest,
    decision: Decision,
    durationSeconds: number,
    r: Resolved | Decision | undefined,
  ): void {
    const event: DecisionEvent = { request, decision, durationSeconds };
    if (r && !('decision' in r)) event.evaluated = r.engineRequest;
    for (const observer of observers) {
      try {
        observer.onDecision(event);
      } catch {
        /* an observer never changes or blocks a decision */
      }
    }
  }

  async function engineAnswers(store: StoreEngine, requests: EngineRequest[]): Promise<EngineAnswer[]> {
    try {
      return await store.decide(requests);
    } catch {
      return [];
    }
  }

  async function decideOne(request: DecisionRequest, memo?: Memo, verified?: Verified): Promise<Decision> {
    const started = performance.now();
    let decision: Decision;
    let r: Resolved | Decision | undefined;
    try {
      r = await resolve(request, memo, verified);
      decision =
        'decision' in r ? r : (r.hit ?? toDecision(r, (await engineAnswers(r.store, [r.engineRequest]))[0]));
    } catch (err) {
      decision = internalError(err);
    }
    observe(request, decision, (performance.now() - started) / 1e3, r);
    return decision;
  }

  async function decideAll(requests: DecisionRequest[]): Promise<Decision[]> {
    const started = performance.now();
    const memo: Memo = new Map();
    const out: Decision[] = new Array(requests.length);
    /** When each request's answer was known, for its own duration. */
    const doneAt: number[] = new Array(requests.length);
    const byStore = new Map<StoreEngine, { index: number; r: Resolved }[]>();
    const resolved = await Promise.all(requests.map((r) => resolve(r, memo).catch(internalError)));
    resolved.forEach((r, i) => {
      if ('decision' in r || r.hit) {
        out[i] = 'decision' in r ? r : r.hit!;
        doneAt[i] = performance.now();
      } else {
        let group = byStore.get(r.store);
        if (!group) byStore.set(r.store, (group = []));
        group.push({ index: i, r });
      }
    });
    await Promise.all(
      [...byStore].map(async ([store, group]) => {
        const answers = await engineAnswers(
          store,
          group.map((g) => g.r.engineRequest),
        );
        const now = performance.now();
        group.forEach((g, k) => {
          out[g.index] = toDecision(g.r, answers[k]);
          doneAt[g.index] = now;
        });
      }),
    );
    for (let i = 0; i < requests.length; i++)
      observe(requests[i]!, out[i]!, (doneAt[i]! - started) / 1e3, resolved[i]);
    return out;
  }

  async function decideBatch(requests: DecisionRequest[], options: BatchOptions = {}): Promise<Decision[]> {
    const semantic = options.semantic ?? 'execute_all';
    if (semantic === 'execute_all') return decideAll(requests);
    // In order, stopping after the first answer of the deciding kind: the items after it are not
    // evaluated, logged or counted, which is what a short-circuit caller asked for.
    const stopOn = semantic === 'deny_on_first_deny' ? 'DENY' : 'ALLOW';
    const memo: Memo = new Map();
    const out: Decision[] = [];
    for (const request of requests) {
      const decision = await decideOne(request, memo);
      out.push(decision);
      if (decision.decision === stopOn) break;
    }
    return out;
  }

  return { decide: (request) => decideOne(request), decideRaw, repeat, decideBatch };
}
