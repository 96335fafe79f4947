import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';

/**
 * Cedar's JSON shapes ↔ Amazon Verified Permissions' wire shapes. Shared by the `avp` engine
 * (which sends requests to AVP), the AVP door (which receives them) and the test peer.
 *
 * AVP's AttributeValue is a tagged union with exactly one member set:
 *
 * | Cedar JSON                                   | AttributeValue                          |
 * | -------------------------------------------- | --------------------------------------- |
 * | `true`                                       | `{ boolean: true }`                     |
 * | `42` (an integer)                            | `{ long: 42 }`                          |
 * | `"s"`                                        | `{ string: "s" }`                       |
 * | `[v…]`                                       | `{ set: [AttributeValue…] }`            |
 * | `{ k: v… }`                                  | `{ record: { k: AttributeValue… } }`    |
 * | `{ __entity: { type, id } }`                 | `{ entityIdentifier: { entityType, entityId } }` |
 * | `{ __extn: { fn: "decimal", arg } }`         | `{ decimal: arg }`                      |
 * | `{ __extn: { fn: "ip", arg } }` (or ipaddr)  | `{ ipaddr: arg }`                       |
 * | `{ __extn: { fn: "datetime" / "duration" } }`| `{ datetime: arg }` / `{ duration: arg }` |
 *
 * Cedar has no null and no fractional numbers: both are refused (`AvpValueError`) rather than
 * guessed. A record shaped `{ type, id }` stays a record (Cedar's schema-based implicit entity
 * form is not applied); write entity references as `{ __entity: … }`.
 */

export interface AvpEntityIdentifier {
  entityType: string;
  entityId: string;
}

export interface AvpActionIdentifier {
  actionType: string;
  actionId: string;
}

/** AVP's AttributeValue (structurally the AWS SDK's type, without its `$unknown` member). */
export type AvpAttributeValue =
  | { boolean: boolean }
  | { long: number }
  | { string: string }
  | { set: AvpAttributeValue[] }
  | { record: Record<string, AvpAttributeValue> }
  | { entityIdentifier: AvpEntityIdentifier }
  | { decimal: string }
  | { ipaddr: string }
  | { datetime: string }
  | { duration: string };

export interface AvpEntityItem {
  identifier: AvpEntityIdentifier;
  attributes?: Record<string, AvpAttributeValue>;
  parents?: AvpEntityIdentifier[];
  tags?: Record<string, AvpAttributeValue>;
}

/** A value that cannot be translated; `path` names where (e.g. `context.amount`). */
export class AvpValueError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'AvpValueError';
  }
}

const EXTENSIONS: Record<string, 'decimal' | 'ipaddr' | 'datetime' | 'duration'> = {
  decimal: 'decimal',
  ip: 'ipaddr',
  ipaddr: 'ipaddr',
  datetime: 'datetime',
  duration: 'duration',
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const toAvpUid = (uid: EntityUid): AvpEntityIdentifier => ({ entityType: uid.type, entityId: uid.id });
export const toAvpAction = (uid: EntityUid): AvpActionIdentifier => ({
  actionType: uid.type,
  actionId: uid.id,
});
export const fromAvpUid = (uid: AvpEntityIdentifier): EntityUid => ({
  type: uid.entityType,
  id: uid.entityId,
});

/** Cedar JSON value → AttributeValue. Throws AvpValueError naming the path of a value Cedar cannot hold. */
export function toAttributeValue(value: CedarValue, path: string): AvpAttributeValue {
  switch (typeof value) {
    case 'boolean':
      return { boolean: value };
    case 'string':
      return { string: value };
    case 'number':
      if (!Number.isSafeInteger(value)) throw new AvpValueError(path, 'Cedar longs are whole numbers');
      return { long: value };
  }
  if (value === null) throw new AvpValueError(path, 'Cedar has no null');
  if (Array.isArray(value)) return { set: value.map((v, i) => toAttributeValue(v, `${path}[${i}]`)) };
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '__entity') {
    const ref = value.__entity;
    if (!isObject(ref) || typeof ref.type !== 'string' || typeof ref.id !== 'string')
      throw new AvpValueError(path, '__entity needs { type, id } strings');
    return { entityIdentifier: { entityType: ref.type, entityId: ref.id } };
  }
  if (keys.length === 1 && keys[0] === '__extn') {
    const ext = value.__extn;
    if (!isObject(ext) || typeof ext.fn !== 'string' || typeof ext.arg !== 'string')
      throw new AvpValueError(path, '__extn needs { fn, arg } strings');
    const member = EXTENSIONS[ext.fn];
    if (!member) throw new AvpValueError(path, `extension function "${ext.fn}" has no AVP value type`);
    return { [member]: ext.arg } as AvpAttributeValue;
  }
  return { record: toAttributeRecord(value, path) };
}

