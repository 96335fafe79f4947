import { CedarEvalError } from '../eval-error.js';
import { I64_MAX, I64_MIN, type ExtensionValue } from '../values.js';

/**
 * Cedar `duration`: a signed i64 count of milliseconds. Text form: an optional `-` then at least
 * one of `<n>d <n>h <n>m <n>s <n>ms` in that order, each at most once (the sign negates the whole).
 * Any component or sum outside i64 is an error.
 */
export class Duration implements ExtensionValue {
  readonly kind = 'duration' as const;
  constructor(readonly ms: bigint) {}
  equals(other: ExtensionValue): boolean {
    return other instanceof Duration && other.ms === this.ms;
  }
  toString(): string {
    return `duration("${this.ms}ms")`;
  }
}

const DURATION_RE = /^(-?)(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const UNITS = [0n, 86_400_000n, 3_600_000n, 60_000n, 1000n, 1n];

export function inI64(v: bigint): boolean {
  return v >= I64_MIN && v <= I64_MAX;
}

export function parseDuration(s: string): Duration {
  const m = DURATION_RE.exec(s);
  if (m === null || s === '' || s === '-' || m.slice(2).every((x) => x === undefined))
    throw durationError('invalid duration pattern');
  const sign = m[1] === '-' ? -1n : 1n;
  let total = 0n;
  for (let i = 2; i <= 6; i++) {
    const t = m[i];
    if (t === undefined) continue;
    const part = sign * BigInt(t) * UNITS[i - 1]!;
    if (!inI64(part)) throw durationError('Duration overflows internal representation');
    total += part;
    if (!inI64(total)) throw durationError('Duration overflows internal representation');
  }
  return new Duration(total);
}

function durationError(msg: string): CedarEvalError {
  return new CedarEvalError(`error while evaluating \`duration\` extension function: ${msg}`);
}
