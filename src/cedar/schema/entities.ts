/**
 * Entity data checked against a schema, as Cedar's `Entities::from_json_value(json, Some(schema))`
 * does it (entities are checked whenever a schema is given, request validation on or off):
 *
 * - every non-action entity's type is declared; its id is declared if the type is an enum;
 * - attributes: each declared one has its type, required ones are present, undeclared ones are refused;
 * - tags only on types that declare a tag type, each of that type;
 * - parents: each parent's type may contain this type (transitively through `memberOfTypes`), an
 *   enum parent's id is declared, an action parent is a declared action;
 * - duplicates are refused unless structurally equal to the first (Cedar keeps one);
 * - the hierarchy has no cycle (Cedar computes the transitive closure and enforces a DAG);
 * - action entities in the data must be declared and equal the schema's definition: no attributes
 *   or tags, and the same ancestors after closure over the data (listing `edit in [grp]` is fine
 *   when the schema says so; leaving out a group the schema implies through another one is not);
 * - the schema's action entities are added to the result.
 */
import { CedarRecord, valueEquals, type EntityData, type EntityRef, type Value } from '../values.js';
import type { CompiledSchema } from './compiled.js';
import { SchemaValidationError, ValueProblem } from './errors.js';
import { describeJson, isObject, own } from './json-shape.js';
import { isActionType } from './model.js';
import { readEntityUid } from './parse-value.js';
import { parseSchemaless } from './schemaless.js';

export interface ParseEntitiesOptions {
  /**
   * Append the schema's action entities (Cedar does). Default true; pass false for a request's own
   * entities when the store's static entities (parsed once, with actions) are layered underneath.
   */
  includeActions?: boolean;
}

export function parseEntities(
  schema: CompiledSchema,
  json: unknown,
  opts: ParseEntitiesOptions = {},
): EntityData[] {
  if (!Array.isArray(json))
    throw new SchemaValidationError(
      'invalid_value',
      `entities: expected an array of entities, got ${describeJson(json)}`,
    );
  const byKey = new Map<string, EntityData>();
  const order: EntityData[] = [];
  for (let i = 0; i < json.length; i++) {
    const e = parseOne(schema, json[i], i);
    const prior = byKey.get(e.uid.key);
    if (prior) {
      if (!sameEntity(prior, e))
        throw new SchemaValidationError(
          'duplicate_entity',
          `duplicate entity entry \`${e.uid.key}\``,
          e.uid.key,
        );
      continue;
    }
    byKey.set(e.uid.key, e);
    order.push(e);
  }
  for (const e of order) if (!isActionType(e.uid.type)) conform(schema, e);
  checkAcyclic(order, byKey);
  for (const e of order) if (isActionType(e.uid.type)) conformAction(schema, e, byKey);
  if (opts.includeActions !== false)
    for (const a of schema.model.actions.values()) if (!byKey.has(a.uid.key)) order.push(a.entity);
  return order;
}

function where(i: number, uid?: EntityRef): string {
  return uid ? `entity \`${uid.key}\`` : `entities[${i}]`;
}

