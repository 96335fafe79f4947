/**
 * Cedar `like`: `*` matches any sequence (possibly empty), everything else literally (an escaped
 * `\*` arrives in the EST as a literal `*`). Compiled into a matcher over the literal segments
 * between wildcards: prefix, suffix, and the middle segments found leftmost in order — greedy
 * leftmost placement is optimal for `*`-only globs, so this is exact and O(n·m) without regex
 * backtracking.
 */
export type PatternElem = { Literal: string } | 'Wildcard';

export function compileLike(pattern: readonly PatternElem[]): (s: string) => boolean {
  const segs: string[] = [''];
  for (const el of pattern) {
    if (el === 'Wildcard') segs.push('');
    else segs[segs.length - 1] += el.Literal;
  }
  if (segs.length === 1) {
    const lit = segs[0]!;
    return (s) => s === lit;
  }
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  const middle = segs.slice(1, -1).filter((x) => x !== '');
  const minLen = first.length + last.length;
  return (s) => {
    if (s.length < minLen || !s.startsWith(first) || !s.endsWith(last)) return false;
    let pos = first.length;
    const end = s.length - last.length;
    for (const m of middle) {
      const at = s.indexOf(m, pos);
      if (at < 0 || at + m.length > end) return false;
      pos = at + m.length;
    }
    return true;
  };
}
