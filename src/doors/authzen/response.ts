import type { Decision } from '../../core/decision.js';

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
