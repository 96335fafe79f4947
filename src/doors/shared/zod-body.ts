import type { z } from 'zod';
import { AuthzError } from '../../core/errors.js';

/**
 * Checks a parsed body with a zod schema, for doors whose wire format is not in openapi.yaml's
 * strict request schemas (AuthZEN's objects are open by the spec); throws `invalid_request` naming
 * every bad field.
 */
export function zodBody<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
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
