/**
 * Schema-directed JSON → Value, compiled once per schema type into a closure, so a request pays
 * only for the checks its shape needs.
 *
 * Two modes, because Cedar has two:
 * - strict: parse and type-check. Entity data always, and the context when the request is
 *   validated (`validateRequest: true`).
 * - lenient: what Cedar does to the context of an unvalidated request with a schema: the schema
 *   still steers parsing (records must have exactly the declared attributes, sets must be arrays,
 *   entity slots take `{type,id}` without `__entity`, extension slots take bare strings and
 *   evaluate them) but leaf types are not checked: a string in a long slot passes, an entity of the
 *   wrong type or an undeclared enum id passes, an `__extn` call of another extension type passes.
 *
 * Failures throw ValueProblem; callers turn it into a SchemaValidationError with the path.
 */
import { CedarRecord, EntityRef, makeSet, type ExtensionValue, type Value } from '../values.js';
import { ValueProblem } from './errors.js';

import { callExtension } from './ext-call.js';
import { CONSTRUCTOR_OF, type ExtensionFunction, type ExtensionRegistry } from './extensions.js';
import {
  describeJson,
  fnAndArgs,
  isNormalizedName,
  isObject,
  jsonLong,
  own,
  problem,
  show,
  typeAndId,
} from './json-shape.js';
import { typeName, type RecordType, type SchemaModel, type SchemaType } from './model.js';
import { parseSchemaless } from './schemaless.js';

export type Parser = (v: unknown) => Value;

export interface ParserEnv {
  readonly model: SchemaModel;
  readonly ext: ExtensionRegistry;
  readonly strict: boolean;
}

function mismatch(t: SchemaType, v: unknown): ValueProblem {
  if (v === null) return problem('invalid_value', 'JSON `null` is not allowed in Cedar');
  return problem('type_mismatch', `expected ${typeName(t)}, got ${describeJson(v)} ${show(v)}`);
}

/** Compiles `t` into a parser. Record parsers are built eagerly, so build once and reuse. */
export function compileParser(t: SchemaType, env: ParserEnv): Parser {
  switch (t.kind) {
    case 'bool':
      return primitive(t, env, (v) => typeof v === 'boolean');
    case 'string':
      return primitive(t, env, (v) => typeof v === 'string');
    case 'long':
      if (!env.strict) return (v) => parseSchemaless(v, env.ext);
      return (v) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v === 0 ? 0 : v;
        const n = jsonLong(v);
        if (n !== undefined) return n;
        if (isObject(v)) {
          const r = parseSchemaless(v, env.ext);
          if (typeof r === 'number' || typeof r === 'bigint') return r;
        }
        throw typeof v === 'number'
          ? problem('invalid_value', `${show(v)} is not a 64-bit integer`)
          : mismatch(t, v);
      };
    case 'entity':
      return entityParser(t.name, env);
    case 'extension':
      return extensionParser(t, env);
    case 'set': {
      const el = compileParser(t.element, env);
      return (v) => {
        if (!Array.isArray(v)) throw mismatch(t, v);
        const items: Value[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            items[i] = el(v[i]);
          } catch (e) {
            if (e instanceof ValueProblem) e.segments.push(`[${i}]`);
            throw e;
          }
        }
        return makeSet(items);
      };
    }
    case 'record':
      return recordParser(t, env);
  }
}

/**
 * Bool and string slots. Cedar parses them schemalessly and then type-checks, so besides the plain
 * JSON value an extension call returning that type (`{"__extn":{"fn":"isIpv4",…}}`) also passes.
 */
function primitive(t: SchemaType, env: ParserEnv, ok: (v: unknown) => boolean): Parser {
  if (!env.strict) return (v) => parseSchemaless(v, env.ext);
  return (v) => {
    if (ok(v)) return v as Value;
    if (isObject(v)) {
      const r = parseSchemaless(v, env.ext);
      if (ok(r)) return r;
    }
    throw mismatch(t, v);
  };
}

function entityParser(name: string, env: ParserEnv): Parser {
  const info = env.model.entityTypes.get(name);
  const enumIds = info?.enumIds;
  return (v) => {
    const ref = readEntityUid(v);
    if (env.strict) {
      if (ref.type !== name)
        throw problem(
          'type_mismatch',
          `expected ${typeName({ kind: 'entity', name })}, got entity \`${ref.key}\``,
        );
      if (enumIds && !enumIds.has(ref.id))
        throw problem(
          'invalid_enum_entity',
          `entity \`${ref.key}\` is of an enumerated type, but ${JSON.stringify(ref.id)} is not one of its declared ids`,
        );
    }
    return ref;
  };
}

