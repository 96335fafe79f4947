import { describe, expect, it } from 'vitest';
import { backoffMs, CircuitBreaker, type CircuitState } from './resilience.js';

describe('circuit breaker', () => {
  it('opens after N consecutive failures, refuses until resetMs, then lets one probe through', () => {
    let now = 0;
    const states: CircuitState[] = [];
    const b = new CircuitBreaker({
      failureThreshold: 3,
      resetMs: 1000,
      now: () => now,
      onStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.current()).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    b.success(); // a success resets the count
    for (let i = 0; i < 3; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.current()).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 999;
    expect(b.tryAcquire()).toBe(false);
    now = 1000;
    expect(b.current()).toBe('half-open');
    expect(b.tryAcquire()).toBe(true); // the probe
    expect(b.tryAcquire()).toBe(false); // others wait for it
    b.failure(); // the probe failed: open again, for another resetMs
    expect(b.current()).toBe('open');
    now = 1500;
    expect(b.tryAcquire()).toBe(false);
    now = 2000;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.current()).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('a released probe lets the next caller probe', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, resetMs: 10, now: () => now });
    b.tryAcquire();
    b.failure();
    now = 10;
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });
});

describe('jittered backoff', () => {
  it('is random in [0, min(cap, base·2^attempt))', () => {
    expect(backoffMs(0, 25, 1000, () => 0.999)).toBe(24);
    expect(backoffMs(3, 25, 1000, () => 0.5)).toBe(100);
    expect(backoffMs(10, 25, 150, () => 0.999)).toBe(149);
    expect(backoffMs(2, 25, 1000, () => 0)).toBe(0);
  });
});
