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
    case 'decimal':
      return typeof value === 'string' || typeof value === 'number'
        ? { __extn: { fn: 'decimal', arg: String(value) } }
        : undefined;
    case 'ipaddr':
      return typeof value === 'string' ? { __extn: { fn: 'ip', arg: value } } : undefined;
    case 'set':
      return claimList(value);
  }
}
