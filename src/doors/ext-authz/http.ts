import { callerGone, proxyDeadline } from '../shared/cancel.js';
import { authorizationHeader } from '../shared/bearer.js';
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import type { ExtAuthzConfig } from '../../config/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { HttpRouteTable } from '../../routing/http-routes.js';
import { rawCheck, toDecisionRequest, type CheckInput } from './request.js';
import { toVerdict } from './response.js';

export interface ExtAuthzHttpDeps {
  pipeline: Pipeline;
  routes: HttpRouteTable | undefined;
  config: ExtAuthzConfig;
}

/** The request target exactly as it came over the wire (hono's URL has dot segments resolved). */
function rawTarget(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.url) return incoming.url;
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

/**
 * The HTTP ext_authz door, two ways in:
 * - Envoy (`<pathPrefix>/<original path>`, any method): Envoy's HTTP authorization service sends
 *   the original method and path, with the allowed headers. The original path is what follows
 *   the prefix; headers never override it, so a client cannot smuggle another path past Envoy.
 * - nginx `auth_request` (`<authRequestPath>`): nginx sends a subrequest whose original URI and
 *   method are in headers that nginx itself sets (`proxy_set_header`), read only here.
 * ALLOW answers 200 with the upstream headers; DENY answers 403, or 401 with a Bearer challenge.
 */
export function mountExtAuthzHttp(app: Hono, deps: ExtAuthzHttpDeps): void {
  const { pipeline, routes, config } = deps;

  const answer = async (c: Context, input: CheckInput) => {
    // A repeat of an answered check (same method, target and verified caller) is answered before
    // the route table runs: measured, the table and the semantic cache key were a fifth of a
    // cached check's CPU.
    const { raw, token } = rawCheck(input);
    const decision = await pipeline.decideRaw(raw, token, () => {
      const request = toDecisionRequest(routes, input);
      const signal = callerGone(c);
      if (signal) request.signal = signal;
      const deadline = proxyDeadline(c);
      if (deadline !== undefined) request.deadline = deadline;
      return request;
    });
    const verdict = toVerdict(decision, config.upstreamHeaders);
    const headers = verdict.allow ? verdict.upstreamHeaders : verdict.responseHeaders;
    return c.body(verdict.body, verdict.status, { ...headers, 'content-type': 'application/json' });
  };

  app.all(config.authRequestPath, (c) =>
    answer(c, {
      method: c.req.header(config.originalMethodHeader),
      target: c.req.header(config.originalUriHeader),
      authorization: authorizationHeader(c),
    }),
  );

  const prefix = config.pathPrefix;
  const envoy = (c: Context) => {
    const raw = rawTarget(c);
    const target = raw.startsWith(prefix) ? raw.slice(prefix.length) : undefined;
    return answer(c, {
      method: c.req.method,
      // `/ext-authz` alone is the root; `/ext-authzX` is not under the prefix.
      target:
        target === '' || target?.startsWith('?')
          ? `/${target}`
          : target?.startsWith('/')
            ? target
            : undefined,
      authorization: authorizationHeader(c),
    });
  };
  app.all(prefix, envoy);
  app.all(`${prefix}/*`, envoy);
}
