import { compileContract } from '../shared/contract.js';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthzError, ERROR_CODES, type ErrorCode, type FieldProblem } from '../../core/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { StoreRegistry } from '../../engines/registry.js';
import { limitBody } from './body-limit.js';
import type { ReadinessCheck } from '../../core/health.js';
import { mountHealth } from './health.js';
import { mountAuthorize } from './authorize.js';
import { mountIsAuthorized } from './is-authorized.js';
import { mountStores } from './stores.js';
import { createLoadGate, limitInFlight, type LoadGate } from './load.js';
import { httpMetrics } from './metrics.js';
import { errorBody } from './render.js';

/** A door that answers errors in a shape of its own on its paths (AuthZEN). */
export interface ErrorRenderer {
  matches(path: string): boolean;
  render(c: Context, code: ErrorCode, message?: string, fields?: FieldProblem[]): Response;
}

export interface HttpAppDeps {
  pipeline: Pipeline;
  stores: StoreRegistry;
  bodyLimitBytes: number;
  /** Time to receive a request body (`server.requestTimeoutMs`); past it the answer is a 408. */
  bodyTimeoutMs?: number;
  /** Requests served at once before 503 `overloaded` (`server.maxInFlight`); default no limit. */
  maxInFlight?: number;
  /** The in-flight count shared with the repeat fast path; made from `maxInFlight` if not given. */
  gate?: LoadGate;
  /** True from the first moment of a shutdown: `/readyz` answers 503 and connections close. */
  draining?: () => boolean;
  batchLimit: number;
  /** Whether `explain: true` is honoured on the token API (default true). */
  explainTokenApi?: boolean;
  logger?: Logger;
  readiness?: ReadinessCheck[];
  /** Further doors mounted on the same server. */
  mounts?: ((app: Hono) => void)[];
  /**
   * Error shapes of doors mounted here, by path: errors raised before a door's handler runs (413,
   * 408, 503, 404) are rendered the door's way too. Other paths get the sidecar's error body.
   */
  errorRenderers?: ErrorRenderer[];
  /** Counts each request by route pattern, method and status (`authz_http_requests_total`). */
  recordRequest?: (route: string, method: string, status: number) => void;
}

/**
 * The methods each route of the app answers (middleware, mounted for every method, aside), as a
 * function of a request path: for the 405's `Allow` header. Built once, at the first miss.
 */
function methodsByPath(app: Hono): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(
          `^${r.path
            .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
            .replace(/\/:[^/]+/g, '/[^/]+')
            .replace(/\*/g, '.*')}$`,
        ),
      }));
    const methods = new Set(table.filter((t) => t.pattern.test(path)).map((t) => t.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/** The HTTP server's routes. Doors translate; every decision goes through the one pipeline. */
export function createHttpApp(deps: HttpAppDeps): Hono {
  // The request validators are compiled from openapi.yaml now, not on the first request.
  compileContract();
  const app = new Hono();
  // First, so that it sees the final status of everything after it, 413s included.
  const renderError = (c: Context, code: ErrorCode, message?: string, fields?: FieldProblem[]) => {
    const door = deps.errorRenderers?.find((r) => r.matches(c.req.path));
    if (door) return door.render(c, code, message, fields);
    return c.json(errorBody(code, message, fields), ERROR_CODES[code].status as ContentfulStatusCode);
  };
  if (deps.recordRequest) app.use('*', httpMetrics(deps.recordRequest));
  app.use(
    '*',
    limitInFlight(deps.gate ?? createLoadGate(deps.maxInFlight ?? Infinity), {
      ...(deps.draining ? { draining: deps.draining } : {}),
      reject: (c) => {
        c.header('Retry-After', '1');
        return renderError(c, 'overloaded');
      },
    }),
  );
  app.use(
    '*',
    limitBody(deps.bodyLimitBytes, deps.bodyTimeoutMs !== undefined ? { timeoutMs: deps.bodyTimeoutMs } : {}),
  );
  mountHealth(app, deps.stores, deps.readiness, deps.draining);
  mountIsAuthorized(app, deps.pipeline);
  mountStores(app, deps.stores);
  mountAuthorize(app, deps.pipeline, deps.batchLimit, deps.explainTokenApi ?? true);
  for (const mount of deps.mounts ?? []) mount(app);

  // A known path asked with another method is 405 with the methods it takes, not a 404.
  const allowed = methodsByPath(app);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length && !methods.includes(c.req.method)) {
      c.header('Allow', methods.join(', '));
      return renderError(
        c,
        'method_not_allowed',
        `${c.req.path} takes ${methods.join(', ')}, not ${c.req.method}.`,
      );
    }
    return renderError(c, 'not_found', `No endpoint ${c.req.method} ${c.req.path}.`);
  });
  app.onError((err, c) => {
    if (err instanceof AuthzError) return renderError(c, err.code, err.message, err.fields);
    // Fail closed: an unexpected error is a DENY, logged without the request body.
    deps.logger?.error({ err: { message: err.message, name: err.name }, path: c.req.path }, 'request failed');
    return renderError(c, 'internal_error');
  });
  return app;
}
