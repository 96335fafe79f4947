/**
 * The pieces that keep a remote engine from hurting its callers: a circuit breaker and jittered
 * backoff inside a time budget.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  resetMs: number;
  /** Clock, for tests. */
  now?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

/**
 * Closed: calls go through; `failureThreshold` consecutive failures open it. Open: calls are
 * refused at once (no network) for `resetMs`. Half-open: one probe call goes through while
 * others are still refused; its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The state as of now (an open circuit whose reset time has passed reports half-open). */
  current(): CircuitState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.resetMs) return 'half-open';
    return this.state;
  }

  /**
   * Asks to make a call. Returns false when the circuit refuses it; otherwise the caller must
   * report the outcome with `success()` or `failure()` exactly once.
   */
  tryAcquire(): boolean {
    const state = this.current();
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    // half-open: let one probe through
    if (this.state !== 'half-open') this.transition('half-open');
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.failures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (wasProbe || (this.state === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  /** A call that neither proved nor disproved the backend's health (e.g. it was never sent). */
  release(): void {
    this.probing = false;
  }

  private transition(state: CircuitState): void {
    this.state = state;
    this.options.onStateChange?.(state);
  }
}

/**
 * "Full jitter" exponential backoff: a random wait in [0, min(cap, base · 2^attempt)), so that
 * sidecars throttled together do not retry together.
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Why a budget timer ended a call. */
export class BudgetExpired extends Error {}

/** Why a call was abandoned: its caller went away. */
class CallCancelled extends Error {}

export interface ResilientCall<T> {
  /** Retries after the first attempt, within the budget. */
  retries: number;
  /** Absolute deadline (`now()` clock) by which the whole call must settle. */
  deadline: number;
  /** The budget the deadline came from, in ms: the cap of a backoff wait, and for messages. */
  budgetMs: number;
  retryBaseMs: number;
  breaker: CircuitBreaker;
  now: () => number;
  random: () => number;
  /** One attempt. Aborted through the signal when the deadline passes; throws on failure. */
  attempt: (signal: AbortSignal) => Promise<T>;
  /** Sorts a failure into an outcome (the messages never carry the request). */
  classify: (err: unknown, aborted: boolean) => { outcome: string; message: string };
  /** Outcomes worth another attempt (throttled, 5xx, network). */
  retryable: (outcome: string) => boolean;
  /** Outcomes where the backend answered and the request was at fault: no retry, and healthy. */
  answered: (outcome: string) => boolean;
  /** Told about every attempt and circuit refusal: its outcome and when it started (0 when never sent). */
  onAttempt?: (outcome: string, startedMs: number, attempt: number) => void;
  /** Aborted when nobody waits for the answer any more: the attempt is aborted, no retry follows. */
  cancel?: AbortSignal;
}

export type ResilientResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'answered'; outcome: string; message: string }
  | { kind: 'failed'; outcome: string; message: string };

/**
 * One remote call with a time budget, a circuit breaker and jittered retries. The budget holds
 * whatever the client does before it looks at the signal (a first call loads modules and resolves
 * credentials): each attempt races a timer that aborts it at the deadline.
 */
export async function callResiliently<T>(c: ResilientCall<T>): Promise<ResilientResult<T>> {
  let last = { outcome: 'timeout', message: 'no time left' };
  for (let attempt = 0; attempt <= c.retries; attempt++) {
    if (c.cancel?.aborted) return { kind: 'failed', outcome: 'cancelled', message: 'the caller went away' };
    const remaining = c.deadline - c.now();
    if (remaining <= 0) {
      last = { outcome: 'timeout', message: `time budget of ${c.budgetMs} ms used up` };
      break;
    }
    if (!c.breaker.tryAcquire()) {
      c.onAttempt?.('circuit_open', 0, attempt);
      return { kind: 'failed', outcome: 'circuit_open', message: 'circuit breaker is open' };
    }
    const started = performance.now();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onCancel: (() => void) | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new BudgetExpired());
      }, remaining);
      onCancel = () => {
        abort.abort();
        reject(new CallCancelled());
      };
      c.cancel?.addEventListener('abort', onCancel, { once: true });
    });
    let failure: { outcome: string; message: string };
    try {
      const pending = c.attempt(abort.signal);
      pending.catch(() => undefined); // settles after the race was lost; nothing to report
      const value = await Promise.race([pending, expired]);
      c.breaker.success();
      c.onAttempt?.('ok', started, attempt);
      return { kind: 'ok', value };
    } catch (err) {
      failure =
        err instanceof CallCancelled
          ? { outcome: 'cancelled', message: 'the caller went away' }
          : c.classify(err, abort.signal.aborted);
    } finally {
      clearTimeout(timer);
      if (onCancel) c.cancel?.removeEventListener('abort', onCancel);
    }
    c.onAttempt?.(failure.outcome, started, attempt);
    // Not the backend's fault: the breaker neither opens nor closes for it.
    if (failure.outcome === 'cancelled') {
      c.breaker.release();
      return { kind: 'failed', ...failure };
    }
    if (c.answered(failure.outcome)) {
      c.breaker.success();
      return { kind: 'answered', ...failure };
    }
    c.breaker.failure();
    last = failure;
    if (!c.retryable(failure.outcome) || attempt === c.retries) break;
    const wait = backoffMs(attempt, c.retryBaseMs, c.budgetMs, c.random);
    if (c.now() + wait >= c.deadline) break;
    await sleep(wait);
  }
  return { kind: 'failed', ...last };
}
