/**
 * Schema JSON → SchemaModel. cedar-wasm stays the schema parser: `loadSchemaJson` asks it for the
 * JSON form with names resolved (`schemaToJsonWithResolvedTypes`), which also rejects every
 * schema Cedar rejects. This file only turns that already-valid JSON into our model, so it trusts
 * the structure and resolves the few things the JSON still leaves by name (common types).
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { EntityRef, type EntityData } from '../values.js';
import { SchemaValidationError } from './errors.js';
import type {
  ActionInfo,
  AttributeType,
  EntityTypeInfo,
  ExtensionName,
  RecordType,
  SchemaModel,
  SchemaType,
} from './model.js';

type Json = Record<string, unknown>;
type NamespaceJson = {
  commonTypes?: Record<string, Json>;
  entityTypes?: Record<string, Json>;
  actions?: Record<string, Json>;
};

const EXTENSIONS = new Set<string>(['decimal', 'ipaddr', 'datetime', 'duration']);
const EMPTY_RECORD: RecordType = { kind: 'record', attrs: new Map() };

/**
 * Cedar schema text or JSON → schema JSON with fully qualified names. JSON input is printed as
 * text first because the resolving call takes text; both are cedar-wasm's own conversions.
 */
export function loadSchemaJson(schema: string | object): Record<string, NamespaceJson> {
  let text: string;
  if (typeof schema === 'string') text = schema;
  else {
    const t = cedar.schemaToText(schema as cedar.Schema);
    if (t.type === 'failure') throw invalidSchema(t.errors);
    text = t.text;
  }
  const r = cedar.schemaToJsonWithResolvedTypes(text);
  if (r.type === 'failure') throw invalidSchema(r.errors);
  return r.json as unknown as Record<string, NamespaceJson>;
}

function invalidSchema(errors: { message: string }[]): SchemaValidationError {
  return new SchemaValidationError(
    'invalid_schema',
    `invalid schema: ${errors.map((e) => e.message).join('; ')}`,
  );
}

const qualify = (ns: string, name: string) => (ns ? `${ns}::${name}` : name);

