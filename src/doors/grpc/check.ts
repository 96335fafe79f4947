import type * as grpc from '@grpc/grpc-js';
import type { ExtAuthzConfig } from '../../config/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { HttpRouteTable } from '../../routing/http-routes.js';
import { rawCheck, toDecisionRequest, type CheckInput } from '../ext-authz/request.js';
import { toVerdict, type CheckVerdict } from '../ext-authz/response.js';

/** The parts of Envoy's `CheckRequest` the door reads (field names as in the .proto). */
export interface CheckRequestWire {
  attributes?: {
    request?: {
      http?: {
        method?: string;
        /** Path and query, as Envoy sends them (`query` itself is always empty). */
        path?: string;
        host?: string;
        /** Lower-case header names; empty when Envoy sends `header_map` (`encode_raw_headers`). */
        headers?: Record<string, string>;
        header_map?: { headers?: { key?: string; value?: string; raw_value?: Buffer | Uint8Array }[] };
      };
    };
  };
}

const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;

/** Reads one header from either of Envoy's two header encodings. */
function header(
  http: NonNullable<NonNullable<CheckRequestWire['attributes']>['request']>['http'],
  name: string,
) {
  const fromMap = http?.headers?.[name];
  if (fromMap !== undefined) return fromMap;
  const raw = http?.header_map?.headers?.find((h) => h.key?.toLowerCase() === name);
  if (!raw) return undefined;
  return raw.value || (raw.raw_value ? Buffer.from(raw.raw_value).toString('utf8') : undefined);
}

/** Stage 1 (gRPC wire): Envoy's CheckRequest → the proxy doors' common input. */
export function checkInputFrom(request: CheckRequestWire): CheckInput {
  const http = request.attributes?.request?.http;
  return { method: http?.method, target: http?.path, authorization: header(http, 'authorization') };
}

/**
 * Stage 3 (gRPC wire): verdict → Envoy's CheckResponse. ALLOW: status OK with `ok_response.headers`
 * (each with `append: false`, so Envoy overwrites a header the client sent, whichever of its
 * versions reads `append` or `append_action`). DENY: PERMISSION_DENIED with `denied_response`
 * carrying the HTTP status (401 or 403), the headers and the JSON body for the client.
 */
export function checkResponseFrom(verdict: CheckVerdict) {
  const headers = (h: Record<string, string>) =>
    Object.entries(h).map(([key, value]) => ({ header: { key, value }, append: { value: false } }));
  if (verdict.allow) {
    return { status: { code: GRPC_OK }, ok_response: { headers: headers(verdict.upstreamHeaders) } };
  }
  return {
    status: { code: GRPC_PERMISSION_DENIED, message: verdict.status === 401 ? 'unauthenticated' : 'denied' },
    denied_response: {
      status: { code: verdict.status },
      headers: headers(verdict.responseHeaders),
      body: verdict.body,
    },
  };
}

export interface CheckDeps {
  pipeline: Pipeline;
  routes: HttpRouteTable | undefined;
  config: ExtAuthzConfig;
  onError?: (err: unknown) => void;
}

/** `envoy.service.auth.v3.Authorization/Check`: request → pipeline → response, failing closed. */
export function checkHandler(deps: CheckDeps): grpc.handleUnaryCall<CheckRequestWire, unknown> {
  return (call, callback) => {
    const input = checkInputFrom(call.request);
    const { raw, token } = rawCheck(input);
    // A repeat of an answered check by the same verified caller is answered before the route
    // table runs (as on the HTTP door).
    const parse = () => {
      const request = toDecisionRequest(deps.routes, input);
      // Envoy's own timeout for the check is the call's deadline; a cancelled call (Envoy gave up)
      // aborts what a remote engine is doing for it.
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() : deadline;
      if (Number.isFinite(ms)) request.deadline = ms;
      let controller: AbortController | undefined;
      request.signal = () => {
        if (!controller) {
          controller = new AbortController();
          if (call.cancelled) controller.abort();
          else call.once('cancelled', () => controller!.abort());
        }
        return controller.signal;
      };
      return request;
    };
    deps.pipeline
      .decideRaw(raw, token, parse)
      .then((decision) => callback(null, checkResponseFrom(toVerdict(decision, deps.config.upstreamHeaders))))
      .catch((err: unknown) => {
        deps.onError?.(err);
        const body = JSON.stringify({ decision: 'DENY', reason: 'internal_error' });
        callback(
          null,
          checkResponseFrom({ allow: false, status: 403, upstreamHeaders: {}, responseHeaders: {}, body }),
        );
      });
  };
}
