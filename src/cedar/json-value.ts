/**
 * Cedar's JSON data format, schemaless: values, entity uids, entities and contexts → runtime
 * values. Schema-directed parsing (in `schema/`) builds on the same pieces: `entityUidFromJson`,
 * `extensionFromJson`, `longFromJson`, `parseValueJson`.
 *
 * Shapes, as Cedar 4.13 decides them:
 * - `{"__entity": {"type", "id"}}` (that one key only) is an entity reference;
 * - `{"__extn": {"fn", "arg"}}` or `{"__extn": {"fn", "args": [..]}}` (that one key only) calls an
 *   extension function on the parsed argument(s);
 * - an object of any other shape (including a malformed `__extn`/`__entity`) is a record;
 * - arrays are sets, integers are longs (64-bit; `bigint` input keeps them exact), `null` and
 *   non-integers are errors.
 */
import { EXTENSION_FUNCTIONS } from './ext/index.js';
import { CedarEvalError } from './eval-error.js';
import { CedarRecord, EntityRef, long, makeSet, valueEquals, type EntityData, type Value } from './values.js';

/** Malformed Cedar JSON data (not a policy evaluation error). */
export class CedarJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CedarJsonError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function soleKey(o: Record<string, unknown>, key: string): boolean {
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === key;
}

/** A 64-bit integer from a JSON number or bigint; error on fractions and out-of-range values. */
export function longFromJson(v: number | bigint, where: string): number | bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    if (!Number.isInteger(v)) throw new CedarJsonError(`${where}: ${v} is not an integer`);
    v = BigInt(v);
  }
  const r = long(v);
  if (r === undefined) throw new CedarJsonError(`${where}: ${v} is outside the 64-bit integer range`);
  return r;
}

const IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
/** Words Cedar reserves: never a component of a name. */
const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', '__cedar']);

/** Cedar entity type name syntax: `Ident(::Ident)*`, no reserved word, no spaces. */
export function isEntityTypeName(s: string): boolean {
  return s.split('::').every((c) => IDENT.test(c) && !RESERVED.has(c));
}

/**
 * `{"type","id"}` with string members, else undefined. A type that is not a valid Cedar name is
 * an error (cedar-wasm: "failed to parse escape `__entity`"), not a different shape.
 */
export function typeAndId(v: unknown): EntityRef | undefined {
  if (!isPlainObject(v)) return undefined;
  const { type, id } = v;
  if (typeof type !== 'string' || typeof id !== 'string') return undefined;
  if (!isEntityTypeName(type)) throw new CedarJsonError(`\`${type}\` is not a valid entity type name`);
  return new EntityRef(type, id);
}

/** An entity uid as Cedar accepts it in uid/parent positions: `{type,id}` or `{"__entity":{type,id}}`. */
export function entityUidFromJson(v: unknown, where: string): EntityRef {
  if (isPlainObject(v)) {
    const inner = '__entity' in v && soleKey(v, '__entity') ? v.__entity : v;
    const r = typeAndId(inner);
    if (r !== undefined) return r;
  }
  throw new CedarJsonError(
    `${where}: expected an entity uid {"type": string, "id": string}, got ${JSON.stringify(v)}`,
  );
}

/** The `{fn, arg}` / `{fn, args}` body of an `__extn`, or undefined when it is not that shape. */
export function extnCall(v: unknown): { fn: string; args: unknown[] } | undefined {
  if (!isPlainObject(v) || typeof v.fn !== 'string') return undefined;
  if ('arg' in v) return { fn: v.fn, args: [v.arg] };
  if (Array.isArray(v.args)) return { fn: v.fn, args: v.args };
  return undefined;
}

