import type { RecordType, SchemaModel, SchemaType } from './model.js';

/**
 * A schema as a caller reads it (discovery): each action with the principal and resource types it
 * applies to and the context it takes; each entity type with its attributes and their types. Types
 * are written as in Cedar's schema syntax (`String`, `Set<Long>`, `Payments::User`, `decimal`,
 * records as `{ name?: Type }` objects).
 */
export interface DescribedType {
  type: string;
  required?: boolean;
  attributes?: Record<string, DescribedType>;
  element?: DescribedType;
}

export interface DescribedSchema {
  actions: {
    id: string;
    principalTypes: string[];
    resourceTypes: string[];
    context: Record<string, DescribedType>;
    memberOf: string[];
  }[];
  entityTypes: {
    name: string;
    attributes: Record<string, DescribedType>;
    memberOfTypes: string[];
    tags?: DescribedType;
    enum?: string[];
  }[];
}

function describeType(t: SchemaType): DescribedType {
  switch (t.kind) {
    case 'bool':
      return { type: 'Bool' };
    case 'long':
      return { type: 'Long' };
    case 'string':
      return { type: 'String' };
    case 'set':
      return { type: 'Set', element: describeType(t.element) };
    case 'record':
      return { type: 'Record', attributes: describeRecord(t) };
    case 'entity':
      return { type: t.name };
    case 'extension':
      return { type: t.name };
  }
}

function describeRecord(r: RecordType): Record<string, DescribedType> {
  const out: Record<string, DescribedType> = {};
  for (const [name, a] of [...r.attrs].sort(([x], [y]) => (x < y ? -1 : 1)))
    out[name] = { ...describeType(a.type), required: a.required };
  return out;
}

export function describeSchema(model: SchemaModel): DescribedSchema {
  return {
    actions: [...model.actions.values()]
      .map((a) => ({
        id: a.uid.key,
        principalTypes: [...a.principalTypes].sort(),
        resourceTypes: [...a.resourceTypes].sort(),
        context: describeRecord(a.context),
        memberOf: a.entity.parents.map((p) => p.key).sort(),
      }))
      .sort((x, y) => (x.id < y.id ? -1 : 1)),
    entityTypes: [...model.entityTypes.values()]
      .map((e) => ({
        name: e.name,
        attributes: describeRecord(e.shape),
        memberOfTypes: [...e.allowedParentTypes].sort(),
        ...(e.tags ? { tags: describeType(e.tags) } : {}),
        ...(e.enumIds ? { enum: [...e.enumIds].sort() } : {}),
      }))
      .sort((x, y) => (x.name < y.name ? -1 : 1)),
  };
}
