import type { EngineAnswer, EngineRequest, StoreEngine, StoreStatus } from '../core/engine.js';
import type { ReadinessCheck } from '../core/health.js';
import type { DecisionEvent, DecisionObserver } from '../pipeline/pipeline.js';

/** How a shadowed decision compared with the live one. */
export type ShadowResult = 'same' | 'allow_to_deny' | 'deny_to_allow' | 'error' | 'dropped';

/** A flip, for the log: the decision id the caller got, both answers and what determined them. */
export interface ShadowFlip {
  store: string;
  decisionId: string;
  result: 'allow_to_deny' | 'deny_to_allow';
  live: { decision: 'ALLOW' | 'DENY'; determiningPolicies: string[] };
  shadow: {
    decision: 'ALLOW' | 'DENY';
    determiningPolicies: string[];
    storeVersion?: string;
    invalid?: string;
  };
}

/** What shadowing reports; observability implements it (a counter, the process log). Must not throw. */
export interface ShadowReporter {
  result(store: string, result: ShadowResult): void;
  flip(flip: ShadowFlip): void;
  /** The candidate could not decide (its engine failed, or it has no version yet). */
  error(store: string, decisionId: string, message: string): void;
}

export interface ShadowTarget {
  /** The live store whose decisions are shadowed. */
  store: string;
  engine: StoreEngine;
  /** A folder or `store <name>`, shown in /readyz. */
  source: string;
  sampleRate: number;
  queueSize: number;
}

export interface Shadowing extends DecisionObserver {
  /** /readyz detail: always ready (a candidate never takes the live store down), with the counts. */
  readiness: ReadinessCheck;
  /** Resolves once every queued decision has been shadowed (tests, shutdown). */
  idle(): Promise<void>;
}

interface Queued {
  decisionId: string;
  decision: 'ALLOW' | 'DENY';
  determiningPolicies: string[];
  request: EngineRequest;
}

interface Lane {
  target: ShadowTarget;
  queue: Queued[];
  counts: Record<ShadowResult, number>;
  lastError?: string;
}

/** Reasons that mean the live store did not decide (engine failed, overload): nothing to compare. */
const NOT_DECIDED = new Set([
  'engine_error',
  'engine_unavailable',
  'internal_error',
  'request_timeout',
  'overloaded',
]);

/** Decisions shadowed per engine call. */
const BATCH = 100;

/**
 * Shadow stores: the decision observer queues a sampled share of a live store's decisions (the
 * request as its store saw it, see DecisionEvent.evaluated) and a later turn of the event loop
 * decides them with the candidate, in batches, and compares. The request path pays one sample
 * draw and one array push; the answer has already been decided and is never changed. A full
 * queue drops the shadow copy (counted `dropped`), never the live decision.
 */
export function createShadowing(
  targets: ShadowTarget[],
  reporter: ShadowReporter,
  options: { random?: () => number } = {},
): Shadowing {
  const random = options.random ?? Math.random;
  const lanes = new Map<string, Lane>();
  for (const target of targets)
    lanes.set(target.store, {
      target,
      queue: [],
      counts: { same: 0, allow_to_deny: 0, deny_to_allow: 0, error: 0, dropped: 0 },
    });
  let scheduled = false;
  let running: Promise<void> | undefined;
  let idleWaiters: (() => void)[] = [];

  const count = (lane: Lane, result: ShadowResult) => {
    lane.counts[result]++;
    try {
      reporter.result(lane.target.store, result);
    } catch {
      /* reporting never breaks shadowing */
    }
  };

  const compare = (lane: Lane, q: Queued, answer: EngineAnswer | undefined) => {
    const store = lane.target.store;
    if (!answer || answer.kind === 'failed') {
      lane.lastError = answer?.message ?? 'no answer';
      count(lane, 'error');
      try {
        reporter.error(store, q.decisionId, lane.lastError);
      } catch {
        /* as above */
      }
      return;
    }
    const decision = answer.kind === 'evaluated' && answer.allow ? 'ALLOW' : 'DENY';
    if (decision === q.decision) return count(lane, 'same');
    const result = decision === 'ALLOW' ? 'deny_to_allow' : 'allow_to_deny';
    count(lane, result);
    try {
      reporter.flip({
        store,
        decisionId: q.decisionId,
        result,
        live: { decision: q.decision, determiningPolicies: q.determiningPolicies },
        shadow: {
          decision,
          determiningPolicies: answer.kind === 'evaluated' ? answer.determiningPolicies : [],
          storeVersion: answer.storeVersion,
          ...(answer.kind === 'invalid' ? { invalid: answer.message } : {}),
        },
      });
    } catch {
      /* as above */
    }
  };

  const drainOnce = async () => {
    for (const lane of lanes.values()) {
      while (lane.queue.length) {
        const batch = lane.queue.splice(0, BATCH);
        let answers: EngineAnswer[];
        try {
          answers = await lane.target.engine.decide(batch.map((q) => q.request));
        } catch (err) {
          answers = batch.map(() => ({
            kind: 'failed',
            reason: 'engine_error',
            message: (err as Error).message,
          }));
        }
        batch.forEach((q, k) => compare(lane, q, answers[k]));
      }
    }
  };

  const pending = () => [...lanes.values()].some((l) => l.queue.length > 0);

  const run = () => {
    scheduled = false;
    if (running) return;
    running = drainOnce().finally(() => {
      running = undefined;
      if (pending()) schedule();
      else {
        const w = idleWaiters;
        idleWaiters = [];
        w.forEach((resolve) => resolve());
      }
    });
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };

  return {
    onDecision(event: DecisionEvent) {
      const d = event.decision;
      if (!d.store || !event.evaluated) return;
      const lane = lanes.get(d.store);
      if (!lane || (d.reason && NOT_DECIDED.has(d.reason))) return;
      if (lane.target.sampleRate < 1 && random() >= lane.target.sampleRate) return;
      if (lane.queue.length >= lane.target.queueSize) return count(lane, 'dropped');
      const e = event.evaluated;
      // Field by field: the engine request may carry a token, a signal and a deadline for the live call.
      lane.queue.push({
        decisionId: d.decisionId,
        decision: d.decision,
        determiningPolicies: d.determiningPolicies,
        request: {
          principal: e.principal,
          action: e.action,
          resource: e.resource,
          context: e.context,
          entities: e.entities,
        },
      });
      schedule();
    },
    readiness: {
      name: 'shadow',
      check: () => ({
        ready: true,
        detail: Object.fromEntries(
          [...lanes.values()].map((lane) => {
            const status: StoreStatus = lane.target.engine.status();
            return [
              lane.target.store,
              {
                source: lane.target.source,
                sampleRate: lane.target.sampleRate,
                version: status.version ?? null,
                ...(status.lastError ? { loadError: status.lastError } : {}),
                ...(lane.lastError ? { lastDecisionError: lane.lastError } : {}),
                shadowed: lane.counts.same + lane.counts.allow_to_deny + lane.counts.deny_to_allow,
                results: { ...lane.counts },
              },
            ];
          }),
        ),
      }),
    },
    idle() {
      if (!running && !pending()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
