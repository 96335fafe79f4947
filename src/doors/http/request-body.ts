import type { Context } from 'hono';
import type { z } from 'zod';
import { AuthzError, type FieldProblem } from '../../core/errors.js';
import { readBodyText } from './body-limit.js';

/**
 * Deepest nesting a JSON body may have. Cedar's JSON reader stops at 128 levels for a whole call
 * (and throws), and schema checks recurse: a limit well below both keeps every body the door
 * accepts within what the engine can take, and answers a deeper one with a 400.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads and validates a JSON body. The content type is not enforced (curl's default form type is
 * accepted) because the body is parsed as JSON either way; anything that is not JSON is a 400.
 */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readBodyText(c);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // V8's message may quote the body around the error ("…\"token\": eyJhbGciOi\"…"), and the body
    // can hold a token or a secret: report the position only.
    const at = /at position (\d+)/.exec((err as Error).message)?.[1];
    throw new AuthzError(
      'invalid_json',
      at ? `The body is not valid JSON (error at position ${at}).` : 'The body is not valid JSON.',
    );
  }
  const problem = checkJsonValue(raw);
  if (problem) {
    throw new AuthzError('invalid_request', `Invalid fields: ${problem.path}`, { fields: [problem] });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.flatMap((issue) => {
      const base = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
      }
      return [{ path: base || '(body)', message: issue.message.replace(/^Invalid input: /, '') }];
    });
    throw new AuthzError('invalid_request', `Invalid fields: ${fields.map((f) => f.path).join(', ')}`, {
      fields,
    });
  }
  return parsed.data;
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
 * What no schema check can be trusted with, found without recursion: nesting deeper than
 * `maxDepth` (a recursive validator overflows the stack: a 500), strings or keys with lone
 * surrogates (valid JSON, yet the engine throws on them), and `__proto__` keys (a validator that
 * copies objects drops them silently instead of rejecting them as unknown).
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
      if (key === '__proto__') return { path: pathOf(child), message: 'reserved key' };
      if (!isWellFormed(key)) return { path: pathOf(child), message: 'key is not well-formed Unicode text' };
      stack.push(child);
    }
  }
  return undefined;
}
