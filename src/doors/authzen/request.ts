import type { CedarValue, Entity } from '../../cedar/types.js';
import type { AuthzenConfig } from '../../config/index.js';
import { AuthzError, type FieldProblem } from '../../core/errors.js';
import type { DecisionRequest } from '../../core/decision.js';
import type { EvaluationBody, EvaluationsBody } from './wire.js';

/**
 * AuthZEN → pipeline. The subject is a stated principal (nothing is verified): its type picks
 * the Cedar principal type and the caller type that routes it to a store; `properties` become
 * the principal's attributes, and a configured groups property its parents. Resource properties
 * become the resource entity's attributes; `action.name` is the Cedar action id.
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
  return {
    subject: { kind: 'principal', principal, callerType },
    ...(config.store ? { store: config.store } : {}),
    action: { type: config.actionType, id: body.action.name },
    resource,
    context: (body.context ?? {}) as Record<string, CedarValue>,
    entities,
  };
}

/** The items of an evaluations request with the top-level defaults filled in; a hole is a 400. */
export function expandEvaluations(body: EvaluationsBody): EvaluationBody[] {
  const items = body.evaluations?.length ? body.evaluations : [{}];
  const problems: FieldProblem[] = [];
  const expanded = items.map((item, i) => {
    const merged = {
      subject: item.subject ?? body.subject,
      action: item.action ?? body.action,
      resource: item.resource ?? body.resource,
      context: item.context ?? body.context,
    };
    for (const key of ['subject', 'action', 'resource'] as const) {
      if (!merged[key])
        problems.push({ path: `evaluations.${i}.${key}`, message: 'missing, and no default given' });
    }
    return merged as EvaluationBody;
  });
  if (problems.length) {
    throw new AuthzError('invalid_request', `Invalid fields: ${problems.map((p) => p.path).join(', ')}`, {
      fields: problems,
    });
  }
  return expanded;
}
