import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';

/**
 * A maker of an abort signal that fires when the HTTP caller goes away before its answer is written (the
 * response's socket closed first), so a remote engine stops paying for calls made on its behalf.
 * Undefined outside @hono/node-server (app.request() in tests).
 */
export function callerGone(c: Context): (() => AbortSignal | undefined) | undefined {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing || typeof outgoing.once !== 'function') return undefined;
  // Made on demand: only an engine that makes remote calls asks for it.
  let signal: AbortSignal | undefined;
  return () => {
    if (!signal) {
      const controller = new AbortController();
      if (outgoing.writableFinished || outgoing.destroyed) controller.abort();
      else
        outgoing.once('close', () => {
          if (!outgoing.writableFinished) controller.abort();
        });
      signal = controller.signal;
    }
    return signal;
  };
}

/**
 * A deadline from a proxy's own timeout: Envoy's `x-envoy-expected-rq-timeout-ms` (what it will
 * wait for this check). Undefined when absent or not a positive integer.
 */
export function proxyDeadline(c: Context, now = Date.now()): number | undefined {
  const header = c.req.header('x-envoy-expected-rq-timeout-ms');
  if (header === undefined || !/^\d{1,9}$/.test(header)) return undefined;
  const ms = Number(header);
  return ms > 0 ? now + ms : undefined;
}