/** Builds the model from resolved schema JSON (the output of `loadSchemaJson`). */
export function compileSchemaModel(json: Record<string, NamespaceJson>): SchemaModel {
  // Common types by fully qualified name; resolved lazily, memoised (they may refer to each other).
  const commonJson = new Map<string, { ns: string; json: Json }>();
  for (const [ns, def] of Object.entries(json))
    for (const [name, t] of Object.entries(def.commonTypes ?? {}))
      commonJson.set(qualify(ns, name), { ns, json: t });
  const commonResolved = new Map<string, SchemaType>();
  const declaredEntities = new Set<string>();
  for (const [ns, def] of Object.entries(json))
    for (const name of Object.keys(def.entityTypes ?? {})) declaredEntities.add(qualify(ns, name));

  const resolveName = (ns: string, name: string): SchemaType | undefined => {
    // A name the resolved JSON left as a type: a common type (which may shadow a builtin such as
    // `ipaddr`), else a builtin, possibly spelled `__cedar::X`.
    for (const full of name.includes('::') ? [name] : [qualify(ns, name), name]) {
      const c = commonJson.get(full);
      if (c) {
        let r = commonResolved.get(full);
        if (!r) {
          r = resolve(c.ns, c.json);
          commonResolved.set(full, r);
        }
        return r;
      }
    }
    const base = name.startsWith('__cedar::') ? name.slice('__cedar::'.length) : name;
    if (base === 'String') return { kind: 'string' };
    if (base === 'Long') return { kind: 'long' };
    if (base === 'Bool' || base === 'Boolean') return { kind: 'bool' };
    if (EXTENSIONS.has(base)) return { kind: 'extension', name: base as ExtensionName };
    return undefined;
  };

  const entityName = (ns: string, name: string): string => {
    if (name.includes('::')) return name;
    const q = qualify(ns, name);
    return declaredEntities.has(q) ? q : name;
  };

  function resolve(ns: string, t: Json): SchemaType {
    const type = t.type as string;
    switch (type) {
      case 'String':
        return { kind: 'string' };
      case 'Long':
        return { kind: 'long' };
      case 'Boolean':
        return { kind: 'bool' };
      case 'Set':
        return { kind: 'set', element: resolve(ns, t.element as Json) };
      case 'Record':
        return resolveRecord(ns, t);
      case 'Entity':
        return { kind: 'entity', name: entityName(ns, t.name as string) };
      case 'Extension':
        return { kind: 'extension', name: t.name as ExtensionName };
      case 'EntityOrCommon': {
        const name = t.name as string;
        const common =
          commonJson.has(qualify(ns, name)) || commonJson.has(name) ? resolveName(ns, name) : undefined;
        if (common) return common;
        const e = entityName(ns, name);
        if (declaredEntities.has(e)) return { kind: 'entity', name: e };
        const b = resolveName(ns, name);
        if (b) return b;
        throw new SchemaValidationError('invalid_schema', `invalid schema: cannot resolve type \`${name}\``);
      }
      default: {
        const r = resolveName(ns, type);
        if (r) return r;
        throw new SchemaValidationError('invalid_schema', `invalid schema: cannot resolve type \`${type}\``);
      }
    }
  }

  function resolveRecord(ns: string, t: Json): RecordType {
    if (t.additionalAttributes === true)
      throw new SchemaValidationError(
        'invalid_schema',
        'invalid schema: `additionalAttributes` is not supported',
      );
    const attrs = new Map<string, AttributeType>();
    const src = (t.attributes ?? {}) as Record<string, Json>;
    // Sorted, as Cedar keeps record attributes: the evaluator sees one order whatever the input.
    for (const name of Object.keys(src).sort())
      attrs.set(name, { type: resolve(ns, src[name]!), required: src[name]!.required !== false });
    return { kind: 'record', attrs };
  }

  function asRecord(ns: string, t: Json | undefined, what: string): RecordType {
    if (!t) return EMPTY_RECORD;
    const r = resolve(ns, t);
    if (r.kind !== 'record')
      throw new SchemaValidationError('invalid_schema', `invalid schema: ${what} is not a record type`);
    return r;
  }

  // Entity types.
  const memberOf = new Map<string, string[]>();
  const partial: {
    name: string;
    shape: RecordType;
    tags: SchemaType | undefined;
    enumIds: Set<string> | undefined;
  }[] = [];
  for (const [ns, def] of Object.entries(json)) {
    for (const [name, et] of Object.entries(def.entityTypes ?? {})) {
      const full = qualify(ns, name);
      if (Array.isArray(et.enum)) {
        memberOf.set(full, []);
        partial.push({
          name: full,
          shape: EMPTY_RECORD,
          tags: undefined,
          enumIds: new Set(et.enum as string[]),
        });
        continue;
      }
      memberOf.set(
        full,
        ((et.memberOfTypes ?? []) as string[]).map((p) => entityName(ns, p)),
      );
      partial.push({
        name: full,
        shape: asRecord(ns, et.shape as Json | undefined, `the shape of \`${full}\``),
        tags: et.tags ? resolve(ns, et.tags as Json) : undefined,
        enumIds: undefined,
      });
    }
  }
  const entityTypes = new Map<string, EntityTypeInfo>();
  for (const p of partial)
    entityTypes.set(p.name, { ...p, allowedParentTypes: closure(p.name, (n) => memberOf.get(n) ?? []) });

  // Actions: first every uid, then appliesTo, context and the transitive groups.
  const actionParents = new Map<string, EntityRef[]>();
  const actionRefs = new Map<string, EntityRef>();
  const pending: { ns: string; ref: EntityRef; json: Json }[] = [];
  for (const [ns, def] of Object.entries(json)) {
    const actionType = qualify(ns, 'Action');
    for (const [id, a] of Object.entries(def.actions ?? {})) {
      const ref = new EntityRef(actionType, id);
      actionRefs.set(ref.key, ref);
      const parents = ((a.memberOf ?? []) as { id: string; type?: string }[]).map(
        (m) =>
          new EntityRef(
            m.type ? (m.type.includes('::') || !ns ? m.type : qualify(ns, m.type)) : actionType,
            m.id,
          ),
      );
      actionParents.set(ref.key, parents);
      pending.push({ ns, ref, json: a });
    }
  }
  const actions = new Map<string, ActionInfo>();
  for (const { ns, ref, json: a } of pending) {
    const applies = (a.appliesTo ?? {}) as Json;
    const ancestorKeys = closure(ref.key, (k) => (actionParents.get(k) ?? []).map((p) => p.key));
    const entity: EntityData = {
      uid: ref,
      attrs: new Map(),
      parents: [...ancestorKeys].map((k) => actionRefs.get(k)!).filter(Boolean),
    };
    actions.set(ref.key, {
      uid: ref,
      principalTypes: new Set(((applies.principalTypes ?? []) as string[]).map((n) => entityName(ns, n))),
      resourceTypes: new Set(((applies.resourceTypes ?? []) as string[]).map((n) => entityName(ns, n))),
      context: asRecord(ns, applies.context as Json | undefined, `the context of \`${ref.key}\``),
      entity,
    });
  }
  return { entityTypes, actions };
}

/** Every node reachable from `start` through `next`, `start` excluded unless on a cycle. */
function closure(start: string, next: (n: string) => readonly string[]): Set<string> {
  const out = new Set<string>();
  const stack = [...next(start)];
  while (stack.length) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...next(n));
  }
  return out;
}
