/**
 * Cedar's authorizer over a compiled policy set: every policy is evaluated (errors from all of
 * them are reported); a policy that errors is skipped. DENY when any forbid is satisfied (reasons:
 * the satisfied forbids), else ALLOW when any permit is satisfied (reasons: the satisfied permits),
 * else DENY with no reasons.
 */
import type { EntityView } from './entities.js';
import type { Env } from './env.js';
import { CedarEvalError } from './eval-error.js';
import type { CompiledPolicySet } from './policy-set.js';
import type { CedarRecord, EntityRef } from './values.js';

export interface AuthzRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
}

export interface AuthzError {
  policyId: string;
  message: string;
}

export interface AuthzResponse {
  decision: 'allow' | 'deny';
  reasons: string[];
  errors: AuthzError[];
}

export function authorize(set: CompiledPolicySet, req: AuthzRequest, entities: EntityView): AuthzResponse {
  const env: Env = {
    principal: req.principal,
    action: req.action,
    resource: req.resource,
    context: req.context,
    entities,
    slotPrincipal: undefined,
    slotResource: undefined,
  };
  const permits: string[] = [];
  let forbids: string[] | undefined;
  let errors: AuthzError[] | undefined;
  const policies = set.policies;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    env.slotPrincipal = p.slotPrincipal;
    env.slotResource = p.slotResource;
    let sat: boolean;
    try {
      sat = p.test(env);
    } catch (e) {
      (errors ??= []).push({ policyId: p.id, message: describe(e, p.id) });
      continue;
    }
    if (!sat) continue;
    if (p.effect === 'forbid') (forbids ??= []).push(p.id);
    else permits.push(p.id);
  }
  if (forbids !== undefined) return { decision: 'deny', reasons: forbids, errors: errors ?? [] };
  return { decision: permits.length > 0 ? 'allow' : 'deny', reasons: permits, errors: errors ?? [] };
}

function describe(e: unknown, id: string): string {
  if (e instanceof CedarEvalError) return `error while evaluating policy \`${id}\`: ${e.message}`;
  // A JS error here is a bug in the evaluator; keep it visible rather than pretend it is Cedar's.
  if (e instanceof RangeError) return `error while evaluating policy \`${id}\`: ${e.message}`;
  throw e;
}
