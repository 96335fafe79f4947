/**
 * The two sides of every differential check: cedar-wasm 4.13 (the oracle) and our schema stack,
 * run on the same request, entities and schema. Acceptance is the first thing compared: whether
 * each side rejects the request or entities before any policy runs.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { compileSchema, type CompiledSchema } from '../schema/compiled.js';
import { checkRequest, type CheckedRequest } from '../schema/request.js';
import { parseEntities } from '../schema/entities.js';
import { SchemaValidationError } from '../schema/errors.js';
import type { EntityData } from '../values.js';

export interface RequestCase {
  schema: string | object;
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
  entities: unknown[];
  /** Cedar's `validateRequest`; default true. */
  validateRequest?: boolean;
}

export type WasmVerdict =
  | { ok: true; decision: 'allow' | 'deny'; reasons: string[]; errors: string[] }
  | { ok: false; message: string };

export function wasmVerdict(
  c: RequestCase,
  policies: cedar.PolicySet = { staticPolicies: 'permit(principal, action, resource);' },
): WasmVerdict {
  const a = cedar.isAuthorized({
    principal: c.principal as cedar.EntityUid,
    action: c.action as cedar.EntityUid,
    resource: c.resource as cedar.EntityUid,
    context: c.context as cedar.Context,
    entities: c.entities as cedar.Entities,
    schema: c.schema as cedar.Schema,
    validateRequest: c.validateRequest !== false,
    policies,
  });
  if (a.type === 'failure') return { ok: false, message: a.errors.map((e) => e.message).join('; ') };
  return {
    ok: true,
    decision: a.response.decision,
    reasons: [...a.response.diagnostics.reason].sort(),
    errors: a.response.diagnostics.errors.map((e) => e.policyId).sort(),
  };
}

const compiled = new Map<string, CompiledSchema>();

export function compiledFor(schema: string | object): CompiledSchema {
  const k = typeof schema === 'string' ? schema : JSON.stringify(schema);
  let s = compiled.get(k);
  if (!s) {
    if (compiled.size > 200) compiled.clear();
    s = compileSchema(schema);
    compiled.set(k, s);
  }
  return s;
}

export type OurVerdict =
  | { ok: true; request: CheckedRequest; entities: EntityData[] }
  | { ok: false; message: string; error: SchemaValidationError };

export function ourVerdict(c: RequestCase): OurVerdict {
  try {
    const s = compiledFor(c.schema);
    const request = checkRequest(s, c, { validateRequest: c.validateRequest !== false });
    const entities = parseEntities(s, c.entities);
    return { ok: true, request, entities };
  } catch (e) {
    if (e instanceof SchemaValidationError) return { ok: false, message: e.message, error: e };
    throw e;
  }
}
