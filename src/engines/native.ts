import { authorize } from '../cedar/authorize.js';
import { EntityStore } from '../cedar/entities.js';
import { CedarEvalError } from '../cedar/eval-error.js';
import {
  CedarJsonError,
  entityUidFromJson,
  parseContextJson,
  parseEntitiesJson,
} from '../cedar/json-value.js';
import { compilePolicySet, type CompiledPolicy, type CompiledPolicySet } from '../cedar/policy-set.js';
import {
  checkRequest,
  compileSchema,
  parseEntities,
  SchemaValidationError,
  type CompiledSchema,
} from '../cedar/schema/index.js';
import type { EntityView } from '../cedar/entities.js';
import { explainPolicies, summarize } from '../cedar/explain.js';
import type { Explanation } from '../core/decision.js';
import type { CedarRecord, EntityData, EntityRef } from '../cedar/values.js';
import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import type { CompiledStore } from '../policy/types.js';

/**
 * One store version compiled for the TypeScript evaluator: policies as closures (template links
 * share their template's body), the schema's checkers, and the static entities indexed with their
 * ancestors. Built once per version; a request pays only for its own entities.
 */
export interface NativeVersion {
  set: CompiledPolicySet;
  byId: ReadonlyMap<string, CompiledPolicy>;
  /** Each policy's JSON form (a link's is its template's), for explanations. */
  ests: ReadonlyMap<string, unknown>;
  schema?: CompiledSchema;
  statics: EntityStore;
}

/** Why a store version cannot run on the native evaluator (then it runs on cedar-wasm). */
export class NativeUnsupported extends Error {}

/**
 * Compiles a store version for native evaluation. Throws NativeUnsupported when the policies use
 * something the evaluator does not implement, or the schema or entities cannot be read by it: the
 * engine then decides this version with cedar-wasm, and says so.
 */
export function compileNative(compiled: CompiledStore): NativeVersion {
  const set = compilePolicySet({
    staticPolicies: compiled.json.policies,
    templates: compiled.json.templates,
    templateLinks: compiled.links,
  });
  if (set.unsupported.length > 0) {
    const u = set.unsupported[0]!;
    throw new NativeUnsupported(
      `policy ${u.policyId} uses ${u.what}${set.unsupported.length > 1 ? ` (and ${set.unsupported.length - 1} more)` : ''}`,
    );
  }
  let schema: CompiledSchema | undefined;
  let statics: EntityStore;
  try {
    if (compiled.schema !== undefined) {
      schema = compileSchema(compiled.schema as string | object);
      // With a schema, the static entities are conformed to it and the schema's action entities
      // (the action hierarchy) are added, as Cedar does.
      statics = new EntityStore(parseEntities(schema, compiled.entities));
    } else statics = new EntityStore(parseEntitiesJson(compiled.entities));
  } catch (err) {
    throw new NativeUnsupported(
      `the schema or entities could not be compiled natively: ${(err as Error).message}`,
    );
  }
  const ests = new Map<string, unknown>(Object.entries(compiled.json.policies));
  for (const link of compiled.links) ests.set(link.newId, compiled.json.templates[link.templateId]);
  return { set, byId: new Map(set.policies.map((p) => [p.id, p])), ests, schema, statics };
}

/** The request's own entities (the schema's action entities are the store's, added once). */
function requestEntities(native: NativeVersion, json: unknown): EntityData[] {
  return native.schema
    ? parseEntities(native.schema, json, { includeActions: false })
    : parseEntitiesJson(json);
}

interface ParsedRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
  view: EntityView;
}

/** The request in the evaluator's terms, checked against the schema; throws on a bad request. */
function parseRequest(native: NativeVersion, request: EngineRequest): ParsedRequest {
  let principal, action, resource, context;
  if (native.schema) {
    ({ principal, action, resource, context } = checkRequest(native.schema, request, {
      validateRequest: true,
    }));
  } else {
    principal = entityUidFromJson(request.principal, 'principal');
    action = entityUidFromJson(request.action, 'action');
    resource = entityUidFromJson(request.resource, 'resource');
    context = parseContextJson(request.context);
  }
  const view = native.statics.view(request.entities.length ? requestEntities(native, request.entities) : []);
  return { principal, action, resource, context, view };
}

const isRequestError = (err: unknown) =>
  err instanceof SchemaValidationError || err instanceof CedarJsonError || err instanceof CedarEvalError;

/**
 * Explains a decision on the native evaluator: each policy's scope and condition (see
 * cedar/explain.ts). `policies` narrows to a scope slice; the others are counted as not shown.
 */
export function explainNative(
  native: NativeVersion,
  request: EngineRequest,
  decision: 'ALLOW' | 'DENY',
  policies?: readonly CompiledPolicy[],
): Explanation | { invalid: string } {
  let parsed: ParsedRequest;
  try {
    parsed = parseRequest(native, request);
  } catch (err) {
    if (isRequestError(err)) return { invalid: (err as Error).message };
    throw err;
  }
  const chosen = policies ?? native.set.policies;
  const explained = explainPolicies(
    chosen.map((p) => ({
      id: p.id,
      est: native.ests.get(p.id),
      env: { slotPrincipal: p.slotPrincipal, slotResource: p.slotResource },
    })),
    {
      principal: parsed.principal,
      action: parsed.action,
      resource: parsed.resource,
      context: parsed.context,
      entities: parsed.view,
    },
  );
  const hidden = native.set.policies.length - chosen.length;
  return {
    summary: summarize(decision, explained),
    policies: explained,
    ...(hidden > 0 ? { notShown: { count: hidden, reason: 'their scope cannot match this request' } } : {}),
  };
}

/**
 * One decision on the native evaluator. `policies` narrows the set to a scope slice (large
 * stores); answers are Cedar's whole-set answers either way, because a policy whose scope cannot
 * match can neither be satisfied nor error.
 */
export function decideNative(
  native: NativeVersion,
  request: EngineRequest,
  storeVersion: string,
  policies?: readonly CompiledPolicy[],
): EngineAnswer {
  let parsed: ParsedRequest;
  try {
    parsed = parseRequest(native, request);
  } catch (err) {
    if (isRequestError(err)) return { kind: 'invalid', message: (err as Error).message, storeVersion };
    throw err;
  }
  const { principal, action, resource, context, view } = parsed;
  const answer = authorize(
    policies ? { policies, unsupported: [] } : native.set,
    { principal, action, resource, context },
    view,
  );
  return {
    kind: 'evaluated',
    allow: answer.decision === 'allow',
    determiningPolicies: answer.reasons,
    errors: answer.errors,
    storeVersion,
  };
}

/** Whether two evaluated answers agree as Cedar's answers are compared: decision, reason set, error-id set. */
export function sameAnswer(a: EngineAnswer, b: EngineAnswer): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'evaluated' || b.kind !== 'evaluated') return true; // both invalid (or both failed)
  const set = (xs: string[]) => [...new Set(xs)].sort().join('\0');
  return (
    a.allow === b.allow &&
    set(a.determiningPolicies) === set(b.determiningPolicies) &&
    set(a.errors.map((e) => e.policyId)) === set(b.errors.map((e) => e.policyId))
  );
}