function parseOne(schema: CompiledSchema, ej: unknown, i: number): EntityData {
  if (!isObject(ej))
    throw new SchemaValidationError(
      'invalid_value',
      `${where(i)}: expected an entity object, got ${describeJson(ej)}`,
    );
  let uid: EntityRef;
  try {
    uid = readEntityUid(own(ej, 'uid'));
  } catch (e) {
    throw locate(e, `${where(i)}.uid`);
  }
  const attrsJson = own(ej, 'attrs');
  const parentsJson = own(ej, 'parents');
  const tagsJson = own(ej, 'tags');
  if (!isObject(attrsJson))
    throw new SchemaValidationError('invalid_value', `${where(i, uid)}: \`attrs\` must be an object`);
  if (!Array.isArray(parentsJson))
    throw new SchemaValidationError('invalid_value', `${where(i, uid)}: \`parents\` must be an array`);
  if (tagsJson !== undefined && !isObject(tagsJson))
    throw new SchemaValidationError('invalid_value', `${where(i, uid)}: \`tags\` must be an object`);

  // Paths and messages are built only on failure: this runs for every static entity of a store.
  const attrs = new Map<string, Value>();
  let tags: Map<string, Value> | undefined;
  const action = isActionType(uid.type);
  const keys = Object.keys(attrsJson);
  if (keys.length > 1) keys.sort();
  const tagKeys = tagsJson ? Object.keys(tagsJson) : [];
  if (tagKeys.length > 1) tagKeys.sort();
  if (action) {
    // Cedar reads action entities without schema types, then compares them with the schema's.
    for (const k of keys) {
      try {
        attrs.set(k, parseSchemaless(attrsJson[k], schema.ext));
      } catch (e) {
        throw locate(e, `${uid.key}.${k}`, where(i, uid), 'attribute', k);
      }
    }
    if (tagKeys.length) {
      tags = new Map();
      for (const k of tagKeys) {
        try {
          tags.set(k, parseSchemaless(tagsJson![k], schema.ext));
        } catch (e) {
          throw locate(e, `${uid.key}[tag ${JSON.stringify(k)}]`, where(i, uid), 'tag', k);
        }
      }
    }
  } else {
    const t = schema.entityType(uid.type);
    if (!t)
      throw new SchemaValidationError(
        'unknown_entity_type',
        `${where(i, uid)}: entity type \`${uid.type}\` is not declared in the schema`,
        uid.key,
      );
    for (const k of keys) {
      const p = t.attrs.get(k);
      if (!p)
        throw new SchemaValidationError(
          'unexpected_attribute',
          `${where(i, uid)}: attribute \`${k}\` is not declared for \`${uid.type}\` in the schema`,
          `${uid.key}.${k}`,
        );
      try {
        attrs.set(k, p(attrsJson[k]));
      } catch (e) {
        throw locate(e, `${uid.key}.${k}`, where(i, uid), 'attribute', k);
      }
    }
    if (tagKeys.length) {
      const p = t.tags;
      if (!p)
        throw new SchemaValidationError(
          'unexpected_tag',
          `${where(i, uid)}: found tag \`${tagKeys[0]}\`, but \`${uid.type}\` declares no tags in the schema`,
          uid.key,
        );
      tags = new Map();
      for (const k of tagKeys) {
        try {
          tags.set(k, p(tagsJson![k]));
        } catch (e) {
          throw locate(e, `${uid.key}[tag ${JSON.stringify(k)}]`, where(i, uid), 'tag', k);
        }
      }
    }
  }
  const parents: EntityRef[] = [];
  let seen: Set<string> | undefined;
  for (let j = 0; j < parentsJson.length; j++) {
    let p: EntityRef;
    try {
      p = readEntityUid(parentsJson[j]);
    } catch (e) {
      throw locate(e, `${where(i, uid)}.parents[${j}]`);
    }
    if (action && !isActionType(p.type))
      throw new SchemaValidationError(
        'invalid_parent',
        `${where(i, uid)}: action entity has parent \`${p.key}\`, which is not an action`,
        uid.key,
      );
    if (parentsJson.length > 1) {
      seen ??= new Set();
      if (seen.has(p.key)) continue;
      seen.add(p.key);
    }
    parents.push(p);
  }
  return tags ? { uid, attrs, parents, tags } : { uid, attrs, parents };
}

/**
 * A caught ValueProblem as a located SchemaValidationError (anything else is rethrown as is).
 * With `label` (the entity) the message reads
 * `entity \`User::"a"\`: attribute \`addr.zip\`: expected long, …`.
 */
function locate(e: unknown, path: string, label?: string, what = 'attribute', name = ''): unknown {
  if (!(e instanceof ValueProblem)) return e;
  if (!label) return e.at(path);
  const suffix = e.suffix();
  return new SchemaValidationError(
    e.kind,
    `${label}: ${what} \`${name}${suffix}\`: ${e.detail}`,
    path + suffix,
  );
}

function conform(schema: CompiledSchema, e: EntityData): void {
  const t = schema.entityType(e.uid.type)!;
  const at = where(0, e.uid);
  const enumIds = t.info.enumIds;
  if (enumIds && !enumIds.has(e.uid.id))
    throw new SchemaValidationError(
      'invalid_enum_entity',
      `${at}: ${JSON.stringify(e.uid.id)} is not a declared id of the enumerated type \`${e.uid.type}\``,
      e.uid.key,
    );
  for (const k of t.required)
    if (!e.attrs.has(k))
      throw new SchemaValidationError(
        'missing_attribute',
        `${at}: required attribute \`${k}\` is missing`,
        `${e.uid.key}.${k}`,
      );
  for (const p of e.parents) {
    checkUid(schema, p, `${at}: parent`);
    if (!t.info.allowedParentTypes.has(p.type))
      throw new SchemaValidationError(
        'invalid_parent',
        `${at}: \`${e.uid.type}\` may not have a parent of type \`${p.type}\` according to the schema`,
        e.uid.key,
      );
  }
}

