import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AvpObserver } from '../engines/avp-options.js';
import type { StoreStatus } from '../core/engine.js';
import type { EvaluatorObserver } from '../engines/local.js';
import type { SliceStats } from '../engines/slicing/stats.js';
import { ERROR_CODES, isTokenErrorCode } from '../core/errors.js';
import type { CacheMetrics } from '../cache/metrics.js';
import type { DecisionObserver } from '../pipeline/pipeline.js';
import type { Decision } from '../core/decision.js';

/** The caches that report metrics; the value of the `cache` label. */
export type CacheName = 'decisions' | 'tokens';

/** What a cache increments on its own path; its size is read when Prometheus scrapes. */
export type ReloadOutcome = 'success' | 'failure' | 'unchanged';

/**
 * The sidecar's Prometheus metrics, on a registry of its own (never prom-client's global one, so
 * several sidecars can run in one process). Every label value is bounded: store names come from
 * the config, reasons from `ERROR_CODES`, caller types from a fixed set; never a principal, token
 * or resource id.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Counts every decision (`authz_decisions_total`) and its latency (`authz_decision_duration_seconds`). */
  readonly observer: DecisionObserver;
  /** Counters for one cache; `size` is read at scrape time for `authz_cache_size`. */
  cache(name: CacheName, size: () => number): CacheMetrics;
  /**
   * One token verification (a signature check; token-cache hits are counted as cache hits). `reason`
   * is a token error code for a failure; anything else is counted as `invalid_token`.
   */
  tokenVerification(result: 'success' | 'failure', reason?: string): void;
  /** One user-pool lookup by the identifier (`kind` user or client; `outcome` hit, lookup, unknown, failure). */
  identityLookup(kind: string, outcome: string): void;
  policyReload(store: string, result: ReloadOutcome): void;
  /** An engine failed to answer (`failed` answer, a throw, a missing answer). */
  engineError(engine: string, reason: string): void;
  /** One HTTP request; `route` is the route pattern (`/v1/is-authorized`), never the raw path. */
  httpRequest(route: string, method: string, status: number): void;
  /** Decision log lines dropped because the log's buffer was full. */
  decisionLogDropped(): void;
  /** Reads the decision log's spool size at scrape time (`authz_decision_log_spool_bytes`). */
  decisionLogSpool(bytes: () => number): void;
  /** One shadowed decision of a live store, by result (`same`, `allow_to_deny`, `deny_to_allow`, `error`, `dropped`); `by` 0 makes the series exist. */
  shadowDecision(store: string, result: string, by?: number): void;
  /** Hooks of the remote AVP engine: call outcomes and latency (circuit state is read from status()). */
  readonly avp: AvpObserver;
  /**
   * Scope slicing (the local and avp-sync engines): policies evaluated per decision
   * (`authz_policies_evaluated`) and the slice caches (`authz_slice_cache_*`).
   */
  readonly slices: SliceStats;
  /** Which evaluator serves each store (`authz_store_evaluator`) and verification mismatches. */
  readonly evaluator: EvaluatorObserver;
}

export interface MetricsDeps {
  /** The caller types the config knows; any other type is counted as `other`. */
  callerTypes: readonly string[];
  /** The stores, read at scrape time for `authz_policy_store_info`. */
  stores?: { statuses(): StoreStatus[] };
  /** Collect prom-client's default process and Node.js metrics. Default true. */
  defaultMetrics?: boolean;
}

/**
 * Buckets from 25 µs to 1 s: a cached decision takes tens of microseconds, a local evaluation
 * around 0.1 ms, a remote (AVP) one tens of milliseconds.
 */
export const DECISION_DURATION_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** Policies evaluated by one decision: a slice is a handful, an unsliced large store thousands. */
export const POLICIES_EVALUATED_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384, 65536];

/** The label value a decision's source takes: from the cache, evaluated by an engine, or neither. */
export function decisionSource(d: Decision): 'cache' | 'engine' | 'none' {
  if (d.cached) return 'cache';
  return d.reason ? 'none' : 'engine';
}

/** Buckets for remote AVP calls: 5 ms to 10 s. */
const AVP_CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/** Remembers the child of each label combination, so the hot path skips prom-client's label hashing. */
function children<C>(make: (...values: string[]) => C): (...values: string[]) => C {
  const made = new Map<string, C>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = made.get(key);
    if (!child) {
      child = make(...values);
      made.set(key, child);
    }
    return child;
  };
}

/** One label combination's count, kept here between scrapes. */
interface Tally {
  inc(): void;
}

/**
 * Counters of the request path, counted in plain numbers and handed to prom-client when the metric
 * is read (its `collect`, run on every scrape and every `get()`): prom-client hashes the label
 * values on every `inc`, even on a bound child's, and that was ~2% of a cached decision's CPU.
 */
function tallies(make: (...values: string[]) => { inc(n: number): void }) {
  const all: { pending: number; child: { inc(n: number): void } }[] = [];
  const child = children((...values) => {
    const t = { pending: 0, child: make(...values) };
    all.push(t);
    const tally: Tally = { inc: () => void t.pending++ };
    return tally;
  });
  const flush = () => {
    for (const t of all)
      if (t.pending) {
        t.child.inc(t.pending);
        t.pending = 0;
      }
  };
  return { child, flush };
}

