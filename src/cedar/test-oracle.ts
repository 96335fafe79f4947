/**
 * Test helper: decide one request with cedar-wasm (the oracle) and with the TypeScript evaluator on
 * the same input (policies text, schemaless entities and context), returning both in one shape.
 */
import './v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { authorize } from './authorize.js';
import { EntityStore } from './entities.js';
import { policyTextToEst } from './exact-literals.js';
import { entityUidFromJson, parseContextJson, parseEntitiesJson } from './json-value.js';
import { compilePolicySet, type TemplateLinkInput } from './policy-set.js';

export interface Decided {
  decision: 'allow' | 'deny';
  reasons: string[];
  errors: string[];
}

export interface Case {
  policies: string;
  entities?: unknown[];
  principal?: { type: string; id: string };
  action?: { type: string; id: string };
  resource?: { type: string; id: string };
  context?: Record<string, unknown>;
  links?: { templateId: string; newId: string; values: Record<string, { type: string; id: string }> }[];
}

const P = { type: 'User', id: 'alice' };
const A = { type: 'Action', id: 'view' };
const R = { type: 'Photo', id: 'p1' };

/** Splits `policies` into positional ids `policy0…` (statics) and `template0…` (templates). */
function parts(text: string): { statics: [string, string][]; templates: [string, string][] } {
  const r = cedar.policySetTextToParts(text);
  if (r.type !== 'success') throw new Error(r.errors.map((e) => e.message).join('; '));
  return {
    statics: r.policies.map((p, i) => [`policy${i}`, p]),
    templates: r.policy_templates.map((p, i) => [`template${i}`, p]),
  };
}

export function oracle(c: Case): Decided {
  const { statics, templates } = parts(c.policies);
  const r = cedar.isAuthorized({
    principal: c.principal ?? P,
    action: c.action ?? A,
    resource: c.resource ?? R,
    context: (c.context ?? {}) as cedar.Context,
    policies: {
      staticPolicies: Object.fromEntries(statics),
      templates: Object.fromEntries(templates),
      templateLinks: (c.links ?? []).map((l) => ({
        templateId: l.templateId,
        newId: l.newId,
        values: l.values,
      })),
    },
    entities: (c.entities ?? []) as cedar.Entities,
  });
  if (r.type !== 'success')
    throw new Error(`cedar-wasm failure: ${r.errors.map((e) => e.message).join('; ')}`);
  return {
    decision: r.response.decision,
    reasons: [...r.response.diagnostics.reason].sort(),
    errors: r.response.diagnostics.errors.map((e) => e.policyId).sort(),
  };
}

export function ours(c: Case): Decided & { messages: string[] } {
  const { statics, templates } = parts(c.policies);
  const set = compilePolicySet({
    staticPolicies: Object.fromEntries(statics.map(([id, t]) => [id, policyTextToEst(t)])),
    templates: Object.fromEntries(templates.map(([id, t]) => [id, policyTextToEst(t, true)])),
    templateLinks: (c.links ?? []) as TemplateLinkInput[],
  });
  if (set.unsupported.length > 0) throw new Error(`unsupported: ${JSON.stringify(set.unsupported)}`);
  const store = new EntityStore(parseEntitiesJson(c.entities ?? []));
  const res = authorize(
    set,
    {
      principal: entityUidFromJson(c.principal ?? P, 'principal'),
      action: entityUidFromJson(c.action ?? A, 'action'),
      resource: entityUidFromJson(c.resource ?? R, 'resource'),
      context: parseContextJson(c.context ?? {}),
    },
    store.view(),
  );
  return {
    decision: res.decision,
    reasons: [...res.reasons].sort(),
    errors: res.errors.map((e) => e.policyId).sort(),
    messages: res.errors.map((e) => e.message),
  };
}

/** Both results without our messages, for `expect(a).toEqual(b)`. */
export function both(c: Case): { cedar: Decided; ours: Decided } {
  const o = ours(c);
  return { cedar: oracle(c), ours: { decision: o.decision, reasons: o.reasons, errors: o.errors } };
}

/** `permit(principal, action, resource) when { <expr> };` */
export function whenPolicy(expr: string): string {
  return `permit(principal, action, resource) when { ${expr} };`;
}
