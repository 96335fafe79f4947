import { AVP_MAX_BATCH } from '../../avp/limits.js';
import { parseJsonExact } from '../../cedar/json-exact.js';
import { safetyProblem } from '../shared/json-body.js';
import { z } from 'zod';
import type { CedarValue, Entity, EntityUid } from '../../cedar/types.js';
import { sameUid } from '../../cedar/types.js';
import {
  AvpValueError,
  checkIdentifier,
  fromAttributeRecord,
  fromAvpUid,
  fromEntityItem,
} from '../../avp/values.js';
import type { DecisionError } from '../../core/decision.js';
import { EntityWire } from '../../cedar/wire.js';

/**
 * The AVP data-plane wire format (AWS JSON 1.0), both directions, shared by the sidecar's AVP door
 * and the test peer that stands in for AVP. Requests are decoded into neutral questions (Cedar
 * JSON values, like the rest of the sidecar); answers are encoded back into AVP's shapes.
 *
 * Differences from AVP, all on the strict side: `principal`, `action` and `resource` are required
 * (AVP lets them be unspecified); IsAuthorizedWithToken takes one of `identityToken` and
 * `accessToken`, not both. Unknown fields are ignored, as AWS services do.
 */

export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const TARGET_PREFIX = 'VerifiedPermissions.';

export const DATA_PLANE_OPERATIONS = [
  'IsAuthorized',
  'BatchIsAuthorized',
  'IsAuthorizedWithToken',
  'BatchIsAuthorizedWithToken',
] as const;
export type DataPlaneOperation = (typeof DATA_PLANE_OPERATIONS)[number];

export type AwsErrorType =
  | 'ValidationException'
  | 'ResourceNotFoundException'
  | 'AccessDeniedException'
  | 'ThrottlingException'
  | 'InternalServerException'
  | 'UnknownOperationException'
  | 'SerializationException';

const STATUS: Record<AwsErrorType, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  ThrottlingException: 429,
  InternalServerException: 500,
  UnknownOperationException: 400,
  SerializationException: 400,
};

export interface FieldProblem {
  path: string;
  message: string;
}

/** An AWS-shaped error: rendered with `x-amzn-errortype` and a `__type` body field. */
export class AwsError extends Error {
  readonly status: number;
  constructor(
    readonly type: AwsErrorType,
    message: string,
    readonly extra: { fieldList?: FieldProblem[]; resourceId?: string; resourceType?: string } = {},
  ) {
    super(message);
    this.name = type;
    this.status = STATUS[type];
  }
}