/** Builds the registry and every metric; see docs/OBSERVABILITY.md for the reference. */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  if (deps.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const knownCallerTypes = new Set(deps.callerTypes);
  const callerTypeLabel = (t: string | undefined) =>
    t === undefined ? '' : knownCallerTypes.has(t) ? t : 'other';
  const reasonLabel = (r: string) => (r in ERROR_CODES ? r : 'internal_error');

  const decisions = new Counter({
    name: 'authz_decisions_total',
    help: 'Decisions by store ("" when none was reached), caller type, decision, source (cache, engine, none) and deny reason.',
    labelNames: ['store', 'caller_type', 'decision', 'source', 'reason'] as const,
    collect: () => decisionTally.flush(),
    registers,
  });
  const duration = new Histogram({
    name: 'authz_decision_duration_seconds',
    help: 'Time from a request entering the pipeline to its decision, by store and source.',
    labelNames: ['store', 'source'] as const,
    buckets: DECISION_DURATION_BUCKETS,
    registers,
  });
  const tokenVerifications = new Counter({
    name: 'authz_token_verifications_total',
    help: 'Bearer token verifications by result (success, failure) and failure reason.',
    labelNames: ['result', 'reason'] as const,
    registers,
  });
  const cacheHits = new Counter({
    name: 'authz_cache_hits_total',
    help: 'Cache lookups answered from the cache.',
    labelNames: ['cache'] as const,
    collect: () => hitTally.flush(),
    registers,
  });
  const cacheMisses = new Counter({
    name: 'authz_cache_misses_total',
    help: 'Cache lookups not answered from the cache.',
    labelNames: ['cache'] as const,
    collect: () => missTally.flush(),
    registers,
  });
  const cacheEvictions = new Counter({
    name: 'authz_cache_evictions_total',
    help: 'Cache entries evicted to stay within the configured bound.',
    labelNames: ['cache'] as const,
    registers,
  });
  const sizes = new Map<CacheName, () => number>();
  new Gauge({
    name: 'authz_cache_size',
    help: 'Entries currently held by each cache.',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      for (const [cache, size] of sizes) this.set({ cache }, size());
    },
  });
  new Gauge({
    name: 'authz_policy_store_info',
    help: 'The policy store versions being served (value 1); the series of a replaced version disappears.',
    labelNames: ['store', 'engine', 'version'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of deps.stores?.statuses() ?? [])
        if (s.version) this.set({ store: s.name, engine: s.engine, version: s.version }, 1);
    },
  });
  const reloads = new Counter({
    name: 'authz_policy_reloads_total',
    help: 'Policy store reloads after a change, by result (success, failure, unchanged).',
    labelNames: ['store', 'result'] as const,
    registers,
  });
  const lookups = new Counter({
    name: 'authz_identity_lookups_total',
    help: 'User-pool lookups for enrichment and registered clients, by kind (user, client) and outcome (hit, lookup, unknown, failure).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const engineErrors = new Counter({
    name: 'authz_engine_errors_total',
    help: 'Engine failures (each one a DENY), by engine and reason.',
    labelNames: ['engine', 'reason'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: 'authz_http_requests_total',
    help: 'HTTP requests by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    collect: () => httpTally.flush(),
    registers,
  });
  const logDropped = new Counter({
    name: 'authz_decision_logs_dropped_total',
    help: 'Decision log lines dropped because the log buffer was full (the sink was too slow).',
    registers,
  });

  const avpCalls = new Counter({
    name: 'authz_avp_calls_total',
    help: 'Call attempts to Amazon Verified Permissions by store, operation and outcome (circuit_open: refused locally).',
    labelNames: ['store', 'operation', 'outcome'] as const,
    registers,
  });
  const avpCallDuration = new Histogram({
    name: 'authz_avp_call_duration_seconds',
    help: 'Duration of call attempts to Amazon Verified Permissions, by store and operation.',
    labelNames: ['store', 'operation'] as const,
    buckets: AVP_CALL_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'authz_avp_circuit_state',
    help: 'The circuit breaker of each remote store: 1 for its current state (closed, open, half-open), 0 for the others.',
    labelNames: ['store', 'state'] as const,
    registers,
    collect() {
      for (const st of deps.stores?.statuses() ?? [])
        if (st.circuit)
          for (const s of CIRCUIT_STATES) this.set({ store: st.name, state: s }, s === st.circuit ? 1 : 0);
    },
  });
  const policiesEvaluated = new Histogram({
    name: 'authz_policies_evaluated',
    help: 'Policies Cedar evaluated per local decision, by store: the slice size when the store slices, else every policy.',
    labelNames: ['store'] as const,
    buckets: POLICIES_EVALUATED_BUCKETS,
    registers,
  });
  const sliceHits = new Counter({
    name: 'authz_slice_cache_hits_total',
    help: 'Sliced decisions whose preparsed policy subset was cached (an empty slice counts as a hit), by store.',
    labelNames: ['store'] as const,
    registers,
  });
  const sliceMisses = new Counter({
    name: 'authz_slice_cache_misses_total',
    help: 'Sliced decisions whose policy subset had to be preparsed first, by store.',
    labelNames: ['store'] as const,
    registers,
  });
  const sliceSize = new Gauge({
    name: 'authz_slice_cache_size',
    help: 'Preparsed policy subsets held by each sliced store (bounded by slicing.cacheSize).',
    labelNames: ['store'] as const,
    registers,
  });

  const storeEvaluator = new Gauge({
    name: 'authz_store_evaluator',
    help: 'Which Cedar evaluator decides for each local or avp-sync store: 1 for the serving one (native or wasm), 0 for the other.',
    labelNames: ['store', 'evaluator'] as const,
    registers,
  });
  const mismatches = new Counter({
    name: 'authz_evaluator_mismatches_total',
    help: 'Sampled native decisions that cedar-wasm decided differently (each is logged with its decision id), by store.',
    labelNames: ['store'] as const,
    registers,
  });

  let spoolBytes: (() => number) | undefined;
  new Gauge({
    name: 'authz_decision_log_spool_bytes',
    help: 'Bytes of decision-log lines waiting in the spool file (decisionLog.onFull: spool) for the destination to take them.',
    registers,
    collect() {
      this.set(spoolBytes?.() ?? 0);
    },
  });
  const shadowDecisions = new Counter({
    name: 'authz_shadow_decisions_total',
    help: "Live decisions decided again by the store's shadow (candidate) store, by result: same, allow_to_deny, deny_to_allow (each flip is logged with its decision id), error (the candidate could not decide), dropped (the shadow queue was full).",
    labelNames: ['store', 'result'] as const,
    registers,
  });

  const decisionTally = tallies((...v) => decisions.labels(...v));
  const decisionChild = decisionTally.child;
  const hitTally = tallies((cache) => cacheHits.labels(cache!));
  const missTally = tallies((cache) => cacheMisses.labels(cache!));
  const evaluatedChild = children((store) => policiesEvaluated.labels(store!));
  const sliceHitChild = children((store) => sliceHits.labels(store!));
  const sliceMissChild = children((store) => sliceMisses.labels(store!));
  const durationChild = children((...v) => duration.labels(...v));
  const httpTally = tallies((...v) => httpRequests.labels(...v));
  const httpChild = httpTally.child;

  // Series that dashboards divide by exist from the start.
  for (const cache of ['decisions', 'tokens'] as const) {
    cacheHits.labels(cache).inc(0);
    cacheMisses.labels(cache).inc(0);
    cacheEvictions.labels(cache).inc(0);
  }
  logDropped.inc(0);

  return {
    registry,
    observer: {
      onDecision({ decision: d, durationSeconds }) {
        const store = d.store ?? '';
        const source = decisionSource(d);
        decisionChild(store, callerTypeLabel(d.callerType), d.decision, source, d.reason ?? '').inc();
        durationChild(store, source).observe(durationSeconds);
      },
    },
    cache(name, size) {
      sizes.set(name, size);
      const hits = hitTally.child(name);
      const misses = missTally.child(name);
      const evictions = cacheEvictions.labels(name);
      return { hit: () => hits.inc(), miss: () => misses.inc(), evict: () => evictions.inc() };
    },
    tokenVerification: (result, reason) => {
      const r = result === 'success' ? '' : reason && isTokenErrorCode(reason) ? reason : 'invalid_token';
      tokenVerifications.labels(result, r).inc();
    },
    identityLookup: (kind, outcome) => lookups.labels(kind, outcome).inc(),
    policyReload: (store, result) => reloads.labels(store, result).inc(),
    engineError: (engine, reason) => engineErrors.labels(engine, reasonLabel(reason)).inc(),
    httpRequest: (route, method, status) => {
      httpChild(route, HTTP_METHODS.has(method) ? method : 'other', String(status)).inc();
    },
    decisionLogDropped: () => logDropped.inc(),
    decisionLogSpool: (bytes) => {
      spoolBytes = bytes;
    },
    shadowDecision: (store, result, by = 1) => shadowDecisions.labels(store, result).inc(by),
    avp: {
      call({ store, operation, outcome, durationSeconds }) {
        avpCalls.labels(store, operation, outcome).inc();
        if (outcome !== 'circuit_open') avpCallDuration.labels(store, operation).observe(durationSeconds);
      },
    },
    evaluator: {
      serving(store, evaluator) {
        storeEvaluator.labels(store, 'native').set(evaluator === 'native' ? 1 : 0);
        storeEvaluator.labels(store, 'wasm').set(evaluator === 'wasm' ? 1 : 0);
        mismatches.labels(store).inc(0);
      },
      mismatch: (store) => mismatches.labels(store).inc(),
    },
    slices: {
      onDecision(store, policies, cache) {
        evaluatedChild(store).observe(policies);
        if (cache === 'hit') sliceHitChild(store).inc();
        else if (cache === 'miss') sliceMissChild(store).inc();
      },
      onCacheSize: (store, size) => sliceSize.labels(store).set(size),
    },
  };
}
