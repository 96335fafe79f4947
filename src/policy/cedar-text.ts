import '../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Cedar policy text cut into statements in file order, exactly as Cedar's lexer cuts it: the
 * store compiler's lexer (what Cedar returns sorted by generated id, put back in file order).
 */

/**
 * `policySetTextToParts` over a large file in chunks of about 100 statements. wasm code has no
 * on-stack replacement, so one long call runs in V8's baseline tier from start to end (about ten
 * times slower); later chunks run optimized.
 *
 * The chunks are cut only after a `;` token, found by `splitStatements`, which reads strings and
 * comments exactly as Cedar's lexer does. Cedar uses `;` only to end a statement and no token spans
 * it, so the chunks lex as the file does, the file's statements are the chunks' statements, and
 * the file parses if and only if every chunk does. If any chunk fails, the whole file is parsed at
 * once, so errors and their locations are exactly Cedar's.
 */
export function textToParts(text: string): cedar.PolicySetTextToPartsAnswer {
  const chunks = splitStatements(text, 100);
  if (chunks.length < 2) return cedar.policySetTextToParts(text);
  const policies: string[] = [];
  const templates: string[] = [];
  for (const chunk of chunks) {
    const parts = cedar.policySetTextToParts(chunk);
    if (parts.type === 'failure') return cedar.policySetTextToParts(text);
    policies.push(...parts.policies);
    templates.push(...parts.policy_templates);
  }
  return { type: 'success', policies, policy_templates: templates };
}

export type Part = { kind: 'policy' | 'template'; text: string; offset: number };
type PartLists = { policies: string[]; policy_templates: string[] };

/** Cedar's whitespace: Rust's `\s`, Unicode White_Space (JavaScript's `\s` adds U+FEFF, lacks U+0085). */
const CEDAR_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * The parts of a file in file order, each with its byte offset (to locate later errors; ordinal ids
 * `<file>#<n>` follow this order). Cedar returns each kind sorted by its generated id as a string
 * (`policy0`, `policy1`, `policy10`, `policy2`…), not in file order, so each statement of the file
 * is matched to the part with its text: a statement's text runs from its first token (after
 * whitespace and `//` comments, as Cedar skips them) to its `;`, exactly as Cedar cuts it. Should
 * a statement match no part, each statement is parsed alone instead (`byStatement`).
 */
export function inFileOrder(content: string, parts: PartLists): Part[] | undefined {
  const pending = new Map<string, Part['kind'][]>();
  for (const [kind, list] of [
    ['policy', parts.policies],
    ['template', parts.policy_templates],
  ] as const)
    for (const text of list) {
      const kinds = pending.get(text);
      if (kinds) kinds.push(kind);
      else pending.set(text, [kind]);
    }
  const out: Part[] = [];
  let bytes = 0;
  let counted = 0;
  let start = 0;
  for (const chunk of splitStatements(content, 1)) {
    const end = start + chunk.length;
    const p = firstToken(content, start, end);
    start = end;
    if (p >= end) continue; // trailing whitespace and comments
    const text = content.slice(p, end);
    const kind = pending.get(text)?.shift();
    if (kind === undefined) return byStatement(content);
    bytes += Buffer.byteLength(content.slice(counted, p), 'utf8');
    out.push({ kind, text, offset: bytes });
    bytes += Buffer.byteLength(text, 'utf8');
    counted = end;
  }
  for (const kinds of pending.values()) if (kinds.length) return byStatement(content);
  return out;
}

/** Where the first token at or after `from` is (`end` if none before it): Cedar's whitespace and comments skipped. */
function firstToken(content: string, from: number, end: number): number {
  let p = from;
  for (;;) {
    while (p < end && CEDAR_SPACE.test(content[p]!)) p++;
    if (p >= end || !content.startsWith('//', p)) return p;
    while (p < end && content[p] !== '\n' && content[p] !== '\r') p++;
  }
}

/**
 * Fallback of `inFileOrder`, slower and exact: each statement parsed alone by Cedar, in file order.
 * A statement's part ends at the statement's `;`. Undefined if a statement does not give one part.
 */
function byStatement(content: string): Part[] | undefined {
  const out: Part[] = [];
  let bytes = 0;
  for (const chunk of splitStatements(content, 1)) {
    const chunkBytes = Buffer.byteLength(chunk, 'utf8');
    const parts = cedar.policySetTextToParts(chunk);
    if (parts.type === 'failure') return undefined;
    const found: Part[] = [
      ...parts.policies.map((text) => ({ kind: 'policy' as const, text, offset: 0 })),
      ...parts.policy_templates.map((text) => ({ kind: 'template' as const, text, offset: 0 })),
    ];
    if (found.length > 1 || (found.length === 1 && !chunk.endsWith(found[0]!.text))) return undefined;
    if (found.length === 1)
      out.push({ ...found[0]!, offset: bytes + chunkBytes - Buffer.byteLength(found[0]!.text, 'utf8') });
    bytes += chunkBytes;
  }
  return out;
}

/**
 * Cuts Cedar policy text after every `per`-th `;` token: outside string literals (`"`, with `\`
 * escaping the next character) and `//` comments (to the end of the line: `\n` or `\r`), as
 * Cedar's lexer reads them. The chunks joined are the text.
 */
export function splitStatements(text: string, per: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  let statements = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      for (i += 2; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 10 /* \n */ || d === 13 /* \r */) break;
      }
    } else if (c === 59 /* ; */ && ++statements % per === 0) {
      chunks.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) chunks.push(text.slice(start));
  return chunks;
}