export function toAttributeRecord(
  record: Record<string, CedarValue>,
  path: string,
): Record<string, AvpAttributeValue> {
  const out: Record<string, AvpAttributeValue> = {};
  for (const [k, v] of Object.entries(record)) out[k] = toAttributeValue(v, `${path}.${k}`);
  return out;
}

/**
 * AttributeValue → Cedar JSON value. The input is untrusted wire data (the door, the engine's
 * response parsing): anything that is not exactly one known member throws AvpValueError.
 */
export function fromAttributeValue(value: unknown, path: string): CedarValue {
  if (!isObject(value)) throw new AvpValueError(path, 'expected an AttributeValue object');
  const members = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (members.length !== 1)
    throw new AvpValueError(
      path,
      `an AttributeValue has exactly one member, found ${members.length ? members.join(', ') : 'none'}`,
    );
  const member = members[0]!;
  const v = value[member];
  switch (member) {
    case 'boolean':
      if (typeof v !== 'boolean') throw new AvpValueError(`${path}.boolean`, 'expected a boolean');
      return v;
    case 'long':
      if (typeof v !== 'number' || !Number.isSafeInteger(v))
        throw new AvpValueError(`${path}.long`, 'expected a whole number');
      return v;
    case 'string':
      if (typeof v !== 'string') throw new AvpValueError(`${path}.string`, 'expected a string');
      return v;
    case 'set':
      if (!Array.isArray(v)) throw new AvpValueError(`${path}.set`, 'expected a list');
      return v.map((item, i) => fromAttributeValue(item, `${path}.set[${i}]`));
    case 'record':
      return fromAttributeRecord(v, `${path}.record`);
    case 'entityIdentifier': {
      const { entityType, entityId } = checkIdentifier(v, `${path}.entityIdentifier`);
      return { __entity: { type: entityType, id: entityId } };
    }
    case 'decimal':
    case 'ipaddr':
    case 'datetime':
    case 'duration':
      if (typeof v !== 'string') throw new AvpValueError(`${path}.${member}`, 'expected a string');
      return { __extn: { fn: member === 'ipaddr' ? 'ip' : member, arg: v } };
    default:
      throw new AvpValueError(path, `unknown AttributeValue member "${member}"`);
  }
}

export function fromAttributeRecord(value: unknown, path: string): Record<string, CedarValue> {
  if (!isObject(value)) throw new AvpValueError(path, 'expected a map of AttributeValues');
  const out: Record<string, CedarValue> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromAttributeValue(v, `${path}.${k}`);
  return out;
}

/** Checks an EntityIdentifier from the wire. */
export function checkIdentifier(value: unknown, path: string): AvpEntityIdentifier {
  if (!isObject(value) || typeof value.entityType !== 'string' || typeof value.entityId !== 'string')
    throw new AvpValueError(path, 'expected { entityType, entityId } strings');
  if (value.entityType === '') throw new AvpValueError(`${path}.entityType`, 'must not be empty');
  return { entityType: value.entityType, entityId: value.entityId };
}

/** A Cedar entity → AVP's EntityItem (attributes, parents and tags translated). */
export function toEntityItem(entity: Entity, path: string): AvpEntityItem {
  return {
    identifier: toAvpUid(entity.uid),
    attributes: toAttributeRecord(entity.attrs ?? {}, `${path}.attrs`),
    parents: (entity.parents ?? []).map(toAvpUid),
    ...(entity.tags && Object.keys(entity.tags).length
      ? { tags: toAttributeRecord(entity.tags, `${path}.tags`) }
      : {}),
  };
}

/** AVP's EntityItem from the wire → a Cedar entity. */
export function fromEntityItem(value: unknown, path: string): Entity {
  if (!isObject(value)) throw new AvpValueError(path, 'expected an EntityItem object');
  const uid = fromAvpUid(checkIdentifier(value.identifier, `${path}.identifier`));
  const attrs =
    value.attributes === undefined || value.attributes === null
      ? {}
      : fromAttributeRecord(value.attributes, `${path}.attributes`);
  let parents: EntityUid[] = [];
  if (value.parents !== undefined && value.parents !== null) {
    if (!Array.isArray(value.parents)) throw new AvpValueError(`${path}.parents`, 'expected a list');
    parents = value.parents.map((p, i) => fromAvpUid(checkIdentifier(p, `${path}.parents[${i}]`)));
  }
  const tags =
    value.tags === undefined || value.tags === null
      ? undefined
      : fromAttributeRecord(value.tags, `${path}.tags`);
  return { uid, attrs, parents, ...(tags && Object.keys(tags).length ? { tags } : {}) };
}
