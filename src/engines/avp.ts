import { AVP_MAX_BATCH } from '../avp/limits.js';
import {
  BatchIsAuthorizedCommand,
  BatchIsAuthorizedWithTokenCommand,
  IsAuthorizedCommand,
  IsAuthorizedWithTokenCommand,
  type VerifiedPermissionsClient,
} from '@aws-sdk/client-verifiedpermissions';
import { uidKey, type Entity } from '../cedar/types.js';
import type { AvpStoreConfig } from '../config/index.js';
import { planCalls, type CallPlan, type PlanItem } from './avp-batch.js';
import { createAvpClient } from './avp-client.js';
import {
  AvpValueError,
  toAttributeRecord,
  toAvpAction,
  toAvpUid,
  toEntityItem,
  type AvpAttributeValue,
  type AvpEntityItem,
} from '../avp/values.js';
import type { EngineAnswer, EngineRequest, StoreEngine, StoreStatus } from '../core/engine.js';
import {
  AVP_CALL_OUTCOMES,
  batchResults,
  checkResult,
  classify,
  MalformedResponse,
  parseErrorDescription,
  RETRYABLE,
  UNAVAILABLE,
  type AvpCallOutcome,
  type AvpOperation,
  type AvpResult,
} from '../avp/calls.js';
import { callResiliently, CircuitBreaker, type CircuitState } from './resilience.js';
import type { AvpCounters, AvpEngineOptions } from './avp-options.js';

/** AVP's data-plane operations this engine calls. */
interface Prepared {
  index: number;
  request: EngineRequest;
  plan: PlanItem;
  /** AVP shapes, translated once. */
  context: Record<string, AvpAttributeValue>;
  entities: AvpEntityItem[];
  token?: { field: 'identityToken' | 'accessToken'; value: string };
}

/**
 * The `avp` engine: decides through Amazon Verified Permissions.
 *
 * - Single requests go out as IsAuthorized (IsAuthorizedWithToken in `with-token` mode for token
 *   callers); a batch is planned into BatchIsAuthorized calls of at most 30 that share their
 *   principal or resource (BatchIsAuthorizedWithToken: their token) and single calls for the rest
 *   (see avp-batch.ts: a decision never depends on what shares its call).
 * - Every `decide` has a time budget; calls that are throttled, get a 5xx or cannot connect are
 *   retried with jittered backoff while the budget lasts. A circuit breaker refuses calls for
 *   `resetMs` after `failureThreshold` consecutive failed attempts.
 * - Fails closed: anything but a well-formed answer is a `failed` answer (a DENY), with reason
 *   `engine_unavailable` (timeout, throttling, 5xx, network, open circuit) or `engine_error`
 *   (a malformed response, access denied, unknown policy store), and is counted.
 * - A batch call that AVP rejects as invalid is retried one request at a time, so one bad
 *   request does not take its neighbours down with it.
 */
export class AvpStoreEngine implements StoreEngine {
  readonly remote = true;
  readonly engine = 'avp';
  readonly wantsToken: boolean;
  private readonly client: VerifiedPermissionsClient;
  private readonly breaker: CircuitBreaker;
  private readonly staticEntities: Entity[];
  private readonly staticItems: AvpEntityItem[];
  private readonly staticUids: Set<string>;
  private readonly storeVersion: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly counts: AvpCounters = {
    calls: { IsAuthorized: 0, BatchIsAuthorized: 0, IsAuthorizedWithToken: 0, BatchIsAuthorizedWithToken: 0 },
    outcomes: Object.fromEntries(AVP_CALL_OUTCOMES.map((o) => [o, 0])) as Record<AvpCallOutcome, number>,
    retries: 0,
    decisions: { evaluated: 0, invalid: 0, failed: 0 },
    circuitOpened: 0,
  };

  readonly name: string;
  readonly config: AvpStoreConfig;

  constructor(private readonly options: AvpEngineOptions) {
    this.name = options.name;
    this.config = options.config;
    this.wantsToken = options.config.mode === 'with-token';
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.client =
      options.client ??
      createAvpClient({
        region: options.config.region,
        ...(options.config.endpoint ? { endpoint: options.config.endpoint } : {}),
        maxAttempts: 1,
        ...(options.sdk ? { sdk: options.sdk } : {}),
      });
    this.breaker = new CircuitBreaker({
      failureThreshold: options.config.circuitBreaker.failureThreshold,
      resetMs: options.config.circuitBreaker.resetMs,
      now: this.now,
      onStateChange: (state) => {
        if (state === 'open') this.counts.circuitOpened++;
        options.observer?.circuit?.({ store: this.name, state });
      },
    });
    this.staticEntities = options.staticEntities ?? [];
    this.staticItems = this.staticEntities.map((e, i) => toEntityItem(e, `entitiesFile[${i}]`));
    this.staticUids = new Set(this.staticEntities.map((e) => uidKey(e.uid)));
    this.storeVersion = `avp:${options.config.policyStoreId}`;
  }

