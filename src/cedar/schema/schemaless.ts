/**
 * Cedar's JSON value parsing where the schema gives no type to steer by: action entities' attributes
 * and, when the request is not validated, context values in positions typed bool/long/string
 * (Cedar parses those schemalessly and type-checks only under `validateRequest`).
 *
 * Escapes follow Cedar 4.13's raw reading: a record is an escape only when it has exactly one key,
 * `__extn` (a record with `fn` and `arg`/`args`, two keys or more), `__entity` (a record with string
 * `type` and `id`) or `__expr` (refused); any other record is a record, even `{"__entity": 5}`.
 */
import { CedarRecord, EntityRef, makeSet, type Value } from '../values.js';

import type { ExtensionRegistry } from './extensions.js';
import { callExtension } from './ext-call.js';
import { describeJson, isNormalizedName, isObject, jsonLong, own, problem, show } from './json-shape.js';
import { ValueProblem } from './errors.js';

export function parseSchemaless(v: unknown, ext: ExtensionRegistry): Value {
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
    case 'bigint': {
      const n = jsonLong(v);
      if (n === undefined) throw problem('invalid_value', `${show(v)} is not a 64-bit integer`);
      return n;
    }
  }
  if (v === null) throw problem('invalid_value', 'JSON `null` is not allowed in Cedar');
  if (Array.isArray(v)) {
    const items: Value[] = [];
    for (let i = 0; i < v.length; i++) {
      try {
        items.push(parseSchemaless(v[i], ext));
      } catch (e) {
        if (e instanceof ValueProblem) e.segments.push(`[${i}]`);
        throw e;
      }
    }
    return makeSet(items);
  }
  if (!isObject(v)) throw problem('invalid_value', `${describeJson(v)} is not a Cedar value`);
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const k = keys[0]!;
    const inner = v[k];
    if (
      k === '__extn' &&
      isObject(inner) &&
      Object.keys(inner).length >= 2 &&
      typeof own(inner, 'fn') === 'string'
    ) {
      const fn = inner.fn as string;
      const args = Object.prototype.hasOwnProperty.call(inner, 'arg')
        ? [inner.arg]
        : Array.isArray(own(inner, 'args'))
          ? (inner.args as unknown[])
          : undefined;
      if (args)
        return callExtension(
          ext,
          fn,
          args.map((a) => parseSchemaless(a, ext)),
        );
    } else if (k === '__expr' && typeof inner === 'string') {
      throw problem('invalid_value', 'the `__expr` escape is no longer supported');
    } else if (k === '__entity' && isObject(inner) && Object.keys(inner).length >= 2) {
      const type = own(inner, 'type');
      const id = own(inner, 'id');
      if (typeof type === 'string' && typeof id === 'string') {
        if (!isNormalizedName(type))
          throw problem('invalid_entity_uid', `invalid entity type name ${show(type)}`);
        return new EntityRef(type, id);
      }
    }
  }
  const fields = new Map<string, Value>();
  for (const k of keys.sort()) {
    try {
      fields.set(k, parseSchemaless(v[k], ext));
    } catch (e) {
      if (e instanceof ValueProblem) e.segments.push(k);
      throw e;
    }
  }
  return new CedarRecord(fields);
}
