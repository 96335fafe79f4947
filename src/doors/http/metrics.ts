import type { Context, Hono, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Registry } from 'prom-client';

/** The `route` label of a request that matched no route (unknown path or method). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route pattern of the request (`/v1/is-authorized`, `/users/:id`, `/ext-authz/*`), never the
 * raw path: the last matched route whose handler is not a middleware. Like hono's own route
 * helper, a handler that takes `next` (two parameters) counts as middleware. A request answered
 * by a middleware before its handler (a 413) still gets its route's pattern.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.handler.length < 2) return r.path;
  }
  return UNMATCHED_ROUTE;
}

/** Counts every HTTP request by route pattern, method and final status (413s and 500s included). */
export function httpMetrics(
  record: (route: string, method: string, status: number) => void,
): MiddlewareHandler {
  return async function httpMetricsMiddleware(c, next) {
    await next();
    record(routeLabel(c), c.req.method, c.res.status);
  };
}

/** `GET /metrics`: the registry in Prometheus text exposition format. */
export function mountMetrics(registry: Registry): (app: Hono) => void {
  return (app) => {
    app.get('/metrics', async (c) =>
      c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
    );
  };
}
