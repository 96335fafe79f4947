/**
 * Cedar runtime values for the TypeScript evaluator: the contract between compiled policies,
 * entity data and schema-based parsing.
 *
 * Representation (chosen so the common cases need no allocation and `typeof` dispatches):
 * - Bool: JS `boolean`.
 * - Long: a JS `number` holding a safe integer, or a `bigint` when the value is outside
 *   ±(2^53 − 1) but inside Cedar's 64-bit range. Always normalised with `long()`, so one value
 *   has exactly one representation and `===` on two numbers is Cedar equality.
 * - String: JS `string`.
 * - Entity reference: `EntityRef` (interned per store/request view is allowed, not required;
 *   compare with `key`).
 * - Set: `CedarSet` (deduplicated by Cedar's structural equality).
 * - Record: `CedarRecord` (a Map: attribute names such as `__proto__` are plain data).
 * - Extension values: `Decimal`, `IpAddr`, `Datetime`, `Duration` (defined in the extension
 *   modules, each a class with a `kind` tag).
 */

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

/** A Cedar entity reference. `key` is `Type::"id"` with the id JSON-quoted: unique per uid. */
export class EntityRef {
  readonly key: string;
  constructor(
    readonly type: string,
    readonly id: string,
  ) {
    this.key = `${type}::${JSON.stringify(id)}`;
  }
}

/** A Cedar set: elements deduplicated by `valueEquals`. */
export class CedarSet {
  constructor(readonly items: readonly Value[]) {}
}

/** A Cedar record. */
export class CedarRecord {
  constructor(readonly fields: ReadonlyMap<string, Value>) {}
}

/** Tagged extension value; concrete classes live beside their functions. */
export interface ExtensionValue {
  readonly kind: 'decimal' | 'ipaddr' | 'datetime' | 'duration';
  /** Cedar structural equality with another extension value of the same kind. */
  equals(other: ExtensionValue): boolean;
}

export type Value = boolean | number | bigint | string | EntityRef | CedarSet | CedarRecord | ExtensionValue;

/** Normalise a 64-bit integer: a number when safe, else a bigint; undefined on overflow. */
export function long(v: bigint): number | bigint | undefined {
  if (v < I64_MIN || v > I64_MAX) return undefined;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * One entity as the evaluator reads it, after JSON parsing (with or without a schema):
 * attributes and tags as parsed values, parents as references.
 */
export interface EntityData {
  uid: EntityRef;
  attrs: ReadonlyMap<string, Value>;
  parents: readonly EntityRef[];
  tags?: ReadonlyMap<string, Value>;
}

// ---------------------------------------------------------------------------------------------
// Helpers over the representation above (no change to it): equality, set building, type names.
// ---------------------------------------------------------------------------------------------

export function isEntity(v: Value): v is EntityRef {
  return v instanceof EntityRef;
}

/**
 * Cedar's `==`: structural, never an error. Values of different types are simply unequal; sets
 * compare as sets (order and multiplicity ignored), records field-wise, extension values by their
 * own `equals` (ip addresses compare address and prefix as written, decimals by value).
 */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  // Primitives: `===` already decided (longs are normalised, so a number never equals a bigint).
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof EntityRef) return b instanceof EntityRef && a.key === b.key;
  if (a instanceof CedarSet) {
    if (!(b instanceof CedarSet) || a.items.length !== b.items.length) return false;
    // Both are deduplicated, so equal size + inclusion one way is set equality.
    for (const x of a.items) if (!setHas(b, x)) return false;
    return true;
  }
  if (a instanceof CedarRecord) {
    if (!(b instanceof CedarRecord) || a.fields.size !== b.fields.size) return false;
    for (const [k, v] of a.fields) {
      const w = b.fields.get(k);
      if (w === undefined || !valueEquals(v, w)) return false;
    }
    return true;
  }
  if (b instanceof EntityRef || b instanceof CedarSet || b instanceof CedarRecord) return false;
  return a.kind === b.kind && a.equals(b);
}

/** Index of a large set for O(1) membership of primitives and entities; built lazily, once per set. */
interface SetIndex {
  prims: Set<unknown>;
  entities: Set<string>;
  others: Value[];
}
const setIndexes = new WeakMap<CedarSet, SetIndex>();
const LINEAR_SCAN_MAX = 8;

function indexOf(s: CedarSet): SetIndex {
  let idx = setIndexes.get(s);
  if (idx === undefined) {
    idx = { prims: new Set(), entities: new Set(), others: [] };
    for (const x of s.items) {
      if (typeof x !== 'object') idx.prims.add(x);
      else if (x instanceof EntityRef) idx.entities.add(x.key);
      else idx.others.push(x);
    }
    setIndexes.set(s, idx);
  }
  return idx;
}

/** Cedar set membership (`contains`): structural equality against each element. */
export function setHas(s: CedarSet, v: Value): boolean {
  const items = s.items;
  if (items.length <= LINEAR_SCAN_MAX) {
    for (let i = 0; i < items.length; i++) if (valueEquals(items[i]!, v)) return true;
    return false;
  }
  const idx = indexOf(s);
  if (typeof v !== 'object') return idx.prims.has(v);
  if (v instanceof EntityRef) return idx.entities.has(v.key);
  for (const x of idx.others) if (valueEquals(x, v)) return true;
  return false;
}

/** Build a Cedar set from values, dropping structural duplicates (first occurrence kept). */
export function makeSet(values: readonly Value[]): CedarSet {
  if (values.length <= 1) return new CedarSet(values);
  const prims = new Set<unknown>();
  const ents = new Set<string>();
  const others: Value[] = [];
  const out: Value[] = [];
  for (const v of values) {
    if (typeof v !== 'object') {
      if (prims.has(v)) continue;
      prims.add(v);
    } else if (v instanceof EntityRef) {
      if (ents.has(v.key)) continue;
      ents.add(v.key);
    } else {
      if (others.some((o) => valueEquals(o, v))) continue;
      others.push(v);
    }
    out.push(v);
  }
  return new CedarSet(out);
}

/** Cedar's name for a value's type, as used in error messages (`long`, `set`, `decimal`, …). */
export function typeName(v: Value): string {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
  }
  if (v instanceof EntityRef) return `(entity of type \`${v.type}\`)`;
  if (v instanceof CedarSet) return 'set';
  if (v instanceof CedarRecord) return 'record';
  return v.kind;
}

/** Cedar-syntax rendering of a value, for error messages only. */
export function showValue(v: Value): string {
  switch (typeof v) {
    case 'boolean':
    case 'number':
    case 'bigint':
      return String(v);
    case 'string':
      return JSON.stringify(v);
  }
  if (v instanceof EntityRef) return v.key;
  if (v instanceof CedarSet) return `[${v.items.map(showValue).join(', ')}]`;
  if (v instanceof CedarRecord)
    return `{${[...v.fields].map(([k, x]) => `${JSON.stringify(k)}: ${showValue(x)}`).join(', ')}}`;
  return String(v);
}

export const EMPTY_RECORD = new CedarRecord(new Map());
