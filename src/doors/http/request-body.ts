import type { Context } from 'hono';
import type { z } from 'zod';
import { AuthzError } from '../../errors.js';

/**
 * Reads and validates a JSON body. The content type is not enforced (curl's default form type is
 * accepted) because the body is parsed as JSON either way; anything that is not JSON is a 400.
 */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
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