  /**
   * Warms the SDK before the sidecar reports ready: the first call of a process loads the SDK's
   * modules and resolves credentials, which can take longer than a decision's whole budget. One
   * IsAuthorized about a made-up entity (AVP answers a ValidationException or a DENY; either
   * will do) goes out, uncounted and outside the breaker. It also shows early, in the log, whether
   * AVP is reachable with these credentials.
   */
  async start(timeoutMs = 5_000): Promise<void> {
    const warmUp = { entityType: 'AuthzSidecar::WarmUp', entityId: 'warm-up' };
    try {
      await this.client.send(
        new IsAuthorizedCommand({
          policyStoreId: this.config.policyStoreId,
          principal: warmUp,
          action: { actionType: 'AuthzSidecar::WarmUp::Action', actionId: 'warm-up' },
          resource: warmUp,
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } catch {
      /* any answer warms the SDK; failures show in the first decisions and their counters */
    }
  }

  /** A snapshot of the counters. */
  counters(): AvpCounters {
    return structuredClone(this.counts);
  }

  circuitState(): CircuitState {
    return this.breaker.current();
  }

  status(): StoreStatus {
    // Ready even while the circuit is open: an AVP outage makes decisions DENY (counted), but
    // pulling every sidecar out of service at once would turn it into an outage of the workloads.
    return {
      name: this.name,
      engine: this.engine,
      ready: true,
      version: this.storeVersion,
      circuit: this.breaker.current(),
    };
  }

  servingVersion(): string | undefined {
    return this.storeVersion;
  }

  async decide(requests: EngineRequest[]): Promise<EngineAnswer[]> {
    // The budget, or sooner when every caller said it stops waiting earlier.
    let deadline = this.now() + this.config.timeBudgetMs;
    if (requests.length && requests.every((r) => r.deadline !== undefined))
      deadline = Math.min(deadline, Math.max(...requests.map((r) => r.deadline!)));
    const answers: EngineAnswer[] = new Array(requests.length);
    const prepared: Prepared[] = [];
    requests.forEach((request, index) => {
      const p = this.prepare(request, index);
      if ('kind' in p) answers[index] = p;
      else prepared.push(p);
    });
    const plans = planCalls(
      prepared.map((p) => p.plan),
      { maxBatch: AVP_MAX_BATCH, minBatchSize: this.config.minBatchSize, shared: this.staticEntities },
    );
    await Promise.all(
      plans.map(async (plan) => {
        const group = plan.items.map((i) => prepared[i]!);
        const out = await this.run(group, plan, deadline);
        group.forEach((p, k) => (answers[p.index] = out[k]!));
      }),
    );
    for (const a of answers) this.counts.decisions[a.kind]++;
    return answers;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Checks and translates one request; an answer when it cannot go to AVP at all. */
  private prepare(request: EngineRequest, index: number): Prepared | EngineAnswer {
    const token = this.wantsToken ? request.token : undefined;
    const entities = token ? token.entities : request.entities;
    const context = token ? token.context : request.context;
    const clash = entities.find((e) => this.staticUids.has(uidKey(e.uid)));
    if (clash)
      return {
        kind: 'invalid',
        message: `entity ${uidKey(clash.uid)} is defined by the store and cannot be supplied`,
        storeVersion: this.storeVersion,
      };
    try {
      const field = token ? this.tokenField(token.use) : undefined;
      return {
        index,
        request,
        plan: {
          principal: request.principal,
          resource: request.resource,
          context,
          entities,
          ...(token ? { partition: `${field}:${token.value}` } : {}),
        },
        context: toAttributeRecord(context, 'context'),
        entities: entities.map((e, i) => toEntityItem(e, `entities[${i}]`)),
        ...(token && field ? { token: { field, value: token.value } } : {}),
      };
    } catch (err) {
      if (err instanceof AvpValueError)
        return { kind: 'invalid', message: err.message, storeVersion: this.storeVersion };
      throw err;
    }
  }

  private tokenField(use: 'identity' | 'access'): 'identityToken' | 'accessToken' {
    const chosen = this.config.tokenField === 'auto' ? use : this.config.tokenField;
    return chosen === 'identity' ? 'identityToken' : 'accessToken';
  }

  /** The entity list of one call: the static entities, then every request's own (deduplicated). */
  private entityList(group: Prepared[]): { entityList: AvpEntityItem[] } {
    const seen = new Set<string>();
    const list = [...this.staticItems];
    for (const p of group) {
      p.plan.entities.forEach((e, i) => {
        const key = uidKey(e.uid);
        if (group.length > 1 && seen.has(key)) return;
        seen.add(key);
        list.push(p.entities[i]!);
      });
    }
    return { entityList: list };
  }

  /** The one call that answers a group: which operation, its input, and how to read its output. */
  private command(group: Prepared[], plan: CallPlan) {
    const policyStoreId = this.config.policyStoreId;
    const item = (p: Prepared) => ({
      action: toAvpAction(p.request.action),
      resource: toAvpUid(p.request.resource),
      context: { contextMap: p.context },
    });
    const principal = (p: Prepared) => ({ principal: toAvpUid(p.request.principal) });
    const single = (o: AvpResult) => [o];
    const batch = (o: { results?: unknown }) => batchResults(o.results, group.length);
    const first = group[0]!;
    if (plan.fixed === 'none' && first.token) {
      const input = {
        policyStoreId,
        [first.token.field]: first.token.value,
        ...item(first),
        entities: this.entityList([first]),
      };
      return {
        operation: 'IsAuthorizedWithToken' as const,
        send: (signal: AbortSignal) =>
          this.client.send(new IsAuthorizedWithTokenCommand(input), { abortSignal: signal }).then(single),
      };
    }
    if (plan.fixed === 'none') {
      const input = {
        policyStoreId,
        ...principal(first),
        ...item(first),
        entities: this.entityList([first]),
      };
      return {
        operation: 'IsAuthorized' as const,
        send: (signal: AbortSignal) =>
          this.client.send(new IsAuthorizedCommand(input), { abortSignal: signal }).then(single),
      };
    }
    if (plan.fixed === 'partition') {
      const token = first.token!;
      const input = {
        policyStoreId,
        [token.field]: token.value,
        entities: this.entityList(group),
        requests: group.map(item),
      };
      return {
        operation: 'BatchIsAuthorizedWithToken' as const,
        send: (signal: AbortSignal) =>
          this.client.send(new BatchIsAuthorizedWithTokenCommand(input), { abortSignal: signal }).then(batch),
      };
    }
    const input = {
      policyStoreId,
      entities: this.entityList(group),
      requests: group.map((p) => ({ ...principal(p), ...item(p) })),
    };
    return {
      operation: 'BatchIsAuthorized' as const,
      send: (signal: AbortSignal) =>
        this.client.send(new BatchIsAuthorizedCommand(input), { abortSignal: signal }).then(batch),
    };
  }

  private async run(group: Prepared[], plan: CallPlan, deadline: number): Promise<EngineAnswer[]> {
    const { operation, send } = this.command(group, plan);
    // A call made for callers that have all gone away is abandoned (not retried, not waited for).
    const signal = group[0]!.request.signal;
    const cancel = signal && group.every((p) => p.request.signal === signal) ? signal : undefined;
    const sent = await callResiliently({
      ...(cancel ? { cancel } : {}),
      retries: this.config.retries,
      deadline,
      budgetMs: this.config.timeBudgetMs,
      retryBaseMs: this.config.retryBaseMs,
      breaker: this.breaker,
      now: this.now,
      random: this.random,
      attempt: async (signal) => {
        const output = await send(signal);
        try {
          return output.map(checkResult);
        } catch (err) {
          throw new MalformedResponse((err as Error).message);
        }
      },
      classify,
      retryable: (o) => RETRYABLE.has(o as AvpCallOutcome),
      answered: (o) => o === 'validation',
      onAttempt: (outcome, started, attempt) => {
        if (outcome !== 'circuit_open') {
          this.counts.calls[operation]++;
          if (attempt > 0) this.counts.retries++;
        }
        this.record(operation, outcome as AvpCallOutcome, started);
      },
    });
    switch (sent.kind) {
      case 'ok':
        return sent.value.map((r) => this.toAnswer(r));
      case 'answered':
        if (group.length > 1) {
          // One invalid request fails the whole batch call: ask again one by one.
          const singles = await Promise.all(
            group.map((p) => this.run([p], { items: [0], fixed: 'none' }, deadline)),
          );
          return singles.map((s) => s[0]!);
        }
        return [{ kind: 'invalid', message: `AVP: ${sent.message}`, storeVersion: this.storeVersion }];
      case 'failed': {
        const reason = UNAVAILABLE.has(sent.outcome as AvpCallOutcome)
          ? 'engine_unavailable'
          : 'engine_error';
        const message = `AVP ${operation} failed (${sent.outcome}): ${sent.message}`;
        return group.map(() => ({ kind: 'failed', reason, message }));
      }
    }
  }

  private toAnswer(r: AvpResult): EngineAnswer {
    // checkResult has checked the shape.
    const policies = r.determiningPolicies as { policyId: string }[];
    const errors = r.errors as { errorDescription: string }[];
    return {
      kind: 'evaluated',
      allow: r.decision === 'ALLOW',
      determiningPolicies: policies.map((p) => p.policyId),
      errors: errors.map((e) => parseErrorDescription(e.errorDescription)),
      storeVersion: this.storeVersion,
    };
  }

  private record(operation: AvpOperation, outcome: AvpCallOutcome, started: number): void {
    this.counts.outcomes[outcome]++;
    this.options.observer?.call?.({
      store: this.name,
      operation,
      outcome,
      durationSeconds: started ? (performance.now() - started) / 1000 : 0,
    });
  }
}
