/**
 * Policy text → EST with integer literals beyond ±2^53 kept exact (as `bigint`).
 *
 * cedar-wasm's `policyToJson` returns a JS object, so `9223372036854775807` in a policy arrives as
 * the double `9223372036854775808`, and two different literals can round to one double. The text
 * still holds the exact digits. When the EST holds an unsafe number, every unsafe integer token of
 * the text (strings, comments and identifiers skipped) is replaced by a distinct safe sentinel,
 * the text is converted again, and each sentinel in that EST is swapped for its exact `bigint`.
 * Only integer tokens change, so the parse is otherwise identical.
 */
import './v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

interface Token {
  start: number;
  end: number;
  text: string;
}

/** Integer tokens of Cedar policy text (sign not included). */
export function integerTokens(text: string): Token[] {
  const out: Token[] = [];
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
      out.push({ start: s, end: i, text: text.slice(s, i) });
    } else i++;
  }
  return out;
}

function hasUnsafe(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafe);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasUnsafe);
  return false;
}

function mapNumbers(v: unknown, f: (n: number) => unknown): unknown {
  if (typeof v === 'number') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapNumbers(x, f));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, {
        value: mapNumbers((v as Record<string, unknown>)[k], f),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

type Convert = (text: string) => cedar.PolicyToJsonAnswer;

/**
 * `policyToJson` (or `templateToJson` with `template: true`) with exact integer literals.
 * Throws with cedar-wasm's messages when the text does not parse.
 */
export function policyTextToEst(text: string, template = false): unknown {
  const convert: Convert = template ? (t) => cedar.templateToJson(t) : (t) => cedar.policyToJson(t);
  const est = run(convert, text);
  if (!hasUnsafe(est)) return est;
  const tokens = integerTokens(text);
  const used = new Set(tokens.map((t) => t.text.replace(/^0+(?=.)/, '')));
  const exact = new Map<number, bigint>();
  let next = 2 ** 52;
  let rewritten = '';
  let at = 0;
  for (const t of tokens) {
    if (Number.isSafeInteger(Number(t.text))) continue;
    while (used.has(String(next))) next++;
    exact.set(next, BigInt(t.text));
    rewritten += text.slice(at, t.start) + String(next);
    at = t.end;
    next++;
  }
  rewritten += text.slice(at);
  const marked = run(convert, rewritten);
  return mapNumbers(marked, (n) => {
    const e = exact.get(Math.abs(n));
    return e === undefined ? n : n < 0 ? -e : e;
  });
}

function run(convert: Convert, text: string): unknown {
  const r = convert(text);
  if (r.type !== 'success') throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.json;
}
