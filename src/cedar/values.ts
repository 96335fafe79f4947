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
