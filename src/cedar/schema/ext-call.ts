/**
 * One extension call as Cedar evaluates it while parsing JSON: the function must exist, take that
 * many arguments of those types, and succeed.
 */
import { CedarRecord, CedarSet, EntityRef, type ExtensionValue, type Value } from '../values.js';
import type { ExtensionRegistry } from './extensions.js';
import type { SchemaType } from './model.js';
import { problem } from './json-shape.js';

export function callExtension(ext: ExtensionRegistry, fn: string, args: Value[]): Value {
  const f = ext.get(fn);
  if (!f) throw problem('invalid_value', `unknown extension function \`${fn}\``);
  if (f.argTypes.length !== args.length)
    throw problem(
      'invalid_value',
      `extension function \`${fn}\` takes ${f.argTypes.length} argument(s), ${args.length} given`,
    );
  for (let i = 0; i < args.length; i++)
    if (!valueHasType(args[i]!, f.argTypes[i]!))
      throw problem('invalid_value', `argument ${i + 1} of \`${fn}\` must be ${f.argTypes[i]!.kind}`);
  try {
    return f.call(args);
  } catch (e) {
    throw problem('invalid_value', (e as Error).message);
  }
}

/** Shallow runtime type test, enough for extension argument types (primitives and extensions). */
export function valueHasType(v: Value, t: SchemaType): boolean {
  switch (t.kind) {
    case 'bool':
      return typeof v === 'boolean';
    case 'long':
      return typeof v === 'number' || typeof v === 'bigint';
    case 'string':
      return typeof v === 'string';
    case 'entity':
      return v instanceof EntityRef && v.type === t.name;
    case 'set':
      return v instanceof CedarSet;
    case 'record':
      return v instanceof CedarRecord;
    case 'extension':
      return (
        typeof v === 'object' &&
        !(v instanceof EntityRef || v instanceof CedarSet || v instanceof CedarRecord) &&
        (v as ExtensionValue).kind === t.name
      );
  }
}
