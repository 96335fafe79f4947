import { CedarEvalError, typeError } from '../eval-error.js';
import { long, type Value } from '../values.js';
import { Datetime, durationSince, offset, parseDatetime, toDate, toTime } from './datetime.js';
import { Decimal, parseDecimal } from './decimal.js';
import { Duration, parseDuration } from './duration.js';
import { IpAddr, isLoopback, isMulticast, parseIpAddr } from './ipaddr.js';

export { Datetime, Decimal, Duration, IpAddr, parseDatetime, parseDecimal, parseDuration, parseIpAddr };

/**
 * Cedar's extension functions by the name the EST uses (`{"<name>": [args…]}`), with arity.
 * Constructors take one string; the rest are methods whose first argument is the receiver.
 */
export interface ExtFunction {
  arity: number;
  constructor: boolean;
  call(args: readonly Value[]): Value;
  /** The same function without an argument array, for compiled calls of arity 1 / 2. */
  call1?: (a: Value) => Value;
  call2?: (a: Value, b: Value) => Value;
}

function str(fn: string, v: Value): string {
  if (typeof v !== 'string') throw typeError('string', v);
  void fn;
  return v;
}
function dec(v: Value): Decimal {
  if (v instanceof Decimal) return v;
  throw typeError('decimal', v);
}
function ipa(v: Value): IpAddr {
  if (v instanceof IpAddr) return v;
  throw typeError('ipaddr', v);
}
function dt(v: Value): Datetime {
  if (v instanceof Datetime) return v;
  throw typeError('datetime', v);
}
function dur(v: Value): Duration {
  if (v instanceof Duration) return v;
  throw typeError('duration', v);
}
function toLong(v: bigint): Value {
  const r = long(v);
  if (r === undefined) throw new CedarEvalError(`overflow converting ${v} to long`);
  return r;
}

const ctor = (f: (s: string) => Value, name: string): ExtFunction => ({
  arity: 1,
  constructor: true,
  call: (a) => f(str(name, a[0]!)),
  call1: (a) => f(str(name, a)),
});
const m1 = (call: (a: Value) => Value): ExtFunction => ({
  arity: 1,
  constructor: false,
  call: (a) => call(a[0]!),
});
const m2 = (call: (a: Value, b: Value) => Value): ExtFunction => ({
  arity: 2,
  constructor: false,
  call: (a) => call(a[0]!, a[1]!),
  call2: call,
});

export const EXTENSION_FUNCTIONS: ReadonlyMap<string, ExtFunction> = new Map<string, ExtFunction>([
  ['decimal', ctor(parseDecimal, 'decimal')],
  ['ip', ctor(parseIpAddr, 'ip')],
  ['datetime', ctor(parseDatetime, 'datetime')],
  ['duration', ctor(parseDuration, 'duration')],
  ['lessThan', m2((a, b) => dec(a).scaled < dec(b).scaled)],
  ['lessThanOrEqual', m2((a, b) => dec(a).scaled <= dec(b).scaled)],
  ['greaterThan', m2((a, b) => dec(a).scaled > dec(b).scaled)],
  ['greaterThanOrEqual', m2((a, b) => dec(a).scaled >= dec(b).scaled)],
  ['isIpv4', m1((a) => !ipa(a).v6)],
  ['isIpv6', m1((a) => ipa(a).v6)],
  ['isLoopback', m1((a) => isLoopback(ipa(a)))],
  ['isMulticast', m1((a) => isMulticast(ipa(a)))],
  ['isInRange', m2((a, b) => ipa(a).inRange(ipa(b)))],
  ['offset', m2((a, b) => offset(dt(a), dur(b)))],
  ['durationSince', m2((a, b) => durationSince(dt(a), dt(b)))],
  ['toDate', m1((a) => toDate(dt(a)))],
  ['toTime', m1((a) => toTime(dt(a)))],
  ['toMilliseconds', m1((a) => toLong(dur(a).ms))],
  ['toSeconds', m1((a) => toLong(dur(a).ms / 1000n))],
  ['toMinutes', m1((a) => toLong(dur(a).ms / 60_000n))],
  ['toHours', m1((a) => toLong(dur(a).ms / 3_600_000n))],
  ['toDays', m1((a) => toLong(dur(a).ms / 86_400_000n))],
]);

/**
 * Ordering for `< <= > >=` beyond longs: Cedar 4.13 also orders datetime and duration (same kind
 * on both sides); decimal and ipaddr are type errors there. Returns a negative/zero/positive
 * number, or throws the type error Cedar reports.
 */
export function compareExt(a: Value, b: Value): number {
  if (a instanceof Datetime) {
    if (!(b instanceof Datetime)) throw typeError('datetime', b);
    return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : 0;
  }
  if (a instanceof Duration) {
    if (!(b instanceof Duration)) throw typeError('duration', b);
    return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : 0;
  }
  throw typeError('one of [long, datetime, duration]', a);
}
