import { bearerFrom } from '../shared/bearer.js';
import type { DecisionRequest, RawRequest } from '../../core/decision.js';
import type { HttpRouteTable } from '../../routing/http-routes.js';

/** What every proxy door knows about the request it is asked about. */
export interface CheckInput {
  /** The original request's method, as the client sent it. */
  method: string | undefined;
  /** The original request target: path and query (`/accounts/a1?view=full`). */
  target: string | undefined;
  /** The original `Authorization` header. */
  authorization: string | undefined;
}

/**
 * Stage 1 of the proxy doors (Envoy HTTP, Envoy gRPC, nginx): the proxied request → one pipeline
 * request. The route table names the action, resource and context; a request that matches no
 * route, or whose path is refused, still goes to the pipeline with `reject`, so its caller is
 * identified (401 before 403) and the deny is logged and counted.
 */
export function toDecisionRequest(routes: HttpRouteTable | undefined, input: CheckInput): DecisionRequest {
  const subject = { kind: 'token' as const, token: bearerFrom(input.authorization) };
  const ns = routes?.namespace ?? 'Unrouted';
  const placeholder = {
    subject,
    action: { type: `${ns}::Action`, id: '' },
    resource: { type: `${ns}::Application`, id: ns },
    context: {},
    entities: [],
  };
  if (!routes)
    return { ...placeholder, reject: { reason: 'no_route', message: 'No HTTP routes are configured.' } };
  if (!input.method || input.target === undefined) {
    return {
      ...placeholder,
      reject: { reason: 'invalid_request', message: 'The original method or path was not forwarded.' },
    };
  }
  const match = routes.map(input.method, input.target);
  const store = routes.store ? { store: routes.store } : {};
  if (!match.ok)
    return { ...placeholder, ...store, reject: { reason: match.reason, message: match.message } };
  return {
    subject,
    ...store,
    action: match.action,
    resource: match.resource,
    context: match.context,
    entities: match.entities,
  };
}

/**
 * A proxied check as `Pipeline.decideRaw` keys it: the original method and target are all that
 * the route table reads, so a repeat of both by the same verified caller is answered from the
 * decision cache before the route table runs (the table is built once at startup; the store's
 * version is part of the cache's key). Header values and request targets hold no newline, so
 * the key is unambiguous. All proxy doors map alike, so they share one key space.
 */
export function rawCheck(input: CheckInput): { raw: RawRequest; token: string | undefined } {
  const token =
    input.method === undefined || input.target === undefined ? undefined : bearerFrom(input.authorization);
  return { raw: { door: 'proxy', text: `${input.method ?? ''}\n${input.target ?? ''}` }, token };
}