/** Cedar's check on any uid it meets in entity data: enum ids declared, action uids declared. */
function checkUid(schema: CompiledSchema, uid: EntityRef, what: string): void {
  const ids = schema.entityType(uid.type)?.info.enumIds;
  if (ids && !ids.has(uid.id))
    throw new SchemaValidationError(
      'invalid_enum_entity',
      `${what} \`${uid.key}\` is of an enumerated type, but ${JSON.stringify(uid.id)} is not one of its declared ids`,
    );
  if (isActionType(uid.type) && !schema.action(uid.key))
    throw new SchemaValidationError(
      'undeclared_action',
      `${what} \`${uid.key}\` is not an action declared in the schema`,
    );
}

function conformAction(schema: CompiledSchema, e: EntityData, byKey: Map<string, EntityData>): void {
  const a = schema.action(e.uid.key);
  if (!a)
    throw new SchemaValidationError(
      'undeclared_action',
      `entity \`${e.uid.key}\`: action is not declared in the schema`,
      e.uid.key,
    );
  const ancestors = ancestorsIn(e, byKey);
  const expected = new Set(a.entity.parents.map((p) => p.key));
  const same =
    e.attrs.size === 0 &&
    (e.tags === undefined || e.tags.size === 0) &&
    ancestors.size === expected.size &&
    [...ancestors].every((k) => expected.has(k));
  if (!same)
    throw new SchemaValidationError(
      'action_mismatch',
      `entity \`${e.uid.key}\`: definition of the action does not match its schema declaration`,
      e.uid.key,
    );
}

function ancestorsIn(e: EntityData, byKey: Map<string, EntityData>): Set<string> {
  const out = new Set<string>();
  const stack = e.parents.map((p) => p.key);
  while (stack.length) {
    const k = stack.pop()!;
    if (out.has(k)) continue;
    out.add(k);
    const d = byKey.get(k);
    if (d) for (const p of d.parents) stack.push(p.key);
  }
  return out;
}

/**
 * Cedar refuses entity data whose parent graph has a cycle (self-parents included). Exported for
 * request entities layered over a store's static ones: pass the request's entities and a lookup
 * that finds either kind, and a cycle closed through static entities is found too.
 */
export function assertAcyclic(
  order: readonly EntityData[],
  byKey: { get(key: string): EntityData | undefined },
): void {
  checkAcyclic(order, byKey);
}

function checkAcyclic(
  order: readonly EntityData[],
  byKey: { get(key: string): EntityData | undefined },
): void {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  for (const root of order) {
    if (state.has(root.uid.key)) continue;
    const stack: { e: EntityData; i: number }[] = [{ e: root, i: 0 }];
    state.set(root.uid.key, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.e.parents.length) {
        state.set(top.e.uid.key, 2);
        stack.pop();
        continue;
      }
      const pk = top.e.parents[top.i++]!.key;
      const s = state.get(pk);
      if (s === 1)
        throw new SchemaValidationError(
          'hierarchy_cycle',
          `entities: the parent hierarchy has a cycle containing \`${pk}\``,
          pk,
        );
      if (s === undefined) {
        const d = byKey.get(pk);
        if (d) {
          state.set(pk, 1);
          stack.push({ e: d, i: 0 });
        }
      }
    }
  }
}

function sameEntity(a: EntityData, b: EntityData): boolean {
  if (a.parents.length !== b.parents.length) return false;
  const pa = new Set(a.parents.map((p) => p.key));
  if (!b.parents.every((p) => pa.has(p.key))) return false;
  if (!valueEquals(new CedarRecord(a.attrs), new CedarRecord(b.attrs))) return false;
  return valueEquals(new CedarRecord(a.tags ?? new Map()), new CedarRecord(b.tags ?? new Map()));
}
