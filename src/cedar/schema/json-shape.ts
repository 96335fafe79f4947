/**
 * Small readers for Cedar's JSON escapes, shared by the schema-directed and schemaless parsers.
 * They follow Cedar 4.13's serde shapes: extra keys beside `type`/`id` or beside `__entity` are
 * ignored (serde structs are not `deny_unknown_fields`), `__expr` is recognised and refused.
 */
import { I64_MAX, I64_MIN, long } from '../values.js';
import { ValueProblem } from './errors.js';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const hasOwn = Object.prototype.hasOwnProperty;
export function own(o: JsonObject, k: string): unknown {
  return hasOwn.call(o, k) ? o[k] : undefined;
}

/** A JSON integer as a Cedar long (number or bigint), or undefined when not a 64-bit integer. */
export function jsonLong(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return undefined;
    if (Number.isSafeInteger(v)) return v === 0 ? 0 : v; // -0 is 0
    return long(BigInt(v));
  }
  if (typeof v === 'bigint') return v >= I64_MIN && v <= I64_MAX ? long(v) : undefined;
  return undefined;
}

/** The (fn, args) of `{"fn":F,"arg":A}` or `{"fn":F,"args":[…]}`; undefined when not that shape. */
export function fnAndArgs(v: unknown): { fn: string; args: unknown[] } | undefined {
  if (!isObject(v)) return undefined;
  const fn = own(v, 'fn');
  if (typeof fn !== 'string') return undefined;
  if (hasOwn.call(v, 'arg')) return { fn, args: [v.arg] };
  const args = own(v, 'args');
  if (Array.isArray(args)) return { fn, args };
  return undefined;
}

/** `{type, id}` with both strings (extra keys ignored), else undefined. */
export function typeAndId(v: unknown): { type: string; id: string } | undefined {
  if (!isObject(v)) return undefined;
  const type = own(v, 'type');
  const id = own(v, 'id');
  return typeof type === 'string' && typeof id === 'string' ? { type, id } : undefined;
}

const IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
// Cedar's reserved identifiers cannot be name components.
const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', '__cedar']);

/** A normalised Cedar name (`A::B::C`, no spaces or comments), as entity types in JSON must be. */
export function isNormalizedName(s: string): boolean {
  // Entity type names repeat on every request: remember the good ones (bounded, so hostile input
  // cannot grow it without limit).
  if (goodNames.has(s)) return true;
  const parts = s.split('::');
  for (const p of parts) if (!IDENT.test(p) || RESERVED.has(p)) return false;
  if (goodNames.size < 10_000) goodNames.add(s);
  return true;
}
const goodNames = new Set<string>();

export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a set';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'a non-integer number';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (isObject(v)) {
    if (hasOwn.call(v, '__entity') || (hasOwn.call(v, 'type') && hasOwn.call(v, 'id'))) return 'entity';
    if (hasOwn.call(v, '__extn')) return 'extension value';
    return 'record';
  }
  return typeof v;
}

export function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return String(v);
  }
}

export function problem(kind: ConstructorParameters<typeof ValueProblem>[0], detail: string): ValueProblem {
  return new ValueProblem(kind, detail);
}
