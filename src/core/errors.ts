/**
 * Every failure the sidecar reports carries one stable code. The code is the `reason` in a deny,
 * the `code` in an HTTP error body and the `reason` label on metrics, so it must never contain
 * request data.
 */
export const ERROR_CODES = {
  // Request shape (400)
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  invalid_request: { status: 400, message: 'The request does not match the expected shape.' },
  batch_too_large: { status: 400, message: 'The batch has more items than allowed.' },
  entity_conflict: { status: 400, message: 'The request supplies an entity the sidecar derives itself.' },
  body_too_large: { status: 413, message: 'The request body is larger than allowed.' },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  // Load (503)
  overloaded: { status: 503, message: 'Too many requests in flight; retry shortly.' },
  // Token (401)
  missing_token: { status: 401, message: 'No bearer token was presented.' },
  malformed_token: { status: 401, message: 'The token is not a well-formed JWT.' },
  invalid_signature: { status: 401, message: 'The token signature does not verify.' },
  expired: { status: 401, message: 'The token has expired.' },
  not_yet_valid: { status: 401, message: 'The token is not valid yet.' },
  wrong_issuer: { status: 401, message: 'The token was not issued by a trusted issuer.' },
  wrong_audience: { status: 401, message: 'The token was not issued for this audience.' },
  wrong_token_use: { status: 401, message: 'This kind of token is not accepted.' },
  unknown_key: { status: 401, message: 'The token was signed with an unknown key.' },
  algorithm_not_allowed: { status: 401, message: 'The token algorithm is not allowed.' },
  invalid_token: { status: 401, message: 'The token is not valid.' },
  unknown_client: { status: 401, message: 'The client is not registered with the issuer.' },
  // Routing and stores
  unknown_store: { status: 404, message: 'No policy store has that name.' },
  no_store: { status: 200, message: 'No policy store is routed for this caller.' },
  no_route: { status: 200, message: 'No route of the HTTP route table matches this request.' },
  missing_claim: {
    status: 200,
    message: 'The token lacks a claim the policy store needs; the request is denied.',
  },
  // Engine
  enrichment_failed: {
    status: 200,
    message: 'The user directory could not be reached; the request is denied.',
  },
  engine_error: { status: 200, message: 'The policy engine failed; the request is denied.' },
  engine_unavailable: { status: 200, message: 'The policy engine is unavailable; the request is denied.' },
  internal_error: { status: 500, message: 'Internal error; the request is denied.' },
  not_found: { status: 404, message: 'No such endpoint.' },
  forbidden: { status: 403, message: 'This endpoint is not available to this caller.' },
  method_not_allowed: { status: 405, message: 'The endpoint does not take this method.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The token failure codes: a request that fails with one of these answers 401. */
export const TOKEN_ERROR_CODES = [
  'missing_token',
  'malformed_token',
  'invalid_signature',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_audience',
  'wrong_token_use',
  'unknown_key',
  'algorithm_not_allowed',
  'invalid_token',
  'unknown_client',
] as const satisfies readonly ErrorCode[];
export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

export function isTokenErrorCode(code: string): code is TokenErrorCode {
  return (TOKEN_ERROR_CODES as readonly string[]).includes(code);
}

/** A field-level problem in a request, reported back to the caller. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** The one error type thrown on request paths. `message` is safe to show to the caller. */
export class AuthzError extends Error {
  readonly code: ErrorCode;
  readonly fields?: FieldProblem[];

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; fields?: FieldProblem[] }) {
    super(message ?? ERROR_CODES[code].message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'AuthzError';
    this.code = code;
    if (options?.fields) this.fields = options.fields;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** Raised at startup for a bad configuration or policy store; the message names the key or file. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
