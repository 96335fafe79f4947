import { callerGone, proxyDeadline } from '../shared/cancel.js';
import { authorizationHeader } from '../shared/bearer.js';
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import type { ExtAuthzConfig } from '../../config/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { HttpRouteTable } from '../../routing/http-routes.js';
import { rawCheck, toDecisionRequest, type CheckInput } from './request.js';
import { toVerdict } from './response.js';
import { repeatMissOf } from '../http/body-limit.js';

export interface ExtAuthzHttpDeps {
  pipeline: Pipeline;
  routes: HttpRouteTable | undefined;
  config: ExtAuthzConfig;
}

const RAW_TARGET = Symbol('authz.rawTarget');

/**
 * Keeps the request target exactly as it came over the wire, and points hono's routing at the
 * Envoy door itself: @hono/node-server resolves dot segments before routing, so
 * `/ext-authz/../healthz` would otherwise be answered by `/healthz` with a 200, which Envoy takes
 * for an ALLOW. A target under the prefix is the Envoy door's, whatever it holds (front.ts).
 */
export function pinToEnvoyDoor(incoming: IncomingMessage, route: string): void {
  (incoming as IncomingMessage & { [RAW_TARGET]?: string })[RAW_TARGET] = incoming.url!;
  incoming.url = route;
}

/** The request target exactly as it came over the wire (hono's URL has dot segments resolved). */
function rawTarget(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage & { [RAW_TARGET]?: string } } | undefined)
    ?.incoming;
  const pinned = incoming?.[RAW_TARGET];
  if (pinned !== undefined) return pinned;
  if (incoming?.url) return incoming.url;
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

/** Whether a request target is under the Envoy prefix (`/ext-authz`, `/ext-authz/…`, `/ext-authz?…`). */
export function underPrefix(target: string, prefix: string): boolean {
  if (!target.startsWith(prefix)) return false;
  const next = target.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}

/** The Envoy door's check: the original path is what follows the prefix in the raw target. */
export function envoyInput(
  prefix: string,
  method: string,
  target: string,
  authorization: string | undefined,
): CheckInput {
  const rest = target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
  return {
    method,
    // `/ext-authz` alone is the root; `/ext-authzX` is not under the prefix.
    target: rest === '' || rest?.startsWith('?') ? `/${rest}` : rest?.startsWith('/') ? rest : undefined,
    authorization,
  };
}

/** The nginx door's check: the original method and URI from the headers nginx sets. */
export function nginxInput(
  config: ExtAuthzConfig,
  header: (name: string) => string | undefined,
  authorization: string | undefined,
): CheckInput {
  return {
    method: header(config.originalMethodHeader),
    target: header(config.originalUriHeader),
    authorization,
  };
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
    const decision = await pipeline.decideRaw(
      raw,
      token,
      () => {
        const request = toDecisionRequest(routes, input);
        const signal = callerGone(c);
        if (signal) request.signal = signal;
        const deadline = proxyDeadline(c);
        if (deadline !== undefined) request.deadline = deadline;
        return request;
      },
      repeatMissOf(c),
    );
    const verdict = toVerdict(decision, config.upstreamHeaders);
    const headers = verdict.allow ? verdict.upstreamHeaders : verdict.responseHeaders;
    return c.body(verdict.body, verdict.status, { ...headers, 'content-type': 'application/json' });
  };

  app.all(config.authRequestPath, (c) =>
    answer(
      c,
      nginxInput(config, (name) => c.req.header(name), authorizationHeader(c)),
    ),
  );

  const prefix = config.pathPrefix;
  const envoy = (c: Context) =>
    answer(c, envoyInput(prefix, c.req.method, rawTarget(c), authorizationHeader(c)));
  app.all(prefix, envoy);
  app.all(`${prefix}/*`, envoy);
}
