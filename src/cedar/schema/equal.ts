/**
 * Cedar structural equality on parsed values, and set construction with deduplication. Needed
 * here because parsed sets must be deduplicated (the CedarSet contract) and because Cedar accepts
 * a duplicate entity only when it is structurally equal to the first one.
 */
import { CedarRecord, CedarSet, EntityRef, type ExtensionValue, type Value } from '../values.js';

export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== 'object' || typeof b !== 'object') {
    // number vs bigint never both hold one value: long() normalises.
    return false;
  }
  if (a instanceof EntityRef) return b instanceof EntityRef && a.key === b.key;
  if (a instanceof CedarSet) {
    if (!(b instanceof CedarSet) || a.items.length !== b.items.length) return false;
    return a.items.every((x) => b.items.some((y) => valueEquals(x, y)));
  }
  if (a instanceof CedarRecord) {
    if (!(b instanceof CedarRecord) || a.fields.size !== b.fields.size) return false;
    for (const [k, v] of a.fields) {
      const w = b.fields.get(k);
      if (w === undefined || !valueEquals(v, w)) return false;
    }
    return true;
  }
  if (b instanceof EntityRef || b instanceof CedarSet || b instanceof CedarRecord) return false;
  const ea = a as ExtensionValue;
  const eb = b as ExtensionValue;
  return ea.kind === eb.kind && ea.equals(eb);
}

/** A CedarSet of `items` without duplicates; primitives and entity refs dedupe by key in O(n). */
export function makeSet(items: Value[]): CedarSet {
  if (items.length < 2) return new CedarSet(items);
  const seen = new Set<unknown>();
  const out: Value[] = [];
  let others: Value[] | undefined;
  for (const v of items) {
    if (typeof v !== 'object') {
      // bigint and number never collide (normalised), strings vs numbers differ by typeof.
      const k = typeof v === 'string' ? 's' + v : v;
      if (seen.has(k)) continue;
      seen.add(k);
    } else if (v instanceof EntityRef) {
      const k = 'e' + v.key;
      if (seen.has(k)) continue;
      seen.add(k);
    } else {
      others ??= [];
      if (others.some((o) => valueEquals(o, v))) continue;
      others.push(v);
    }
    out.push(v);
  }
  return new CedarSet(out);
}
