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
