import { randomUUID } from 'node:crypto';
import type { CacheLookup, DecisionCache } from '../cache/decision-cache.js';
import { sameUid, type EntityUid } from '../cedar/types.js';
import type { EngineAnswer, EngineRequest, StoreEngine } from '../core/engine.js';
import { AuthzError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import type { Caller, Identifier, Router } from '../identity/types.js';
import type { StoreRegistry } from '../engines/registry.js';
import type { CallerType, Decision, DecisionRequest } from '../core/decision.js';

/** Sees every decision once it is made: the decision log and the metrics hang here. */
export interface DecisionObserver {
  onDecision(event: DecisionEvent): void;
}

export interface DecisionEvent {
  request: DecisionRequest;
  decision: Decision;
  durationSeconds: number;
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
}

export interface PipelineMetrics {
  /** An engine failed to answer a request: a `failed` answer, a throw or a missing answer. */
  engineError(engine: string, reason: string): void;
}

export interface Pipeline {
  decide(request: DecisionRequest): Promise<Decision>;
  /** Decides many requests, one answer per request in order; identical tokens are verified once. */
  decideBatch(requests: DecisionRequest[]): Promise<Decision[]>;
}

/** A request that has passed identification and routing and waits for its engine. */
interface Resolved {
  index: number;
  store: StoreEngine;
  engineRequest: EngineRequest;
  principal: EntityUid;
  callerType?: CallerType;
  /** The cache slot, when the request was looked up (a miss; a hit never reaches the engine). */
  lookup?: CacheLookup;
}

/**
 * The one decision pipeline: identify → route → cache → engine → observe. Every door calls it; nothing
 * here knows about HTTP or gRPC. Any failure on the way is a DENY with a reason, never an ALLOW.
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

  async function identify(
    token: string | undefined,
    memo: Map<string | undefined, Promise<Caller>>,
  ): Promise<Caller> {
    if (!deps.identifier) throw new AuthzError('invalid_token', 'No token issuer is configured.');
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
    index: number,
    memo: Map<string | undefined, Promise<Caller>>,
  ): Promise<Resolved | Decision> {
    let principal: EntityUid;
    let callerType: CallerType | undefined;
    let entities = request.entities;
    let context = request.context;
    let storeName = request.store;
    let tokenUse: 'identity' | 'access' | undefined;
    if (request.subject.kind === 'token') {
      let caller: Caller;
      try {
        caller = await identify(request.subject.token, memo);
      } catch (err) {
        if (err instanceof AuthzError) return deny(err.code, { message: err.message });
        return deny('invalid_token');
      }
      principal = caller.principal.uid;
      callerType = caller.type;
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
    // An engine that maps tokens itself (AVP with-token) gets the verified token and the request
    // as the door sent it; no other engine ever sees a token.
    if (store.wantsToken && request.subject.kind === 'token' && request.subject.token && tokenUse)
      engineRequest.token = {
        value: request.subject.token,
        use: tokenUse,
        context: request.context,
        entities: request.entities,
      };
    return { index, store, principal, ...(callerType ? { callerType } : {}), engineRequest };
  }

  const who = (r: Resolved) => ({
    principal: r.principal,
    ...(r.callerType ? { callerType: r.callerType } : {}),
    store: r.store.name,
  });

  /** Stage 3: the cache. A hit becomes a Decision of its own (fresh id, `cached: true`). */
  function fromCache(r: Resolved): Decision | undefined {
    const cache = deps.cache;
    if (!cache) return undefined;
    // A store that is not ready (an AVP sync past its staleness limit) must fail closed: its
    // cached answers are not served either.
    const status = r.store.status();
    const version = status.ready ? status.version : undefined;
    if (!version) return undefined;
    const lookup = cache.lookup(r.store.name, version, r.engineRequest);
    if (!lookup.hit) {
      r.lookup = lookup;
      return undefined;
    }
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

  function toDecision(r: Resolved, answer: EngineAnswer | undefined): Decision {
    if (!answer || answer.kind === 'failed') {
      const reason = answer?.reason ?? 'engine_error';
      deps.metrics?.engineError(r.store.engine, reason);
      return deny(reason, who(r));
    }
    if (r.lookup) deps.cache?.remember(r.lookup, answer);
    switch (answer.kind) {
      case 'evaluated':
        return {
          decision: answer.allow ? 'ALLOW' : 'DENY',
          decisionId: randomUUID(),
          ...who(r),
          storeVersion: answer.storeVersion,
          determiningPolicies: answer.determiningPolicies,
          errors: answer.errors,
          cached: false,
        };
      case 'invalid':
        return deny('invalid_request', {
          ...who(r),
          storeVersion: answer.storeVersion,
          message: answer.message,
        });
    }
  }

  async function decideBatch(requests: DecisionRequest[]): Promise<Decision[]> {
    const started = process.hrtime.bigint();
    const memo = new Map<string | undefined, Promise<Caller>>();
    const out: Decision[] = new Array(requests.length);
    const byStore = new Map<StoreEngine, Resolved[]>();
    const resolved = await Promise.all(
      requests.map((r, i) => resolve(r, i, memo).catch(() => deny('internal_error'))),
    );
    resolved.forEach((r, i) => {
      if ('decision' in r) out[i] = r;
      else {
        const cached = fromCache(r);
        if (cached) out[i] = cached;
        else byStore.set(r.store, [...(byStore.get(r.store) ?? []), r]);
      }
    });
    await Promise.all(
      [...byStore].map(async ([store, group]) => {
        let answers: EngineAnswer[];
        try {
          answers = await store.decide(group.map((g) => g.engineRequest));
        } catch {
          answers = [];
        }
        group.forEach((g, k) => (out[g.index] = toDecision(g, answers[k])));
      }),
    );
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9 / Math.max(1, requests.length);
    for (const observer of observers) {
      requests.forEach((request, i) => {
        try {
          observer.onDecision({ request, decision: out[i]!, durationSeconds });
        } catch {
          /* an observer never changes or blocks a decision */
        }
      });
    }
    return out;
  }

  return {
    decide: async (request) => (await decideBatch([request]))[0]!,
    decideBatch,
  };
}
