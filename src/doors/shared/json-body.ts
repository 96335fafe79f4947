import { parseJsonExact } from '../../cedar/json-exact.js';
import { AuthzError, type FieldProblem } from '../../core/errors.js';

/**
 * The JSON safety rules every door applies to a body before anything else reads it.
 *
 * - Nesting deeper than MAX_JSON_DEPTH is refused: Cedar's JSON reader stops at 128 levels for a
 *   whole call (and throws), and schema checks recurse.
 * - Keys `__proto__` and `constructor` are refused: a validator or converter that copies objects
 *   drops or misreads them instead of rejecting them.
 * - Strings and keys with lone surrogates are refused: valid JSON, yet the engine throws on them.
 * - Integers beyond ±(2^53 − 1) are refused, naming the field: JSON.parse would round them (a long
 *   of 9007199254740993 would reach Cedar as …992 and could change a decision), and neither the
 *   decision cache key, the decision log nor the AWS SDK carries a bigint. Refused, never rounded.
 *
 * Each rule has a cheap test on the text that rules it out for ordinary bodies, so the walk of the
 * parsed value runs only when one of them might apply (a body with a `\u` escape, a 16-digit run,
 * a reserved word or many brackets): the common request pays two `includes` and a regex test.
 */
export const MAX_JSON_DEPTH = 64;

const RESERVED_KEYS = new Set(['__proto__', 'constructor']);
const LONG_DIGITS = /[0-9]{16}/;

/** Parses a body and applies the safety rules; throws AuthzError (`invalid_json`, `invalid_request`). */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = parseJsonExact(text);
  } catch (err) {
    // V8's message may quote the body around the error ("…\"token\": eyJhbGciOi\"…"), and the body
    // can hold a token or a secret: report the position only.
    const at = /at position (\d+)/.exec((err as Error).message)?.[1];
    throw new AuthzError(
      'invalid_json',
      at ? `The body is not valid JSON (error at position ${at}).` : 'The body is not valid JSON.',
    );
  }
  const problem = safetyProblem(text, value);
  if (problem)
    throw new AuthzError('invalid_request', `Invalid fields: ${problem.path}`, { fields: [problem] });
  return value;
}

/** The first safety rule the value parsed from `text` breaks, for doors that speak their own errors. */
export function safetyProblem(text: string, value: unknown): FieldProblem | undefined {
  return mayBreakARule(text) ? checkJsonValue(value) : undefined;
}

/** False only when no safety rule can apply to the value this text parses to. */
function mayBreakARule(text: string): boolean {
  if (text.includes('\\u') || text.includes('__proto__') || text.includes('constructor')) return true;
  if (LONG_DIGITS.test(text) || !isWellFormed(text)) return true;
  // Nesting depth is at most the number of opening brackets.
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1 && openers <= MAX_JSON_DEPTH; i = text.indexOf('{', i + 1))
    openers++;
  for (let i = text.indexOf('['); i !== -1 && openers <= MAX_JSON_DEPTH; i = text.indexOf('[', i + 1))
    openers++;
  return openers > MAX_JSON_DEPTH;
}

interface Frame {
  value: unknown;
  /** Containers above this value (the body itself has none). */
  depth: number;
  key?: string | number;
  parent?: Frame;
}

const pathOf = (frame: Frame): string => {
  const keys: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) keys.push(f.key!);
  return keys.reverse().join('.') || '(body)';
};

// Node 20 has String.prototype.isWellFormed; the ES2023 lib types do not declare it.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * The first value that breaks a safety rule, found without recursion (a recursive walk of a
 * hostile body overflows the stack), with its path.
 */
export function checkJsonValue(root: unknown, maxDepth = MAX_JSON_DEPTH): FieldProblem | undefined {
  const stack: Frame[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value } = frame;
    if (typeof value === 'string') {
      if (!isWellFormed(value)) return { path: pathOf(frame), message: 'not well-formed Unicode text' };
      continue;
    }
    if (
      typeof value === 'bigint' ||
      (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value))
    ) {
      return {
        path: pathOf(frame),
        message:
          'integer beyond ±(2^53 − 1): this API cannot carry it exactly (Cedar longs from JSON are limited to that range here)',
      };
    }
    if (value === null || typeof value !== 'object') continue;
    if (frame.depth >= maxDepth) {
      return { path: pathOf(frame), message: `nested deeper than ${maxDepth} levels` };
    }
    const depth = frame.depth + 1;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], depth, key: i, parent: frame });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const child: Frame = { value: (value as Record<string, unknown>)[key], depth, key, parent: frame };
      if (RESERVED_KEYS.has(key)) return { path: pathOf(child), message: 'reserved key' };
      if (!isWellFormed(key)) return { path: pathOf(child), message: 'key is not well-formed Unicode text' };
      stack.push(child);
    }
  }
  return undefined;
}
