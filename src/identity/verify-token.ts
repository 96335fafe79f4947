import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { IssuerConfig } from '../config/index.js';
import { AuthzError, type TokenErrorCode } from '../core/errors.js';
import type { KeySource } from './key-source.js';

/** A trusted issuer at run time: its config, its keys and the principal id prefix. */
export interface TrustedIssuer {
  config: IssuerConfig;
  keys: KeySource;
  prefix: string;
}

export interface VerifiedToken {
  issuer: TrustedIssuer;
  claims: JWTPayload & Record<string, unknown>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies a bearer token against the trusted issuers: shape and size, issuer, algorithm,
 * signature, `exp`/`nbf` with the issuer's skew, `token_use`, and audience (`aud` for ID tokens,
 * `client_id` for access tokens). Throws AuthzError with a token code; the messages name the
 * failed check, never the token or its claims.
 */
export async function verifyToken(
  token: string | undefined,
  issuers: Map<string, TrustedIssuer>,
  maxBytes: number,
): Promise<VerifiedToken> {
  if (!token) throw new AuthzError('missing_token');
  if (token.length > maxBytes || !JWT_SHAPE.test(token)) throw new AuthzError('malformed_token');

  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw new AuthzError('malformed_token');
  }
  const issuer = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
  if (!issuer) throw new AuthzError('wrong_issuer');
  const { config } = issuer;
  if (typeof header.alg !== 'string' || !(config.algorithms as string[]).includes(header.alg)) {
    throw new AuthzError('algorithm_not_allowed');
  }

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, issuer.keys.getKey, {
      issuer: config.issuer,
      algorithms: config.algorithms,
      clockTolerance: config.clockSkewSeconds,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    throw new AuthzError(tokenErrorCode(err));
  }

  const tokenUse = claims.token_use;
  if (
    config.tokenUse &&
    !(typeof tokenUse === 'string' && (config.tokenUse as string[]).includes(tokenUse))
  ) {
    throw new AuthzError('wrong_token_use');
  }
  if (!audienceMatches(claims, config.audiences)) throw new AuthzError('wrong_audience');
  return { issuer, claims: claims as VerifiedToken['claims'] };
}

/** Cognito's shapes: ID tokens carry the app client in `aud`, access tokens in `client_id`. */
function audienceMatches(claims: JWTPayload, audiences: string[]): boolean {
  const aud = claims.aud;
  if (aud !== undefined) return (Array.isArray(aud) ? aud : [aud]).some((a) => audiences.includes(a));
  const clientId = claims.client_id;
  return typeof clientId === 'string' && audiences.includes(clientId);
}

function tokenErrorCode(err: unknown): TokenErrorCode {
  if (err instanceof AuthzError) return err.code as TokenErrorCode;
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.claim === 'iss') return 'wrong_issuer';
    return 'invalid_token';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid_signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed_token';
  return 'invalid_token';
}
