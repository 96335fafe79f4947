import { serve } from '@hono/node-server';
import { createServer, type ServerOptions } from 'node:http';
import type { Config } from '../../config/schema.js';
import type { RequestListener } from './front.js';

/** Starting and stopping the HTTP listeners: Node's timeouts set from the config, graceful close. */

export type Server = ReturnType<typeof serve>;

/** The timeouts of `server:` that Node's HTTP server enforces itself. */
type ServerTimeouts = Pick<Config['server'], 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

export function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
  timeouts: ServerTimeouts,
  /** What sees each request before hono (the repeat fast path, front.ts). */
  front?: (hono: RequestListener) => RequestListener,
): Promise<Server> {
  const serverOptions = {
    // Node answers a bare 408 and closes when the headers are not in by then.
    headersTimeout: timeouts.headersTimeoutMs,
    // A backstop only: the doors answer a body that is late with a JSON 408 at
    // requestTimeoutMs after the headers; this catches a body nobody reads.
    requestTimeout: timeouts.requestTimeoutMs + timeouts.headersTimeoutMs + 1_000,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // How often Node checks those timeouts (default 30 s, far coarser than a short timeout).
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4))),
  };
  return new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        port,
        hostname,
        serverOptions,
        // Typed for every server kind @hono/node-server can make; this is an HTTP/1 server.
        ...(front
          ? {
              createServer: ((options: ServerOptions, hono: RequestListener) =>
                createServer(options, front(hono))) as unknown as typeof createServer,
            }
          : {}),
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
}

export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops the rest. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      resolve();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}

export function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(
    () => clearTimeout(timer),
  );
}
