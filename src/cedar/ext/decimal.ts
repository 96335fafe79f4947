import { CedarEvalError } from '../eval-error.js';
import { I64_MAX, I64_MIN, type ExtensionValue } from '../values.js';

/**
 * Cedar `decimal`: a fixed-point number with 4 fractional digits stored as an i64 count of
 * 1/10000ths. Text form `-?[0-9]+\.[0-9]{1,4}` (a dot and at least one digit on each side are
 * required; leading zeros are fine; no `+`, no spaces). Outside the i64 range is an error.
 */
export class Decimal implements ExtensionValue {
  readonly kind = 'decimal' as const;
  constructor(readonly scaled: bigint) {}
  equals(other: ExtensionValue): boolean {
    return other instanceof Decimal && other.scaled === this.scaled;
  }
  toString(): string {
    const neg = this.scaled < 0n;
    const m = neg ? -this.scaled : this.scaled;
    return `decimal("${neg ? '-' : ''}${m / 10000n}.${(m % 10000n).toString().padStart(4, '0')}")`;
  }
}

const DECIMAL_RE = /^(-?)([0-9]+)\.([0-9]+)$/;

export function parseDecimal(s: string): Decimal {
  const m = DECIMAL_RE.exec(s);
  if (m === null) throw decimalError(`\`${s}\` is not a well-formed decimal value`);
  const frac = m[3]!;
  if (frac.length > 4) throw decimalError(`too many digits after the decimal in \`${s}\``);
  const magnitude = BigInt(m[2]!) * 10000n + BigInt(frac.padEnd(4, '0'));
  const v = m[1] === '-' ? -magnitude : magnitude;
  if (v < I64_MIN || v > I64_MAX) throw decimalError('overflow when converting to decimal');
  return new Decimal(v);
}

function decimalError(msg: string): CedarEvalError {
  return new CedarEvalError(`error while evaluating \`decimal\` extension function: ${msg}`);
}