export function validationError(fields: FieldProblem[]): AwsError {
  return new AwsError(
    'ValidationException',
    fields.length === 1
      ? `${fields[0]!.path}: ${fields[0]!.message}`
      : `${fields.length} validation errors: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
    { fieldList: fields },
  );
}

/** Status, headers and body of an AWS JSON 1.0 error answer. */
export function renderAwsError(err: AwsError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  return {
    status: err.status,
    headers: { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-errortype': err.type },
    body: JSON.stringify({ __type: err.type, message: err.message, ...err.extra }),
  };
}

/** The operation named by `x-amz-target: VerifiedPermissions.<Operation>`. */
export function operationOf(target: string | undefined | null): string | undefined {
  return target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
}

/** Parses a request body; not JSON (or not an object) is a SerializationException. */
export function parseBody(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = text === '' ? {} : parseJsonExact(text);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  // The sidecar's JSON safety rules (doors/shared/json-body.ts), in AVP's words.
  const problem = safetyProblem(text, body);
  if (problem) throw new AwsError('ValidationException', `${problem.path}: ${problem.message}`);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** One authorization question in Cedar terms. `principal` is absent for the *WithToken operations. */
export interface AvpQuestion {
  principal?: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: Entity[];
}

export interface TokenInput {
  field: 'identityToken' | 'accessToken';
  value: string;
}

export type DecodedRequest =
  | { operation: 'IsAuthorized'; policyStoreId: string; question: AvpQuestion & { principal: EntityUid } }
  | {
      operation: 'BatchIsAuthorized';
      policyStoreId: string;
      questions: (AvpQuestion & { principal: EntityUid })[];
      /** The request items as received, echoed in the results. */
      echo: unknown[];
    }
  | { operation: 'IsAuthorizedWithToken'; policyStoreId: string; token: TokenInput; question: AvpQuestion }
  | {
      operation: 'BatchIsAuthorizedWithToken';
      policyStoreId: string;
      token: TokenInput;
      questions: AvpQuestion[];
      echo: unknown[];
    };

/** Collects field problems instead of stopping at the first. */
class Reader {
  readonly problems: FieldProblem[] = [];

  fail(path: string, message: string): undefined {
    this.problems.push({ path, message });
    return undefined;
  }

  string(v: unknown, path: string, required = true): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'is required') : undefined;
    if (typeof v !== 'string') return this.fail(path, 'must be a string');
    if (required && v === '') return this.fail(path, 'must not be empty');
    return v;
  }

  entity(v: unknown, path: string): EntityUid | undefined {
    if (v === undefined || v === null) return this.fail(path, 'is required');
    return this.guard(() => fromAvpUid(checkIdentifier(v, path)));
  }

  action(v: unknown, path: string): EntityUid | undefined {
    if (v === undefined || v === null) return this.fail(path, 'is required');
    const a = v as { actionType?: unknown; actionId?: unknown };
    if (typeof v !== 'object' || typeof a.actionType !== 'string' || typeof a.actionId !== 'string')
      return this.fail(path, 'expected { actionType, actionId } strings');
    if (a.actionType === '') return this.fail(`${path}.actionType`, 'must not be empty');
    return { type: a.actionType, id: a.actionId };
  }

  context(v: unknown, path: string): Record<string, CedarValue> | undefined {
    if (v === undefined || v === null) return {};
    const c = v as { contextMap?: unknown; cedarJson?: unknown };
    if (typeof v !== 'object' || Array.isArray(v))
      return this.fail(path, 'expected { contextMap } or { cedarJson }');
    if (c.contextMap !== undefined && c.cedarJson !== undefined)
      return this.fail(path, 'give contextMap or cedarJson, not both');
    if (c.cedarJson !== undefined) {
      const parsed = this.json(c.cedarJson, `${path}.cedarJson`);
      if (parsed === undefined) return undefined;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        return this.fail(`${path}.cedarJson`, 'must be a JSON object');
      return parsed as Record<string, CedarValue>;
    }
    if (c.contextMap === undefined) return {};
    return this.guard(() => fromAttributeRecord(c.contextMap, `${path}.contextMap`));
  }

  entities(v: unknown, path: string): Entity[] | undefined {
    if (v === undefined || v === null) return [];
    const e = v as { entityList?: unknown; cedarJson?: unknown };
    if (typeof v !== 'object' || Array.isArray(v))
      return this.fail(path, 'expected { entityList } or { cedarJson }');
    if (e.entityList !== undefined && e.cedarJson !== undefined)
      return this.fail(path, 'give entityList or cedarJson, not both');
    if (e.cedarJson !== undefined) {
      const parsed = this.json(e.cedarJson, `${path}.cedarJson`);
      if (parsed === undefined) return undefined;
      if (!Array.isArray(parsed)) return this.fail(`${path}.cedarJson`, 'must be a JSON array of entities');
      const checked = z.array(EntityWire).safeParse(parsed);
      if (!checked.success) {
        for (const issue of checked.error.issues)
          this.fail(
            `${path}.cedarJson${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}`,
            issue.message,
          );
        return undefined;
      }
      return checked.data as Entity[];
    }
    if (e.entityList === undefined) return [];
    if (!Array.isArray(e.entityList)) return this.fail(`${path}.entityList`, 'must be a list');
    const out: Entity[] = [];
    e.entityList.forEach((item, i) => {
      const entity = this.guard(() => fromEntityItem(item, `${path}.entityList[${i}]`));
      if (entity) out.push(entity);
    });
    return out;
  }

  json(v: unknown, path: string): unknown {
    if (typeof v !== 'string') return this.fail(path, 'must be a string of JSON');
    let value: unknown;
    try {
      value = parseJsonExact(v);
    } catch {
      return this.fail(path, 'is not valid JSON');
    }
    const problem = safetyProblem(v, value);
    if (problem)
      return this.fail(problem.path === '(body)' ? path : `${path}.${problem.path}`, problem.message);
    return value;
  }

  guard<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AvpValueError) return this.fail(err.path, err.message.slice(err.path.length + 2));
      throw err;
    }
  }

  done(): void {
    if (this.problems.length) throw validationError(this.problems);
  }
}

function readToken(r: Reader, body: Record<string, unknown>): TokenInput | undefined {
  const identity = r.string(body.identityToken, 'identityToken', false);
  const access = r.string(body.accessToken, 'accessToken', false);
  if (identity && access) return r.fail('identityToken', 'give identityToken or accessToken, not both');
  if (!identity && !access) return r.fail('identityToken', 'identityToken or accessToken is required');
  return identity ? { field: 'identityToken', value: identity } : { field: 'accessToken', value: access! };
}

function readRequests(r: Reader, v: unknown): unknown[] {
  if (!Array.isArray(v)) {
    r.fail('requests', 'is required (a list)');
    return [];
  }
  if (v.length === 0) r.fail('requests', 'must hold at least one request');
  if (v.length > AVP_MAX_BATCH) r.fail('requests', `must hold at most ${AVP_MAX_BATCH} requests`);
  return v;
}

/**
 * Decodes one data-plane request. Throws AwsError: UnknownOperationException for another
 * operation, ValidationException (with every bad field in `fieldList`) for a bad body.
 */
export function decodeRequest(operation: string | undefined, body: Record<string, unknown>): DecodedRequest {
  const r = new Reader();
  switch (operation) {
    case 'IsAuthorized': {
      const policyStoreId = r.string(body.policyStoreId, 'policyStoreId');
      const principal = r.entity(body.principal, 'principal');
      const action = r.action(body.action, 'action');
      const resource = r.entity(body.resource, 'resource');
      const context = r.context(body.context, 'context');
      const entities = r.entities(body.entities, 'entities');
      r.done();
      return {
        operation,
        policyStoreId: policyStoreId!,
        question: {
          principal: principal!,
          action: action!,
          resource: resource!,
          context: context!,
          entities: entities!,
        },
      };
    }
    case 'IsAuthorizedWithToken': {
      const policyStoreId = r.string(body.policyStoreId, 'policyStoreId');
      const token = readToken(r, body);
      const action = r.action(body.action, 'action');
      const resource = r.entity(body.resource, 'resource');
      const context = r.context(body.context, 'context');
      const entities = r.entities(body.entities, 'entities');
      r.done();
      return {
        operation,
        policyStoreId: policyStoreId!,
        token: token!,
        question: { action: action!, resource: resource!, context: context!, entities: entities! },
      };
    }
    case 'BatchIsAuthorized':
    case 'BatchIsAuthorizedWithToken': {
      const withToken = operation === 'BatchIsAuthorizedWithToken';
      const policyStoreId = r.string(body.policyStoreId, 'policyStoreId');
      const token = withToken ? readToken(r, body) : undefined;
      const entities = r.entities(body.entities, 'entities');
      const items = readRequests(r, body.requests);
      const questions: AvpQuestion[] = items.map((item, i) => {
        const it = (item && typeof item === 'object' ? item : {}) as Record<string, unknown>;
        if (!item || typeof item !== 'object') r.fail(`requests[${i}]`, 'must be an object');
        return {
          ...(withToken ? {} : { principal: r.entity(it.principal, `requests[${i}].principal`)! }),
          action: r.action(it.action, `requests[${i}].action`)!,
          resource: r.entity(it.resource, `requests[${i}].resource`)!,
          context: r.context(it.context, `requests[${i}].context`)!,
          entities: entities ?? [],
        };
      });
      if (!withToken && r.problems.length === 0 && questions.length > 1) {
        // AVP: either the principal or the resource is the same across the batch.
        const first = questions[0]!;
        const samePrincipal = questions.every((q) => sameUid(q.principal!, first.principal!));
        const sameResource = questions.every((q) => sameUid(q.resource, first.resource));
        if (!samePrincipal && !sameResource)
          r.fail('requests', 'either the principal or the resource must be identical across all requests');
      }
      r.done();
      return withToken
        ? { operation, policyStoreId: policyStoreId!, token: token!, questions, echo: items }
        : {
            operation,
            policyStoreId: policyStoreId!,
            questions: questions as (AvpQuestion & { principal: EntityUid })[],
            echo: items,
          };
    }
    default:
      throw new AwsError(
        'UnknownOperationException',
        operation
          ? `Operation ${operation} is not served here.`
          : 'The x-amz-target header names no operation.',
      );
  }
}

/** An evaluated answer in AVP's terms. */
export interface AvpAnswer {
  allow: boolean;
  determiningPolicies: string[];
  errors: DecisionError[];
}

/**
 * An evaluation error as AVP's `errorDescription` text. The engine parses it back
 * (`parseErrorDescription` in avp/calls.ts), so the policy id survives the round trip.
 */
export function errorDescription(e: DecisionError): string {
  return e.policyId ? `error while evaluating policy \`${e.policyId}\`: ${e.message}` : e.message;
}

export function encodeAnswer(a: AvpAnswer) {
  return {
    decision: a.allow ? ('ALLOW' as const) : ('DENY' as const),
    determiningPolicies: a.determiningPolicies.map((policyId) => ({ policyId })),
    errors: a.errors.map((e) => ({ errorDescription: errorDescription(e) })),
  };
}

/** The AVP identifier of an entity. */
export const encodeUid = (uid: EntityUid) => ({ entityType: uid.type, entityId: uid.id });
