import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';
import type { EngineRequest } from '../core/engine.js';

/** A recorded decision that can be decided again. */
export interface ReplayItem {
  decisionId: string;
  store: string;
  decision: 'ALLOW' | 'DENY';
  determiningPolicies: string[];
  request: EngineRequest;
}

/** What one line of a decision log is to a replay. */
export type Classified =
  | { kind: 'other' }
  | { kind: 'skip'; reason: string; decisionId?: string }
  | { kind: 'replay'; item: ReplayItem };

/**
 * Reasons that mean the store never answered (its engine failed, the sidecar was overloaded, the
 * request timed out): the recorded DENY says nothing about the policies, so it is not compared.
 */
const NOT_DECIDED = new Set([
  'engine_error',
  'engine_unavailable',
  'internal_error',
  'request_timeout',
  'overloaded',
]);

/** Mask paths that hide part of what the store was asked (anything else masked does not matter). */
const ASKED = /^(context|principal|action|resource|request)([.[]|$)/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isUid = (v: unknown): v is EntityUid =>
  isObject(v) && typeof v.type === 'string' && typeof v.id === 'string';
const isEntity = (v: unknown): v is Entity =>
  isObject(v) &&
  isUid(v.uid) &&
  isObject(v.attrs) &&
  Array.isArray(v.parents) &&
  v.parents.every(isUid) &&
  (v.tags === undefined || isObject(v.tags));

/**
 * Sorts one line of a decision log (the sidecar's stdout mixes decision lines with its own log):
 * a decision that can be decided again, a decision that cannot and why, or some other line.
 * Never guesses: a masked value, a decision made before the request reached its store, or a line
 * recorded without `decisionLog.replayable` is skipped with its reason.
 */
export function classifyLine(text: string): Classified {
  if (!text.includes('"decision"')) return { kind: 'other' };
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return { kind: 'other' };
  }
  if (!isObject(line) || line.type !== 'decision') return { kind: 'other' };
  const decisionId = typeof line.decisionId === 'string' ? line.decisionId : undefined;
  const skip = (reason: string): Classified => ({
    kind: 'skip',
    reason,
    ...(decisionId ? { decisionId } : {}),
  });
  if (!('request' in line)) return skip('logged without decisionLog.replayable');
  const reason = typeof line.reason === 'string' ? line.reason : undefined;
  if (line.request === null)
    return skip(`denied before reaching a store (${reason ?? 'no reason recorded'})`);
  if (reason && NOT_DECIDED.has(reason)) return skip(`not decided by its store (${reason})`);
  const masked = Array.isArray(line.masked)
    ? line.masked.filter((p) => typeof p === 'string' && ASKED.test(p))
    : [];
  if (masked.length) return skip(`masked: ${masked.join(', ')}`);
  const r = line.request;
  if (
    !decisionId ||
    typeof line.store !== 'string' ||
    (line.decision !== 'ALLOW' && line.decision !== 'DENY') ||
    !isObject(r) ||
    !isUid(r.principal) ||
    !isUid(r.action) ||
    !isUid(r.resource) ||
    !isObject(r.context) ||
    !Array.isArray(r.entities) ||
    !r.entities.every(isEntity)
  )
    return skip('malformed decision line');
  return {
    kind: 'replay',
    item: {
      decisionId,
      store: line.store,
      decision: line.decision,
      determiningPolicies: Array.isArray(line.determiningPolicies)
        ? line.determiningPolicies.filter((p): p is string => typeof p === 'string')
        : [],
      request: {
        principal: r.principal,
        action: r.action,
        resource: r.resource,
        context: r.context as Record<string, CedarValue>,
        entities: r.entities,
      },
    },
  };
}
