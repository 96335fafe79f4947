import { bearerChallenge } from '../shared/bearer.js';
import { uidKey } from '../../cedar/types.js';
import type { ExtAuthzConfig } from '../../config/index.js';
import { isTokenErrorCode } from '../../core/errors.js';
import type { Decision } from '../../core/decision.js';

/** One decision, rendered for a proxy: Envoy HTTP, Envoy gRPC and nginx each put it on their wire. */
export interface CheckVerdict {
  allow: boolean;
  /** 200 on ALLOW; 401 for a missing or bad token; 403 for every other DENY. */
  status: 200 | 401 | 403;
  /** Headers for the upstream request (ALLOW only). */
  upstreamHeaders: Record<string, string>;
  /** Headers for the client's response (DENY only). */
  responseHeaders: Record<string, string>;
  /** A small JSON body; for a DENY it goes to the client. */
  body: string;
}

/**
 * Stage 3 of the proxy doors: Decision → verdict. The reason and message are safe to show (they
 * never hold a token); the decision id lets an operator find the decision in the log.
 */
export function toVerdict(decision: Decision, headers: ExtAuthzConfig['upstreamHeaders']): CheckVerdict {
  const body = JSON.stringify({
    decision: decision.decision,
    decisionId: decision.decisionId,
    ...(decision.reason ? { reason: decision.reason, message: decision.message } : {}),
  });
  if (decision.decision === 'ALLOW') {
    const upstreamHeaders: Record<string, string> = { [headers.decisionId]: decision.decisionId };
    if (decision.principal) upstreamHeaders[headers.principal] = headerSafe(uidKey(decision.principal));
    if (decision.callerType) upstreamHeaders[headers.callerType] = headerSafe(decision.callerType);
    return { allow: true, status: 200, upstreamHeaders, responseHeaders: {}, body };
  }
  const responseHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (decision.reason && isTokenErrorCode(decision.reason)) {
    responseHeaders['www-authenticate'] = bearerChallenge(decision.reason);
    return { allow: false, status: 401, upstreamHeaders: {}, responseHeaders, body };
  }
  return { allow: false, status: 403, upstreamHeaders: {}, responseHeaders, body };
}

/** Header values are printable ASCII: anything else becomes a `\uXXXX` escape (as in JSON). */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
