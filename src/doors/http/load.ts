import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './render.js';

/** Paths that are never counted or shed: probes and scrapes must answer under load. */
export const UNLIMITED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface LoadGate {
  /** Requests being served now (probes and scrapes not counted). */
  inFlight(): number;
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
  maxInFlight: number,
  options: { draining?: () => boolean; reject?: (c: Context) => Response } = {},
): MiddlewareHandler & LoadGate {
  const draining = options.draining ?? (() => false);
  const reject = options.reject ?? ((c) => c.json(errorBody('overloaded'), 503, { 'Retry-After': '1' }));
  let inFlight = 0;
  const middleware: MiddlewareHandler = async (c, next) => {
    if (draining()) c.header('Connection', 'close');
    if (UNLIMITED_PATHS.has(c.req.path)) return next();
    if (inFlight >= maxInFlight) return reject(c);
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
  return Object.assign(middleware, { inFlight: () => inFlight });
}
