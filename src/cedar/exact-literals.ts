/**
 * Restores integer literals beyond ±2^53 in an EST from the policy's Cedar text.
 *
 * cedar-wasm's `policyToJson` returns a JS object, so `9223372036854775807` in a policy arrives as
 * the double `9223372036854775808`. The text still holds the exact digits: this scans it for
 * integer tokens (skipping strings, comments and identifiers) and replaces each unsafe EST number
 * with the one token that rounds to it. When two different tokens of the policy round to the same
 * double, the literal is ambiguous and left alone (the compiler then reports it as unsupported, so
 * the engine falls back to cedar-wasm).
 */

/** Integer tokens of Cedar policy text, as exact decimal strings (sign not included). */
export function integerTokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) i++;
    } else if (c >= '0' && c <= '9') {
      const s = i;
      while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
      out.push(text.slice(s, i));
    } else i++;
  }
  return out;
}

/**
 * A copy of `est` where every unsafe integer `Value` is a `bigint` recovered from `text`.
 * Returns the input unchanged when it holds no unsafe number.
 */
export function restoreExactLiterals<T>(est: T, text: string): T {
  let tokens: Map<number, Set<string>> | undefined;
  const candidates = (): Map<number, Set<string>> => {
    if (tokens === undefined) {
      tokens = new Map();
      for (const t of integerTokens(text)) {
        const f = Number(t);
        if (Number.isSafeInteger(f)) continue;
        const s = tokens.get(f) ?? new Set<string>();
        s.add(t.replace(/^0+(?=.)/, ''));
        tokens.set(f, s);
      }
    }
    return tokens;
  };
  const fix = (v: unknown): unknown => {
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v) || !Number.isInteger(v)) return v;
      const set = candidates().get(Math.abs(v));
      if (set === undefined || set.size !== 1) return v;
      const exact = BigInt([...set][0]!);
      return v < 0 ? -exact : exact;
    }
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x) => {
        const y = fix(x);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? out : v;
    }
    if (typeof v === 'object' && v !== null) {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        const y = fix(x);
        if (y !== x) changed = true;
        Object.defineProperty(out, k, { value: y, writable: true, enumerable: true, configurable: true });
      }
      return changed ? out : v;
    }
    return v;
  };
  return fix(est) as T;
}
