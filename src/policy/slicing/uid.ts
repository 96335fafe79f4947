import { uidKey, type EntityUid } from '../../cedar/types.js';

/**
 * An entity reference in either of Cedar's JSON forms (`{type, id}` or `{__entity: {type, id}}`),
 * or undefined when the value is neither. Cedar accepts extra fields next to `type` and `id`.
 */
export function asUid(value: unknown): EntityUid | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const inner = '__entity' in v ? v.__entity : v;
  if (inner === null || typeof inner !== 'object') return undefined;
  const { type, id } = inner as Record<string, unknown>;
  return typeof type === 'string' && typeof id === 'string' ? { type, id } : undefined;
}

/** The key of an entity reference in either JSON form, or undefined when it is not one. */
export function keyOf(value: unknown): string | undefined {
  const uid = asUid(value);
  return uid ? uidKey(uid) : undefined;
}

/**
 * Adds to `out` every entity a Cedar JSON value may refer to: `{__entity: …}` escapes and, to be
 * safe, any object with string `type` and `id` (with a schema, Cedar reads such a record as an
 * entity reference). Over-collecting is harmless: it only keeps an entity that is not needed.
 */
export function collectRefs(value: unknown, out: Set<string>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, out);
    return;
  }
  const key = keyOf(value);
  if (key) out.add(key);
  for (const child of Object.values(value as Record<string, unknown>)) collectRefs(child, out);
}
