import { AVP_MAX_BATCH } from '../avp/limits.js';
import {
  BatchIsAuthorizedCommand,
  BatchIsAuthorizedWithTokenCommand,
  IsAuthorizedCommand,
  IsAuthorizedWithTokenCommand,
  type VerifiedPermissionsClient,
  type VerifiedPermissionsClientConfig,
} from '@aws-sdk/client-verifiedpermissions';
import { uidKey, type Entity } from '../cedar/types.js';
import type { AvpStoreConfig } from '../config/index.js';
import type { DecisionError } from '../core/decision.js';
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
import { backoffMs, CircuitBreaker, sleep, type CircuitState } from './resilience.js';

/** AVP's data-plane operations this engine calls. */
export type AvpOperation =
  'IsAuthorized' | 'BatchIsAuthorized' | 'IsAuthorizedWithToken' | 'BatchIsAuthorizedWithToken';

/**
 * How one call attempt ended. `validation`: AVP rejected the request itself (the decision is
 * `invalid`, AVP is healthy). `circuit_open`: refused locally, nothing was sent.
 */
export type AvpCallOutcome =
  | 'ok'
  | 'validation'
  | 'throttled'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'malformed'
  | 'client_error'
  | 'circuit_open';

export const AVP_CALL_OUTCOMES: readonly AvpCallOutcome[] = [
  'ok',
  'validation',
  'throttled',
  'server_error',
  'timeout',
  'network',
  'malformed',
  'client_error',
  'circuit_open',
];

const RETRYABLE = new Set<AvpCallOutcome>(['throttled', 'server_error', 'network']);
/** Outcomes that say AVP cannot be reached or cannot keep up (reason `engine_unavailable`). */
const UNAVAILABLE = new Set<AvpCallOutcome>([
  'throttled',
  'server_error',
  'timeout',
  'network',
  'circuit_open',
]);

/** Hooks for metrics (the lead wires prom-client here). Label values are all bounded. */
export interface AvpObserver {
  /** One call attempt to AVP (or one refused by the open circuit). */
  call?(event: {
    store: string;
    operation: AvpOperation;
    outcome: AvpCallOutcome;
    durationSeconds: number;
  }): void;
  /** Decisions answered by this engine, by result. */
  decisions?(event: { store: string; result: 'evaluated' | 'invalid' | 'failed'; count: number }): void;
  circuit?(event: { store: string; state: CircuitState }): void;
}

/** Counters since start, for tests, benchmarks and metric collectors that read at scrape time. */
export interface AvpCounters {
  /** Call attempts sent to AVP, by operation (refusals by the open circuit are not calls). */
  calls: Record<AvpOperation, number>;
  /** Attempts (and circuit refusals) by outcome. */
  outcomes: Record<AvpCallOutcome, number>;
  retries: number;
  /** Decisions this engine answered, by result; `failed` ones were denied (fail closed). */
  decisions: { evaluated: number; invalid: number; failed: number };
  circuitOpened: number;
}

export interface AvpEngineOptions {
  name: string;
  config: AvpStoreConfig;
  /** Entities sent with every request (the config's `entitiesFile`). */
  staticEntities?: Entity[];
  /** A ready client (tests); otherwise one is built from the config. */
  client?: VerifiedPermissionsClient;
  /** Test/embedder-only SDK settings such as static credentials; never from config. */
  sdk?: Partial<VerifiedPermissionsClientConfig>;
  observer?: AvpObserver;
  now?: () => number;
  random?: () => number;
}

interface Prepared {
  index: number;
  request: EngineRequest;
  plan: PlanItem;
  /** AVP shapes, translated once. */
  context: Record<string, AvpAttributeValue>;
  entities: AvpEntityItem[];
  token?: { field: 'identityToken' | 'accessToken'; value: string };
}

type Sent<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'validation'; message: string }
  | { kind: 'failed'; outcome: AvpCallOutcome; message: string };

class MalformedResponse extends Error {}
class BudgetExpired extends Error {}

interface AvpResult {
  decision?: unknown;
  determiningPolicies?: unknown;
  errors?: unknown;
}

