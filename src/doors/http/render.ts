import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthzError, ERROR_CODES, type ErrorCode } from '../../core/errors.js';
import type { Decision } from '../../core/decision.js';

/** The body of every error answer: a DENY with a stable reason code. */
export function errorBody(code: ErrorCode, message?: string, fields?: AuthzError['fields']) {
  return {
    decision: 'DENY' as const,
    reason: code,
    message: message ?? ERROR_CODES[code].message,
    ...(fields ? { fields } : {}),
  };
}

/**
 * HTTP status for a single decision: an evaluated request is 200 whatever the decision; a deny
 * without evaluation takes its reason's status (401 token, 400 invalid request, 404 unknown store).
 */
export function statusOf(decision: Decision): ContentfulStatusCode {
  return (decision.reason ? ERROR_CODES[decision.reason].status : 200) as ContentfulStatusCode;
}

/** The JSON shape of a decision on the HTTP API. */
export function decisionBody(d: Decision) {
  return {
    decision: d.decision,
    decisionId: d.decisionId,
    ...(d.store ? { store: d.store } : {}),
    ...(d.storeVersion ? { storeVersion: d.storeVersion } : {}),
    determiningPolicies: d.determiningPolicies.map((policyId) => ({ policyId })),
    errors: d.errors,
    cached: d.cached,
    ...(d.reason ? { reason: d.reason, message: d.message } : {}),
    ...(d.explanation ? { explanation: d.explanation } : {}),
  };
}