/** Apply an extension function to already-parsed arguments, as `__extn` does. */
export function extensionFromJson(fn: string, args: readonly Value[], where: string): Value {
  const f = EXTENSION_FUNCTIONS.get(fn);
  if (f === undefined) throw new CedarJsonError(`${where}: extension function \`${fn}\` does not exist`);
  if (args.length !== f.arity)
    throw new CedarJsonError(`${where}: \`${fn}\` takes ${f.arity} argument(s), got ${args.length}`);
  try {
    return f.call(args);
  } catch (e) {
    if (e instanceof CedarEvalError) throw new CedarJsonError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Any Cedar JSON value, schemaless. `where` names the position for error messages. */
export function parseValueJson(v: unknown, where: string): Value {
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return longFromJson(v, where);
  }
  if (v === null || v === undefined)
    throw new CedarJsonError(`${where}: found a \`null\`; JSON \`null\`s are not allowed in Cedar`);
  if (Array.isArray(v)) return makeSet(v.map((x, i) => parseValueJson(x, `${where}[${i}]`)));
  if (!isPlainObject(v)) throw new CedarJsonError(`${where}: unsupported JSON value`);
  if (soleKey(v, '__entity')) {
    const r = typeAndId(v.__entity);
    if (r !== undefined) return r;
  } else if (soleKey(v, '__extn')) {
    const call = extnCall(v.__extn);
    if (call !== undefined)
      return extensionFromJson(
        call.fn,
        call.args.map((a, i) => parseValueJson(a, `${where}.__extn.args[${i}]`)),
        where,
      );
  }
  return parseRecordJson(v, where);
}

export function parseRecordJson(v: Record<string, unknown>, where: string): CedarRecord {
  const fields = new Map<string, Value>();
  for (const k of Object.keys(v)) fields.set(k, parseValueJson(v[k], `${where}.${k}`));
  return new CedarRecord(fields);
}

/** A request context: a JSON object (schemaless). */
export function parseContextJson(v: unknown): CedarRecord {
  if (!isPlainObject(v)) throw new CedarJsonError('context: expected a JSON object');
  return parseRecordJson(v, 'context');
}

/** One entity `{uid, attrs, parents, tags?}`, schemaless. */
export function parseEntityJson(v: unknown, where = 'entity'): EntityData {
  if (!isPlainObject(v)) throw new CedarJsonError(`${where}: expected a JSON object`);
  const uid = entityUidFromJson(v.uid, `${where}.uid`);
  const at = `entity ${uid.key}`;
  if (!isPlainObject(v.attrs)) throw new CedarJsonError(`${at}: missing or malformed \`attrs\``);
  if (!Array.isArray(v.parents)) throw new CedarJsonError(`${at}: missing or malformed \`parents\``);
  const attrs = parseRecordJson(v.attrs, `${at} attrs`).fields;
  const parents = v.parents.map((p, i) => entityUidFromJson(p, `${at} parents[${i}]`));
  const out: EntityData = { uid, attrs, parents };
  if (v.tags !== undefined) {
    if (!isPlainObject(v.tags)) throw new CedarJsonError(`${at}: malformed \`tags\``);
    out.tags = parseRecordJson(v.tags, `${at} tags`).fields;
  }
  return out;
}

/** Two parsed entities are the same entry (Cedar accepts exact duplicates in one list). */
export function entityDataEquals(a: EntityData, b: EntityData): boolean {
  if (a.uid.key !== b.uid.key) return false;
  if (!valueEquals(new CedarRecord(a.attrs), new CedarRecord(b.attrs))) return false;
  if (!valueEquals(new CedarRecord(a.tags ?? new Map()), new CedarRecord(b.tags ?? new Map()))) return false;
  return valueEquals(makeSet(a.parents), makeSet(b.parents));
}

/**
 * Add entities to a list, keyed by uid: an exact duplicate is dropped, a different entity with a
 * uid already present is an error (`duplicate entity entry`), as cedar-wasm does.
 */
export function dedupEntities(list: readonly EntityData[]): EntityData[] {
  const seen = new Map<string, EntityData>();
  for (const e of list) {
    const prev = seen.get(e.uid.key);
    if (prev === undefined) seen.set(e.uid.key, e);
    else if (!entityDataEquals(prev, e)) throw new CedarJsonError(`duplicate entity entry \`${e.uid.key}\``);
  }
  return [...seen.values()];
}

/** A JSON array of entities, schemaless, duplicates handled as `dedupEntities`. */
export function parseEntitiesJson(v: unknown): EntityData[] {
  if (!Array.isArray(v)) throw new CedarJsonError('entities: expected a JSON array');
  return dedupEntities(v.map((e, i) => parseEntityJson(e, `entities[${i}]`)));
}
