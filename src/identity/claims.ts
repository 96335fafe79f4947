import { isIP } from 'node:net';
import type { CedarValue } from '../cedar/types.js';
import type { ClaimMapping } from '../config/index.js';

/** Reads a claim by its exact name (Cognito claim names contain `:`; no path syntax). */
export function claimValue(claims: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(claims, name) ? claims[name] : undefined;
}

/** A claim as a list of strings: arrays as they are, strings split on whitespace or commas. */
export function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/**
 * Claims → Cedar attributes through a mapping. Tokens carry strings (Cognito custom attributes
 * are always strings), so the mapping's type converts them; a claim that is absent or does not
 * convert is left out, and the schema then decides whether that is acceptable.
 */
export function mapClaims(
  claims: Record<string, unknown>,
  mapping: Record<string, ClaimMapping>,
): Record<string, CedarValue> {
  const out: Record<string, CedarValue> = {};
  for (const [claim, target] of Object.entries(mapping)) {
    const value = claimValue(claims, claim);
    if (value === undefined || value === null) continue;
    const { attribute, type } =
      typeof target === 'string' ? { attribute: target, type: 'string' as const } : target;
    const converted = convert(value, type);
    if (converted !== undefined) out[attribute] = converted;
  }
  return out;
}

function convert(
  value: unknown,
  type: 'string' | 'long' | 'boolean' | 'decimal' | 'ipaddr' | 'set',
): CedarValue | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
    case 'long': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^-?\d+$/.test(value)
            ? Number(value)
            : NaN;
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'decimal': {
      const arg =
        typeof value === 'string' || typeof value === 'number' ? cedarDecimal(String(value)) : undefined;
      return arg === undefined ? undefined : { __extn: { fn: 'decimal', arg } };
    }
    case 'ipaddr':
      return typeof value === 'string' && isCedarIp(value) ? { __extn: { fn: 'ip', arg: value } } : undefined;
    case 'set':
      return claimList(value);
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * A claim as the argument of Cedar's `decimal()`, or undefined. Cedar wants `digits.digits` with at
 * most 4 fraction digits inside i64 / 10^4. Cognito number attributes arrive as strings like
 * `"50000"`, which Cedar rejects, and the whole request with it: integers get `.0`.
 */
function cedarDecimal(text: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, whole, fraction = '0'] = m;
  const scaled = BigInt(`${sign}${whole}${fraction.padEnd(4, '0')}`);
  if (scaled < I64_MIN || scaled > I64_MAX) return undefined;
  return `${sign}${whole}.${fraction}`;
}

/** Would Cedar's `ip()` accept it? An IPv4 or IPv6 address (no zone, no embedded IPv4), with an optional prefix length. */
function isCedarIp(text: string): boolean {
  const m = /^([^/]+)(?:\/(0|[1-9]\d{0,2}))?$/.exec(text);
  if (!m) return false;
  const version = isIP(m[1]!);
  if (version === 0 || (version === 6 && /[%.]/.test(m[1]!))) return false;
  return m[2] === undefined || Number(m[2]) <= (version === 4 ? 32 : 128);
}
