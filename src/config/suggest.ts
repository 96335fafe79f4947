import type { z } from 'zod';

/**
 * "Did you mean …?" for unknown config keys: the keys the schema knows at the same place, and the
 * nearest of them by edit distance (a typo, a wrong case, a missing letter).
 */

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
};

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` can be (unions give several). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): Def[] {
  const d = defOf(schema);
  switch (d.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return objectsAt(d.innerType!, path);
    case 'pipe':
      return objectsAt(d.in!, path);
    case 'union':
      return (d.options ?? []).flatMap((o) => objectsAt(o, path));
    case 'array':
      return path.length ? objectsAt(d.element!, path.slice(1)) : [];
    case 'record':
      return path.length ? objectsAt(d.valueType!, path.slice(1)) : [];
    case 'object':
      if (!path.length) return [d];
      return d.shape && String(path[0]) in d.shape ? objectsAt(d.shape[String(path[0])]!, path.slice(1)) : [];
  }
  return [];
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return dp[b.length]!;
}

/** The known key nearest to `key` at `path`, when one is close enough to be the one meant. */
export function suggestKey(schema: z.ZodType, path: readonly PropertyKey[], key: string): string | undefined {
  const known = [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { key: k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}