/**
 * An entity uid where the schema expects one: `{"__entity":{"type","id"}}` or `{"type","id"}`.
 * Exported for request principal/action/resource and entity uids, which Cedar reads the same way.
 */
export function readEntityUid(v: unknown): EntityRef {
  if (isObject(v)) {
    if (typeof own(v, '__expr') === 'string')
      throw problem('invalid_value', 'the `__expr` escape is no longer supported');
    const escaped = typeAndId(own(v, '__entity'));
    const ti = escaped ?? typeAndId(v);
    if (ti) {
      if (!isNormalizedName(ti.type))
        throw problem('invalid_entity_uid', `invalid entity type name ${show(ti.type)}`);
      return new EntityRef(ti.type, ti.id);
    }
  }
  throw problem('type_mismatch', `expected an entity reference, got ${describeJson(v)} ${show(v)}`);
}

function extensionParser(t: Extract<SchemaType, { kind: 'extension' }>, env: ParserEnv): Parser {
  const ctor = CONSTRUCTOR_OF[t.name];
  // Argument parsers per function, built on first use (extension arguments are primitives and
  // extension types, so they do not depend on the schema beyond the registry).
  const argParserCache = new Map<ExtensionFunction, Parser[]>();
  return (v) => {
    let call: { fn: string; args: unknown[] } | undefined;
    if (isObject(v)) {
      if (typeof own(v, '__expr') === 'string')
        throw problem('invalid_value', 'the `__expr` escape is no longer supported');
      call = fnAndArgs(own(v, '__extn')) ?? fnAndArgs(v);
    }
    if (!call) {
      // Cedar hands any other value to the type's one-argument constructor, which takes a string.
      if (typeof v !== 'string') throw mismatch(t, v);
      return callExtension(env.ext, ctor, [v]);
    }
    const f = env.ext.get(call.fn);
    if (!f) throw problem('invalid_value', `unknown extension function \`${call.fn}\``);
    if (f.argTypes.length !== call.args.length)
      throw problem(
        'invalid_value',
        `extension function \`${call.fn}\` takes ${f.argTypes.length} argument(s), ${call.args.length} given`,
      );
    // Arguments are parsed against the function's argument types, so `offset` takes its
    // datetime and duration as bare strings too. They are always checked (evaluation would fail).
    let argParsers = argParserCache.get(f);
    if (!argParsers) {
      const argEnv = env.strict ? env : { ...env, strict: true };
      argParsers = f.argTypes.map((at) => compileParser(at, argEnv));
      argParserCache.set(f, argParsers);
    }
    const args = argParsers.map((p, i) => p(call.args[i]));
    if (env.strict && (f.returnType.kind !== 'extension' || f.returnType.name !== t.name))
      throw problem(
        'type_mismatch',
        `expected ${t.name}, got the result of \`${call.fn}\` (${typeName(f.returnType)})`,
      );
    return callExtension(env.ext, call.fn, args) as ExtensionValue;
  };
}

function recordParser(t: RecordType, env: ParserEnv): Parser {
  const fields = [...t.attrs].map(([name, a]) => ({
    name,
    required: a.required,
    parse: compileParser(a.type, env),
  }));
  const declared = new Set(t.attrs.keys());
  return (v) => {
    if (!isObject(v)) throw mismatch(t, v);
    const out = new Map<string, Value>();
    let seen = 0;
    for (const f of fields) {
      if (!Object.prototype.hasOwnProperty.call(v, f.name)) {
        if (f.required) throw problem('missing_attribute', `missing required attribute \`${f.name}\``);
        continue;
      }
      seen++;
      try {
        out.set(f.name, f.parse(v[f.name]));
      } catch (e) {
        if (e instanceof ValueProblem) e.segments.push(f.name);
        throw e;
      }
    }
    if (seen !== Object.keys(v).length) {
      for (const k of Object.keys(v))
        if (!declared.has(k))
          throw problem('unexpected_attribute', `attribute \`${k}\` is not declared in the schema`);
    }
    return new CedarRecord(out);
  };
}