/** Parses an AVP evaluation error description back into policy id and message (see the codec). */
export function parseErrorDescription(description: string): DecisionError {
  const m = /^error while evaluating policy `([^`]*)`: ([\s\S]*)$/.exec(description);
  return m ? { policyId: m[1]!, message: m[2]! } : { policyId: '', message: description };
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
    const deadline = this.now() + this.config.timeBudgetMs;
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
    if (this.options.observer?.decisions) {
      for (const result of ['evaluated', 'invalid', 'failed'] as const) {
        const count = answers.filter((a) => a.kind === result).length;
        if (count) this.options.observer.decisions({ store: this.name, result, count });
      }
    }
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

  private async run(group: Prepared[], plan: CallPlan, deadline: number): Promise<EngineAnswer[]> {
    const policyStoreId = this.config.policyStoreId;
    const item = (p: Prepared) => ({
      action: toAvpAction(p.request.action),
      resource: toAvpUid(p.request.resource),
      context: { contextMap: p.context },
    });
    let sent: Sent<AvpResult[]>;
    let operation: AvpOperation;
    if (plan.fixed === 'none') {
      const p = group[0]!;
      if (p.token) {
        operation = 'IsAuthorizedWithToken';
        const input = {
          policyStoreId,
          [p.token.field]: p.token.value,
          ...item(p),
          entities: this.entityList([p]),
        };
        sent = await this.send(
          operation,
          (abortSignal) => this.client.send(new IsAuthorizedWithTokenCommand(input), { abortSignal }),
          deadline,
          (o) => [o],
        );
      } else {
        operation = 'IsAuthorized';
        const input = {
          policyStoreId,
          principal: toAvpUid(p.request.principal),
          ...item(p),
          entities: this.entityList([p]),
        };
        sent = await this.send(
          operation,
          (abortSignal) => this.client.send(new IsAuthorizedCommand(input), { abortSignal }),
          deadline,
          (o) => [o],
        );
      }
    } else if (plan.fixed === 'partition') {
      const token = group[0]!.token!;
      operation = 'BatchIsAuthorizedWithToken';
      const input = {
        policyStoreId,
        [token.field]: token.value,
        entities: this.entityList(group),
        requests: group.map(item),
      };
      sent = await this.send(
        operation,
        (abortSignal) => this.client.send(new BatchIsAuthorizedWithTokenCommand(input), { abortSignal }),
        deadline,
        (o) => batchResults(o.results, group.length),
      );
    } else {
      operation = 'BatchIsAuthorized';
      const input = {
        policyStoreId,
        entities: this.entityList(group),
        requests: group.map((p) => ({ principal: toAvpUid(p.request.principal), ...item(p) })),
      };
      sent = await this.send(
        operation,
        (abortSignal) => this.client.send(new BatchIsAuthorizedCommand(input), { abortSignal }),
        deadline,
        (o) => batchResults(o.results, group.length),
      );
    }

    switch (sent.kind) {
      case 'ok':
        return sent.value.map((r) => this.toAnswer(r));
      case 'validation':
        if (group.length > 1) {
          // One invalid request fails the whole batch call: ask again one by one.
          const singles = await Promise.all(
            group.map((p) => this.run([p], { items: [0], fixed: 'none' }, deadline)),
          );
          return singles.map((s) => s[0]!);
        }
        return [{ kind: 'invalid', message: `AVP: ${sent.message}`, storeVersion: this.storeVersion }];
      case 'failed': {
        const reason = UNAVAILABLE.has(sent.outcome) ? 'engine_unavailable' : 'engine_error';
        const message = `AVP ${operation} failed (${sent.outcome}): ${sent.message}`;
        return group.map(() => ({ kind: 'failed', reason, message }));
      }
    }
  }

  private toAnswer(r: AvpResult): EngineAnswer {
    // batchResults / single parse have checked the shape.
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

  /**
   * One call with the budget, the breaker and retries. `parse` turns the output into results and
   * throws on a malformed one.
   */
  private async send<O>(
    operation: AvpOperation,
    call: (abortSignal: AbortSignal) => Promise<O>,
    deadline: number,
    parse: (output: O) => AvpResult[],
  ): Promise<Sent<AvpResult[]>> {
    let last: { outcome: AvpCallOutcome; message: string } = { outcome: 'timeout', message: 'no time left' };
    for (let attempt = 0; attempt <= this.config.retries; attempt++) {
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        last = { outcome: 'timeout', message: `time budget of ${this.config.timeBudgetMs} ms used up` };
        break;
      }
      if (!this.breaker.tryAcquire()) {
        this.record(operation, 'circuit_open', 0);
        return { kind: 'failed', outcome: 'circuit_open', message: 'circuit breaker is open' };
      }
      this.counts.calls[operation]++;
      if (attempt > 0) this.counts.retries++;
      const started = performance.now();
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      // The budget holds whatever the SDK does before it looks at the signal (a first call loads
      // modules and resolves credentials): the race settles at the deadline either way.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new BudgetExpired());
        }, remaining);
      });
      let outcome: AvpCallOutcome;
      let message: string;
      try {
        const pending = call(abort.signal);
        pending.catch(() => undefined); // settles after the race was lost; nothing to report
        const output = await Promise.race([pending, expired]);
        let results: AvpResult[];
        try {
          results = parse(output).map(checkResult);
        } catch (err) {
          throw new MalformedResponse((err as Error).message);
        }
        this.breaker.success();
        this.record(operation, 'ok', started);
        return { kind: 'ok', value: results };
      } catch (err) {
        ({ outcome, message } = classify(err, abort.signal.aborted));
      } finally {
        clearTimeout(timer);
      }
      this.record(operation, outcome, started);
      if (outcome === 'validation') {
        this.breaker.success(); // AVP answered; the request was at fault
        return { kind: 'validation', message };
      }
      this.breaker.failure();
      last = { outcome, message };
      if (!RETRYABLE.has(outcome) || attempt === this.config.retries) break;
      const wait = backoffMs(attempt, this.config.retryBaseMs, this.config.timeBudgetMs, this.random);
      if (this.now() + wait >= deadline) {
        break;
      }
      await sleep(wait);
    }
    return { kind: 'failed', outcome: last.outcome, message: last.message };
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

function batchResults(results: unknown, expected: number): AvpResult[] {
  if (!Array.isArray(results)) throw new Error('results is not a list');
  if (results.length !== expected) throw new Error(`expected ${expected} results, got ${results.length}`);
  return results as AvpResult[];
}

function checkResult(r: AvpResult): AvpResult {
  if (!r || typeof r !== 'object') throw new Error('a result is not an object');
  if (r.decision !== 'ALLOW' && r.decision !== 'DENY')
    throw new Error(`decision is ${JSON.stringify(r.decision)}, not ALLOW or DENY`);
  const policies = r.determiningPolicies ?? [];
  if (!Array.isArray(policies) || policies.some((p) => typeof p?.policyId !== 'string'))
    throw new Error('determiningPolicies is not a list of {policyId}');
  const errors = r.errors ?? [];
  if (!Array.isArray(errors) || errors.some((e) => typeof e?.errorDescription !== 'string'))
    throw new Error('errors is not a list of {errorDescription}');
  return { decision: r.decision, determiningPolicies: policies, errors };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Sorts an SDK error into an outcome. The message never carries the request (no token in it). */
export function classify(err: unknown, aborted: boolean): { outcome: AvpCallOutcome; message: string } {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    cause?: { code?: string };
  };
  const message = String(e?.message ?? err).slice(0, 300);
  if (err instanceof MalformedResponse) return { outcome: 'malformed', message };
  if (err instanceof BudgetExpired || aborted || e?.name === 'AbortError')
    return { outcome: 'timeout', message: 'timed out' };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'ValidationException') return { outcome: 'validation', message };
  if (e?.name === 'ThrottlingException' || status === 429) return { outcome: 'throttled', message };
  if (e?.code && NETWORK_CODES.has(e.code)) return { outcome: 'network', message: `${e.code}` };
  if (e?.cause?.code && NETWORK_CODES.has(e.cause.code)) return { outcome: 'network', message: e.cause.code };
  if (e?.name === 'TimeoutError') return { outcome: 'network', message };
  if (status !== undefined && status >= 500) return { outcome: 'server_error', message };
  if (e?.$fault === 'server' && status === undefined) return { outcome: 'server_error', message };
  if (status !== undefined && status >= 400 && e?.$fault === 'client' && e?.name !== 'SyntaxError')
    return { outcome: 'client_error', message };
  return { outcome: 'malformed', message };
}
