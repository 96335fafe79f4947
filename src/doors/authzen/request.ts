import type { CedarValue, Entity } from '../../cedar/types.js';
import type { AuthzenConfig } from '../../config/index.js';
import { AuthzError, type FieldProblem } from '../../core/errors.js';
import type { DecisionRequest } from '../../core/decision.js';
import { EvaluationItem, type EvaluationBody, type EvaluationsBody } from './wire.js';

/**
 * AuthZEN → pipeline. The subject is a stated principal (nothing is verified): its type picks
 * the Cedar principal type and the caller type that routes it to a store; `properties` become
 * the principal's attributes, and a configured groups property its parents. Resource properties
 * become the resource entity's attributes; `action.name` is the Cedar action id, and with
 * `actionPropertiesKey` set, `action.properties` is that key of the Cedar context (Cedar actions
 * have no per-request attributes).
 */
export function toDecisionRequest(config: AuthzenConfig, body: EvaluationBody): DecisionRequest {
  const mapping = config.subjectTypes[body.subject.type];
  const subjectType =
    mapping === undefined
      ? { entityType: body.subject.type }
      : typeof mapping === 'string'
        ? { entityType: mapping }
        : mapping;
  const callerType = (typeof mapping === 'object' && mapping.callerType) || body.subject.type;

  const attrs = { ...(body.subject.properties ?? {}) } as Record<string, CedarValue>;
  const parents: Entity['parents'] = [];
  if (typeof mapping === 'object' && mapping.groupsProperty) {
    const groups = attrs[mapping.groupsProperty];
    delete attrs[mapping.groupsProperty];
    if (groups !== undefined) {
      if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
        throw new AuthzError(
          'invalid_request',
          `subject.properties.${mapping.groupsProperty} must be a list of names`,
          {
            fields: [
              { path: `subject.properties.${mapping.groupsProperty}`, message: 'expected a list of strings' },
            ],
          },
        );
      }
      for (const g of groups as string[]) parents.push({ type: mapping.groupType!, id: g });
    }
  }
  const principal = { type: subjectType.entityType, id: body.subject.id };
  const resource = {
    type: config.resourceTypes[body.resource.type] ?? body.resource.type,
    id: body.resource.id,
  };
  // Only a subject with properties or groups becomes an entity: a store may define its
  // principals itself (entities.json), and a request may not redefine a store's entity.
  const entities: Entity[] =
    Object.keys(attrs).length || parents.length ? [{ uid: principal, attrs, parents }] : [];
  if (body.resource.properties) {
    entities.push({
      uid: resource,
      attrs: body.resource.properties as Record<string, CedarValue>,
      parents: [],
    });
  }
  const context = { ...(body.context ?? {}) } as Record<string, CedarValue>;
  const key = config.actionPropertiesKey;
  if (key !== undefined && body.action.properties !== undefined) {
    if (key in context) {
      throw new AuthzError(
        'invalid_request',
        `context.${key} is where action.properties go; send one or the other`,
        {
          fields: [
            {
              path: `context.${key}`,
              message: 'reserved for action.properties (authzen.actionPropertiesKey)',
            },
          ],
        },
      );
    }
    context[key] = body.action.properties as Record<string, CedarValue>;
  }
  return {
    subject: { kind: 'principal', principal, callerType },
    ...(config.store ? { store: config.store } : {}),
    action: { type: config.actionType, id: body.action.name },
    resource,
    context,
    entities,
  };
}

/** One item of an evaluations request: ready to decide, or failed with the reason. */
export type ExpandedItem = { ok: true; body: EvaluationBody } | { ok: false; error: AuthzError };

/**
 * The items of an evaluations request with the top-level defaults filled in: a key an item leaves
 * out is inherited whole from the top level, a key it gives replaces the default whole (AuthZEN
 * 1.0: no merging inside subject, action or resource). An item that is still incomplete, or of
 * the wrong shape, is a failed item, not a failed request. Without items (no `evaluations`, or an
 * empty one) the request is one evaluation of the top level, and a hole in it is a 400 (thrown).
 */
export function expandEvaluations(body: EvaluationsBody): ExpandedItem[] {
  if (!body.evaluations?.length) {
    const single = expandItem(body, {}, undefined);
    if (!single.ok) throw single.error;
    return [single];
  }
  return body.evaluations.map((raw, i) => {
    const parsed = EvaluationItem.safeParse(raw);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({
        path: ['evaluations', i, ...issue.path].map(String).join('.'),
        message: issue.message.replace(/^Invalid input: /, ''),
      }));
      return { ok: false, error: invalid(fields) };
    }
    return expandItem(body, parsed.data, i);
  });
}

function expandItem(body: EvaluationsBody, item: EvaluationItem, index: number | undefined): ExpandedItem {
  const merged = {
    subject: item.subject ?? body.subject,
    action: item.action ?? body.action,
    resource: item.resource ?? body.resource,
    context: item.context ?? body.context,
  };
  const problems: FieldProblem[] = [];
  for (const key of ['subject', 'action', 'resource'] as const) {
    if (!merged[key])
      problems.push(
        index === undefined
          ? { path: key, message: 'Required' }
          : { path: `evaluations.${index}.${key}`, message: 'missing, and no default given' },
      );
  }
  if (problems.length) return { ok: false, error: invalid(problems) };
  if (merged.context === undefined) delete merged.context;
  return { ok: true, body: merged as EvaluationBody };
}

function invalid(fields: FieldProblem[]): AuthzError {
  return new AuthzError('invalid_request', `Invalid fields: ${fields.map((p) => p.path).join(', ')}`, {
    fields,
  });
}
