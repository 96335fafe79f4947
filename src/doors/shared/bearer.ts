import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { AuthzError, type ErrorCode } from '../../core/errors.js';

/** `Bearer <token>` → the token; anything else is no token (the pipeline answers `missing_token`). */
export function bearerFrom(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** The RFC 6750 challenge of a 401 for a token failure. */
export function bearerChallenge(reason: ErrorCode | undefined): string {
  return reason === 'missing_token'
    ? 'Bearer realm="authz-sidecar"'
    : 'Bearer realm="authz-sidecar", error="invalid_token"';
}

/**
 * The request's `Authorization` header. Two of them is a 400 naming the header: Node keeps only
 * the first (RFC 9110 allows one), and answering `missing_token` or deciding on either one would
 * hide a client or proxy bug, or a smuggling attempt.
 */
export function authorizationHeader(c: Context): string | undefined {
  const raw = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.rawHeaders;
  if (raw) {
    const count = authorizationCount(raw);
    if (count > 1)
      throw new AuthzError('invalid_request', 'The request has more than one Authorization header.', {
        fields: [{ path: 'Authorization (header)', message: `sent ${count} times; send one` }],
      });
  }
  return c.req.header('authorization');
}

/** How many `Authorization` headers a Node request's raw header list holds. */
export function authorizationCount(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === 'authorization') count++;
  return count;
}
