/**
 * The evaluator's extension functions (src/cedar/ext) with the signatures Cedar declares for them,
 * so schema-directed parsing can parse arguments by type and check return types.
 */
import { EXTENSION_FUNCTIONS } from '../ext/index.js';
import type { ExtensionFunction, ExtensionRegistry } from './extensions.js';
import type { ExtensionName, SchemaType } from './model.js';

const B: SchemaType = { kind: 'bool' };
const L: SchemaType = { kind: 'long' };
const S: SchemaType = { kind: 'string' };
const X = (name: ExtensionName): SchemaType => ({ kind: 'extension', name });
const DEC = X('decimal');
const IP = X('ipaddr');
const DT = X('datetime');
const DUR = X('duration');

/** Cedar 4.13's extension function signatures. */
const SIGNATURES: Record<string, [SchemaType[], SchemaType]> = {
  decimal: [[S], DEC],
  ip: [[S], IP],
  datetime: [[S], DT],
  duration: [[S], DUR],
  lessThan: [[DEC, DEC], B],
  lessThanOrEqual: [[DEC, DEC], B],
  greaterThan: [[DEC, DEC], B],
  greaterThanOrEqual: [[DEC, DEC], B],
  isIpv4: [[IP], B],
  isIpv6: [[IP], B],
  isLoopback: [[IP], B],
  isMulticast: [[IP], B],
  isInRange: [[IP, IP], B],
  offset: [[DT, DUR], DT],
  durationSince: [[DT, DT], DUR],
  toDate: [[DT], DT],
  toTime: [[DT], DUR],
  toMilliseconds: [[DUR], L],
  toSeconds: [[DUR], L],
  toMinutes: [[DUR], L],
  toHours: [[DUR], L],
  toDays: [[DUR], L],
};

const fns = new Map<string, ExtensionFunction>();
for (const [name, [argTypes, returnType]] of Object.entries(SIGNATURES)) {
  const impl = EXTENSION_FUNCTIONS.get(name);
  if (impl) fns.set(name, { name, argTypes, returnType, call: (args) => impl.call(args) });
}

export const defaultExtensions: ExtensionRegistry = { get: (name) => fns.get(name) };
