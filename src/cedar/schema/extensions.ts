/**
 * What schema-directed parsing needs from Cedar's extension functions. The functions themselves
 * (decimal, ip, datetime, duration and their methods) belong to the evaluator; this interface is
 * the seam, so parsing calls exactly the code evaluation uses.
 *
 * Why parsing needs them at all: where the schema expects an extension type, Cedar accepts
 * `{"__extn":{"fn":F,"arg":A}}`, `{"fn":F,"arg":A}` (the escape left out) or a bare value handed to
 * the type's one-argument constructor (`"10.0.0.1"` for ipaddr), and it *evaluates* the call:
 * `{"__extn":{"fn":"offset","args":["2024-01-01","1h"]}}` is a valid datetime, `"1.23456"` is not a
 * valid decimal. A call is accepted when the function exists, the argument count matches, the
 * arguments parse as the function's argument types, evaluation succeeds and the return type is
 * the expected type.
 */
import type { Value } from '../values.js';
import type { ExtensionName, SchemaType } from './model.js';

export interface ExtensionFunction {
  readonly name: string;
  readonly argTypes: readonly SchemaType[];
  readonly returnType: SchemaType;
  /** Evaluates the call; throws an Error whose message says why on failure (bad literal, …). */
  call(args: readonly Value[]): Value;
}

export interface ExtensionRegistry {
  get(name: string): ExtensionFunction | undefined;
}

/** The one-argument constructor Cedar uses for a bare value where an extension type is expected. */
export const CONSTRUCTOR_OF: Readonly<Record<ExtensionName, string>> = {
  decimal: 'decimal',
  ipaddr: 'ip',
  datetime: 'datetime',
  duration: 'duration',
};

/** Builds a registry from a list (names are unique in Cedar: methods are called by name too). */
export function registryOf(fns: readonly ExtensionFunction[]): ExtensionRegistry {
  const byName = new Map(fns.map((f) => [f.name, f]));
  return { get: (name) => byName.get(name) };
}
