import { Hono } from 'hono';
import { AuthzError } from '../../core/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { StoreRegistry } from '../../engines/registry.js';
import { limitBody } from './body-limit.js';
import type { ReadinessCheck } from '../../core/health.js';
import { mountHealth } from './health.js';
import { mountAuthorize } from './authorize.js';
import { mountIsAuthorized } from './is-authorized.js';
import { limitInFlight } from './load.js';
import { httpMetrics } from './metrics.js';
import { errorBody, renderError } from './render.js';

export interface HttpAppDeps {
  pipeline: Pipeline;
  stores: StoreRegistry;
  bodyLimitBytes: number;
  /** Time to receive a request body (`server.requestTimeoutMs`); past it the answer is a 408. */
  bodyTimeoutMs?: number;
  /** Requests served at once before 503 `overloaded` (`server.maxInFlight`); default no limit. */
  maxInFlight?: number;
  /** True from the first moment of a shutdown: `/readyz` answers 503 and connections close. */
  draining?: () => boolean;
  batchLimit: number;
  logger?: Logger;
  readiness?: ReadinessCheck[];
  /** Further doors mounted on the same server. */
  mounts?: ((app: Hono) => void)[];
  /** Counts each request by route pattern, method and status (`authz_http_requests_total`). */
  recordRequest?: (route: string, method: string, status: number) => void;
}

/** The HTTP server's routes. Doors translate; every decision goes through the one pipeline. */
export function createHttpApp(deps: HttpAppDeps): Hono {
  const app = new Hono();
  // First, so that it sees the final status of everything after it, 413s included.
  if (deps.recordRequest) app.use('*', httpMetrics(deps.recordRequest));
  app.use('*', limitInFlight(deps.maxInFlight ?? Infinity, deps.draining));
  app.use(
    '*',
    limitBody(deps.bodyLimitBytes, deps.bodyTimeoutMs !== undefined ? { timeoutMs: deps.bodyTimeoutMs } : {}),
  );
  mountHealth(app, deps.stores, deps.readiness, deps.draining);
  mountIsAuthorized(app, deps.pipeline);
  mountAuthorize(app, deps.pipeline, deps.batchLimit);
  for (const mount of deps.mounts ?? []) mount(app);

  app.notFound((c) => c.json(errorBody('not_found', `No endpoint ${c.req.method} ${c.req.path}.`), 404));
  app.onError((err, c) => {
    if (err instanceof AuthzError) return renderError(c, err);
    // Fail closed: an unexpected error is a DENY, logged without the request body.
    deps.logger?.error({ err: { message: err.message, name: err.name }, path: c.req.path }, 'request failed');
    return c.json(errorBody('internal_error'), 500);
  });
  return app;
}
