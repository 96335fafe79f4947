import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './render.js';

/** Paths that are never counted or shed: probes and scrapes must answer under load. */
export const UNLIMITED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The count of requests being served now, shared by the HTTP server's two ways in (hono's
 * middleware below and the repeat fast path, `front.ts`), so `server.maxInFlight` bounds both.
 */
export interface LoadGate {
  /** Counts one more request in; false (and nothing counted) when `maxInFlight` are in already. */
  enter(): boolean;
  /** Counts one out; call once per `enter()` that returned true. */
  leave(): void;
  /** Requests being served now (probes and scrapes not counted). */
  inFlight(): number;
}

export function createLoadGate(maxInFlight: number): LoadGate {
  let inFlight = 0;
  return {
    enter() {
      if (inFlight >= maxInFlight) return false;
      inFlight++;
      return true;
    },
    leave() {
      inFlight--;
    },
    inFlight: () => inFlight,
  };
}

/**
 * The in-flight limit: past `maxInFlight` requests at once, one more answers 503 `overloaded` with
 * `Retry-After: 1` at once (never queued, so a flood costs a short answer per request, not
 * memory). `/healthz`, `/readyz` and `/metrics` are not counted: they do not reach the pipeline,
 * and a probe that fails under load would restart or unroute a sidecar that is only busy.
 *
 * While `draining()` is true every answer carries `Connection: close`, so that keep-alive
 * clients reconnect (to another instance) instead of reusing a connection that is about to close.
 */
export function limitInFlight(
  gate: LoadGate,
  options: { draining?: () => boolean; reject?: (c: Context) => Response } = {},
): MiddlewareHandler {
  const draining = options.draining ?? (() => false);
  const reject = options.reject ?? ((c) => c.json(errorBody('overloaded'), 503, { 'Retry-After': '1' }));
  return async (c, next) => {
    if (draining()) c.header('Connection', 'close');
    if (UNLIMITED_PATHS.has(c.req.path)) return next();
    if (!gate.enter()) return reject(c);
    try {
      await next();
    } finally {
      gate.leave();
    }
  };
}
