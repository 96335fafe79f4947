/**
 * What one AVP data-plane call can come to, and how an answer or an SDK error is read: shared by
 * the AVP engine (which calls AVP) and its metrics. The messages never carry the request (so never a
 * token).
 */
import type { DecisionError } from '../core/decision.js';

export type AvpOperation =
  'IsAuthorized' | 'BatchIsAuthorized' | 'IsAuthorizedWithToken' | 'BatchIsAuthorizedWithToken';

/**
 * How one call attempt ended. `validation`: AVP rejected the request itself (the decision is
 * `invalid`, AVP is healthy). `circuit_open`: refused locally, nothing was sent.
 */
export type AvpCallOutcome =
  | 'ok'
  | 'validation'
  | 'throttled'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'malformed'
  | 'client_error'
  | 'circuit_open'
  | 'cancelled';

export const AVP_CALL_OUTCOMES: readonly AvpCallOutcome[] = [
  'ok',
  'validation',
  'throttled',
  'server_error',
  'timeout',
  'network',
  'malformed',
  'client_error',
  'circuit_open',
  'cancelled',
];

export const RETRYABLE = new Set<AvpCallOutcome>(['throttled', 'server_error', 'network']);
/** Outcomes that say AVP cannot be reached or cannot keep up (reason `engine_unavailable`). */
export const UNAVAILABLE = new Set<AvpCallOutcome>([
  'throttled',
  'server_error',
  'timeout',
  'network',
  'circuit_open',
  'cancelled',
]);

export class MalformedResponse extends Error {}

export interface AvpResult {
  decision?: unknown;
  determiningPolicies?: unknown;
  errors?: unknown;
}

export function batchResults(results: unknown, expected: number): AvpResult[] {
  if (!Array.isArray(results)) throw new Error('results is not a list');
  if (results.length !== expected) throw new Error(`expected ${expected} results, got ${results.length}`);
  return results as AvpResult[];
}

export function checkResult(r: AvpResult): AvpResult {
  if (!r || typeof r !== 'object') throw new Error('a result is not an object');
  if (r.decision !== 'ALLOW' && r.decision !== 'DENY')
    throw new Error(`decision is ${JSON.stringify(r.decision)}, not ALLOW or DENY`);
  const policies = r.determiningPolicies ?? [];
  if (!Array.isArray(policies) || policies.some((p) => typeof p?.policyId !== 'string'))
    throw new Error('determiningPolicies is not a list of {policyId}');
  const errors = r.errors ?? [];
  if (!Array.isArray(errors) || errors.some((e) => typeof e?.errorDescription !== 'string'))
    throw new Error('errors is not a list of {errorDescription}');
  return { decision: r.decision, determiningPolicies: policies, errors };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Sorts an SDK error into an outcome. The message never carries the request (no token in it). */
export function classify(err: unknown, aborted: boolean): { outcome: AvpCallOutcome; message: string } {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    cause?: { code?: string };
  };
  const message = String(e?.message ?? err).slice(0, 300);
  if (err instanceof MalformedResponse) return { outcome: 'malformed', message };
  if (aborted || e?.name === 'AbortError') return { outcome: 'timeout', message: 'timed out' };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'ValidationException') return { outcome: 'validation', message };
  if (e?.name === 'ThrottlingException' || status === 429) return { outcome: 'throttled', message };
  if (e?.code && NETWORK_CODES.has(e.code)) return { outcome: 'network', message: `${e.code}` };
  if (e?.cause?.code && NETWORK_CODES.has(e.cause.code)) return { outcome: 'network', message: e.cause.code };
  if (e?.name === 'TimeoutError') return { outcome: 'network', message };
  if (status !== undefined && status >= 500) return { outcome: 'server_error', message };
  if (e?.$fault === 'server' && status === undefined) return { outcome: 'server_error', message };
  if (status !== undefined && status >= 400 && e?.$fault === 'client' && e?.name !== 'SyntaxError')
    return { outcome: 'client_error', message };
  return { outcome: 'malformed', message };
}

/** Parses an AVP evaluation error description back into policy id and message (see the codec). */
export function parseErrorDescription(description: string): DecisionError {
  const m = /^error while evaluating policy `([^`]*)`: ([\s\S]*)$/.exec(description);
  return m ? { policyId: m[1]!, message: m[2]! } : { policyId: '', message: description };
}
