import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Decision } from '../../core/decision.js';
import { ERROR_CODES, type ErrorCode, type FieldProblem } from '../../core/errors.js';

/**
 * Decision → an AuthZEN evaluation response: `decision` is true only for ALLOW; `context` holds
 * the decision id, and for a deny without evaluation the reason code with its message
 * (`reason_admin`, not meant for end users), the determining policies and any policy errors.
 */
export function evaluationBody(d: Decision) {
  return {
    decision: d.decision === 'ALLOW',
    context: {
      id: d.decisionId,
      ...(d.store ? { store: d.store } : {}),
      ...(d.reason ? { reason: d.reason, reason_admin: { en: d.message ?? d.reason } } : {}),
      ...(d.determiningPolicies.length ? { determining_policies: d.determiningPolicies } : {}),
      ...(d.errors.length ? { errors: d.errors } : {}),
    },
  };
}

/**
 * One item of an evaluations batch that could not be evaluated (a required field missing, even
 * after the top-level defaults, or of the wrong type). Under `execute_all` the batch still
 * answers 200 and this item is a `decision: false` whose context says why, as AuthZEN 1.0 allows
 * and its certification scenario requires; the HTTP status the item would have had on its own
 * is in `context.error.status`.
 */
export function failedItemBody(code: ErrorCode, message: string, fields?: FieldProblem[]) {
  return {
    decision: false,
    context: {
      reason: code,
      reason_admin: { en: message },
      error: { status: ERROR_CODES[code].status, message },
      ...(fields ? { fields } : {}),
    },
  };
}

/**
 * The body of an error answer on the AuthZEN door. No `decision` field: AuthZEN's `decision` is a
 * boolean, and the sidecar's usual `"decision": "DENY"` is a non-empty string, which a client
 * that reads the body before the status would take as true. The status says it is an error;
 * `error` is the stable reason code, `message` is safe to show, `fields` names bad fields.
 */
export function authzenErrorBody(code: ErrorCode, message?: string, fields?: FieldProblem[]) {
  return {
    error: code,
    message: message ?? ERROR_CODES[code].message,
    ...(fields ? { fields } : {}),
  };
}

/** The spec's MUST: a request's `X-Request-ID` comes back on every response, errors included. */
export function echoRequestId(c: Context): void {
  const id = c.req.header('x-request-id');
  if (id) c.header('X-Request-ID', id);
}

/** Renders an error on the AuthZEN door: its status, AuthZEN's error body, X-Request-ID echoed. */
export function renderAuthzenError(
  c: Context,
  code: ErrorCode,
  message?: string,
  fields?: FieldProblem[],
): Response {
  echoRequestId(c);
  return c.json(authzenErrorBody(code, message, fields), ERROR_CODES[code].status as ContentfulStatusCode);
}
