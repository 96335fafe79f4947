/**
 * A compiled Cedar policy set: static policies and template links, each a `CompiledPolicy` whose
 * test is shared with its template (links only carry slot values). Ids are the caller's.
 */
import { compileBody, type CompiledBody, type Effect, type Test } from './compile-policy.js';
import { CompileIssues } from './env.js';
import { CedarJsonError, entityUidFromJson } from './json-value.js';
import { EntityRef } from './values.js';

export interface CompiledPolicy {
  readonly id: string;
  readonly effect: Effect;
  readonly test: Test;
  readonly slotPrincipal: EntityRef | undefined;
  readonly slotResource: EntityRef | undefined;
}

export interface TemplateLinkInput {
  templateId: string;
  newId: string;
  /** `?principal` / `?resource` → uid (`{type,id}`, `{__entity:{type,id}}` or an `EntityRef`). */
  values: Record<string, unknown>;
}

export interface PolicySetInput {
  /** Static policies: id → EST (cedar-wasm `policyToJson(...).json`). */
  staticPolicies?: Record<string, unknown>;
  /** Templates: id → EST (cedar-wasm `templateToJson(...).json`). */
  templates?: Record<string, unknown>;
  templateLinks?: readonly TemplateLinkInput[];
}

export interface UnsupportedConstruct {
  policyId: string;
  what: string;
}

export interface CompiledPolicySet {
  /** Permits and forbids, in input order (statics first, then links). */
  readonly policies: readonly CompiledPolicy[];
  /**
   * EST constructs the compiler does not handle. When non-empty, evaluating this set is not
   * faithful to Cedar: the engine should decide this store with cedar-wasm instead.
   */
  readonly unsupported: readonly UnsupportedConstruct[];
}

export function compilePolicySet(input: PolicySetInput): CompiledPolicySet {
  const policies: CompiledPolicy[] = [];
  const unsupported: UnsupportedConstruct[] = [];
  const compileOne = (id: string, est: unknown): CompiledBody => {
    const issues = new CompileIssues();
    const body = compileBody(est, issues, `policy ${id}`);
    for (const what of issues.unsupported) unsupported.push({ policyId: id, what });
    return body;
  };
  for (const [id, est] of Object.entries(input.staticPolicies ?? {})) {
    const body = compileOne(id, est);
    if (body.slots.size > 0) unsupported.push({ policyId: id, what: 'static policy has template slots' });
    policies.push({
      id,
      effect: body.effect,
      test: body.test,
      slotPrincipal: undefined,
      slotResource: undefined,
    });
  }
  const templates = new Map<string, CompiledBody>();
  for (const [id, est] of Object.entries(input.templates ?? {})) templates.set(id, compileOne(id, est));
  for (const link of input.templateLinks ?? []) {
    const body = templates.get(link.templateId);
    if (body === undefined)
      throw new CedarJsonError(`link ${link.newId}: no template \`${link.templateId}\``);
    const slot = (name: '?principal' | '?resource'): EntityRef | undefined => {
      const v = link.values[name];
      if (!body.slots.has(name)) {
        if (v !== undefined) throw new CedarJsonError(`link ${link.newId}: template has no slot ${name}`);
        return undefined;
      }
      if (v === undefined) throw new CedarJsonError(`link ${link.newId}: slot ${name} is not given a value`);
      return v instanceof EntityRef ? v : entityUidFromJson(v, `link ${link.newId} ${name}`);
    };
    policies.push({
      id: link.newId,
      effect: body.effect,
      test: body.test,
      slotPrincipal: slot('?principal'),
      slotResource: slot('?resource'),
    });
  }
  return { policies, unsupported };
}
