/**
 * A request checked against a schema, as cedar-wasm's `isAuthorized` does with a schema given.
 *
 * Always (request validation on or off), because Cedar parses the context with the action's
 * context type whenever it has a schema:
 * - the action must be declared (Cedar: "action … does not exist in the supplied schema");
 * - the context is parsed with its type: exactly the declared attributes (missing required or
 *   extra ones are errors), sets are arrays, entity and extension slots take their short forms.
 *
 * With `validateRequest: true` (the sidecar's setting) also, as Cedar's `Request::new` with a schema:
 * - principal and resource types are declared, enum ids declared;
 * - the principal and resource types are in the action's `appliesTo`;
 * - the context type-checks (leaf types, entity types, enum ids).
 */
import type { CedarRecord, EntityRef } from '../values.js';
import type { CompiledSchema } from './compiled.js';
import { SchemaValidationError, ValueProblem } from './errors.js';
import { describeJson, isObject } from './json-shape.js';
import { readEntityUid } from './parse-value.js';

export interface RequestJson {
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
}

export interface CheckedRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
}

export interface RequestCheckOptions {
  /** Cedar's `validateRequest`; default true (what the sidecar uses). */
  validateRequest?: boolean;
}

export function checkRequest(
  schema: CompiledSchema,
  req: RequestJson,
  opts: RequestCheckOptions = {},
): CheckedRequest {
  const validate = opts.validateRequest !== false;
  const principal = uid(req.principal, 'principal');
  const action = uid(req.action, 'action');
  const resource = uid(req.resource, 'resource');
  const a = schema.action(action.key);
  if (!a)
    throw new SchemaValidationError(
      'undeclared_action',
      `action \`${action.key}\` is not declared in the schema`,
      'action',
    );
  if (validate) {
    scopeType(schema, principal, 'principal', a.principalTypes, action.key);
    scopeType(schema, resource, 'resource', a.resourceTypes, action.key);
  }
  if (!isObject(req.context))
    throw new SchemaValidationError(
      'type_mismatch',
      `context: expected a record, got ${describeJson(req.context)}`,
      'context',
    );
  let context: CedarRecord;
  try {
    context = schema.contextParser(a, validate)(req.context) as CedarRecord;
  } catch (e) {
    if (e instanceof ValueProblem) throw e.at('context');
    throw e;
  }
  return { principal, action, resource, context };
}

function uid(v: unknown, what: string): EntityRef {
  try {
    return readEntityUid(v);
  } catch (e) {
    if (e instanceof ValueProblem)
      throw new SchemaValidationError('invalid_entity_uid', `${what}: ${e.detail}`, what);
    throw e;
  }
}

function scopeType(
  schema: CompiledSchema,
  ref: EntityRef,
  what: 'principal' | 'resource',
  allowed: ReadonlySet<string>,
  action: string,
): void {
  const t = schema.entityType(ref.type);
  if (!t)
    throw new SchemaValidationError(
      'unknown_entity_type',
      `${what} type \`${ref.type}\` is not declared in the schema`,
      what,
    );
  if (t.info.enumIds && !t.info.enumIds.has(ref.id))
    throw new SchemaValidationError(
      'invalid_enum_entity',
      `${what} \`${ref.key}\` is of an enumerated type, but ${JSON.stringify(ref.id)} is not one of its declared ids`,
      what,
    );
  if (!allowed.has(ref.type))
    throw new SchemaValidationError(
      what === 'principal' ? 'invalid_principal_type' : 'invalid_resource_type',
      `${what} type \`${ref.type}\` is not valid for \`${action}\` (expected ${
        allowed.size
          ? [...allowed].map((x) => `\`${x}\``).join(', ')
          : 'none: the action applies to no ' + what
      })`,
      what,
    );
}
