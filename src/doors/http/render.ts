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

/** The header of a JSON answer built as text (what `c.json` sets). */
export const JSON_TYPE = { 'Content-Type': 'application/json' } as const;

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

/** What a cached decision's answer was serialised from, with the part after its decisionId. */
interface Tail {
  decision: string;
  errors: Decision['errors'];
  store?: string;
  storeVersion?: string;
  caller: string;
  tail: string;
}

/**
 * Serialised answers of cached decisions, by the cache entry's determining-policies array (every
 * hit on an entry shares it): a hit's answer differs from the last one only by its decisionId,
 * so the rest is serialised once per entry, not per hit. Weak: an evicted entry's tail goes with it.
 */
const tails = new WeakMap<string[], Tail>();

/**
 * The HTTP answer of a single decision as JSON text: `decisionBody`, plus the principal and caller
 * type when `withCaller` (the token API). A cached decision reuses the text after its decisionId.
 */
export function decisionJson(d: Decision, withCaller: boolean): string {
  const caller =
    withCaller && d.principal ? `${d.principal.type}\0${d.principal.id}\0${d.callerType ?? ''}` : '';
  const head = `{"decision":"${d.decision}","decisionId":${JSON.stringify(d.decisionId)},`;
  const reusable = d.cached && !d.reason && !d.explanation;
  if (reusable) {
    const t = tails.get(d.determiningPolicies);
    if (
      t &&
      t.decision === d.decision &&
      t.errors === d.errors &&
      t.store === d.store &&
      t.storeVersion === d.storeVersion &&
      t.caller === caller
    )
      return head + t.tail;
  }
  const text = JSON.stringify(
    withCaller && d.principal
      ? { ...decisionBody(d), principal: d.principal, callerType: d.callerType }
      : decisionBody(d),
  );
  if (reusable && text.startsWith(head)) {
    const t: Tail = { decision: d.decision, errors: d.errors, caller, tail: text.slice(head.length) };
    if (d.store !== undefined) t.store = d.store;
    if (d.storeVersion !== undefined) t.storeVersion = d.storeVersion;
    tails.set(d.determiningPolicies, t);
  }
  return text;
}
