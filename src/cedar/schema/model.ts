/**
 * The compiled form of a Cedar schema: what request and entity checks read on the request path.
 *
 * Types are resolved once (common types inlined, names fully qualified), so a check never looks a
 * name up twice. Everything here is plain data; the parsers built from it live in parse-value.ts.
 */
import type { EntityData, EntityRef } from '../values.js';

/** Extension type names Cedar knows, as the schema spells them. */
export type ExtensionName = 'decimal' | 'ipaddr' | 'datetime' | 'duration';

/** A schema type with every name resolved. */
export type SchemaType =
  | { readonly kind: 'bool' }
  | { readonly kind: 'long' }
  | { readonly kind: 'string' }
  | { readonly kind: 'set'; readonly element: SchemaType }
  | RecordType
  | { readonly kind: 'entity'; readonly name: string }
  | { readonly kind: 'extension'; readonly name: ExtensionName };

export interface AttributeType {
  readonly type: SchemaType;
  readonly required: boolean;
}

/** A record type. Cedar 4.13 records are closed: `additionalAttributes` is refused by the schema parser. */
export interface RecordType {
  readonly kind: 'record';
  readonly attrs: ReadonlyMap<string, AttributeType>;
}

export interface EntityTypeInfo {
  /** Fully qualified, e.g. `NS::User`. */
  readonly name: string;
  /** The entity's shape (an empty record when the schema declares none). */
  readonly shape: RecordType;
  /**
   * Types an entity of this type may name as a parent. Transitive: Cedar allows any type that is an
   * ancestor type through `memberOfTypes` chains, so a User in [Team], Team in [Org] may list an Org.
   */
  readonly allowedParentTypes: ReadonlySet<string>;
  /** Tag value type; undefined when the type declares no tags (then any tag is an error). */
  readonly tags: SchemaType | undefined;
  /** The declared ids of an enumerated entity type; undefined for ordinary types. */
  readonly enumIds: ReadonlySet<string> | undefined;
}

export interface ActionInfo {
  readonly uid: EntityRef;
  /** Principal and resource types from `appliesTo`; empty when the action applies to nothing. */
  readonly principalTypes: ReadonlySet<string>;
  readonly resourceTypes: ReadonlySet<string>;
  /** The context type (an empty closed record when the action declares none). */
  readonly context: RecordType;
  /** The action as an entity: no attributes, parents = every action group it is in, transitively. */
  readonly entity: EntityData;
}

export interface SchemaModel {
  readonly entityTypes: ReadonlyMap<string, EntityTypeInfo>;
  /** Keyed by `EntityRef.key`, e.g. `NS::Action::"view"`. */
  readonly actions: ReadonlyMap<string, ActionInfo>;
}

/** Cedar treats any entity type whose last name component is `Action` as an action type. */
export function isActionType(type: string): boolean {
  return type === 'Action' || type.endsWith('::Action');
}

/** Cedar's names for types in messages: `long`, `set<string>`, `entity of type \`User\``, … */
export function typeName(t: SchemaType): string {
  switch (t.kind) {
    case 'bool':
      return 'bool';
    case 'long':
      return 'long';
    case 'string':
      return 'string';
    case 'set':
      return `set<${typeName(t.element)}>`;
    case 'record':
      return `record with attributes {${[...t.attrs]
        .map(([k, a]) => `${JSON.stringify(k)}${a.required ? '' : '?'}: ${typeName(a.type)}`)
        .join(', ')}}`;
    case 'entity':
      return `entity of type \`${t.name}\``;
    case 'extension':
      return t.name;
  }
}
