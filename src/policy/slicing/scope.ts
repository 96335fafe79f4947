import { uidKey, type EntityUid } from '../../cedar/types.js';
import { asUid } from './uid.js';

/**
 * A policy's scope with entities as keys (`uidKey`). Conditions are never part of it: a `when` or
 * `unless` only narrows a policy further, and Cedar evaluates it.
 */
export type EntityScope =
  | { op: 'all' }
  | { op: 'eq'; uid: string }
  | { op: 'in'; uid: string }
  | { op: 'is'; type: string; in?: string };

export type ActionScope = { op: 'all' } | { op: 'eq'; uid: string } | { op: 'in'; uids: string[] };

export interface Scope {
  principal: EntityScope;
  action: ActionScope;
  resource: EntityScope;
}

type Slots = Record<string, EntityUid>;

/**
 * The entity a constraint names: its entity, or the link's value for its slot. Undefined when there
 * is neither, which `scopeOf` turns into an unconstrained scope (the policy then goes to every
 * slice: never wrong, only slower).
 */
function target(c: Record<string, unknown>, slots: Slots): string | undefined {
  if ('slot' in c) {
    const value = typeof c.slot === 'string' ? slots[c.slot] : undefined;
    return value ? uidKey(value) : undefined;
  }
  const uid = asUid(c.entity);
  return uid ? uidKey(uid) : undefined;
}

function entityScope(raw: unknown, slots: Slots): EntityScope {
  const c = (raw ?? {}) as Record<string, unknown>;
  switch (c.op) {
    case '==':
    case 'in': {
      const uid = target(c, slots);
      if (uid === undefined) return { op: 'all' };
      return { op: c.op === '==' ? 'eq' : 'in', uid };
    }
    case 'is': {
      if (typeof c.entity_type !== 'string') return { op: 'all' };
      if (c.in === undefined) return { op: 'is', type: c.entity_type };
      const uid = target(c.in as Record<string, unknown>, slots);
      return uid === undefined
        ? { op: 'is', type: c.entity_type }
        : { op: 'is', type: c.entity_type, in: uid };
    }
    default:
      return { op: 'all' };
  }
}

function actionScope(raw: unknown): ActionScope {
  const c = (raw ?? {}) as Record<string, unknown>;
  if (c.op === '==') {
    const uid = asUid(c.entity);
    return uid ? { op: 'eq', uid: uidKey(uid) } : { op: 'all' };
  }
  if (c.op === 'in') {
    const list = 'entities' in c ? c.entities : [c.entity];
    if (!Array.isArray(list)) return { op: 'all' };
    const uids: string[] = [];
    for (const item of list) {
      const uid = asUid(item);
      if (!uid) return { op: 'all' };
      uids.push(uidKey(uid));
    }
    return { op: 'in', uids };
  }
  return { op: 'all' };
}

/**
 * The scope of a policy in Cedar's JSON form (`policyToJson` / `templateToJson`), with a link's
 * slot values filled in. Anything not understood becomes unconstrained, which only widens slices.
 */
export function scopeOf(json: unknown, slots: Slots = {}): Scope {
  const p = (json ?? {}) as Record<string, unknown>;
  return {
    principal: entityScope(p.principal, slots),
    action: actionScope(p.action),
    resource: entityScope(p.resource, slots),
  };
}

/** What a request offers to scope matching: each entity's key, type and keys of itself + ancestors. */
export interface ScopeInput {
  key: string;
  type: string;
  /** The entity itself and all its ancestors (`in` is reflexive). */
  within: ReadonlySet<string>;
}

export function entityMatches(scope: EntityScope, input: ScopeInput): boolean {
  switch (scope.op) {
    case 'all':
      return true;
    case 'eq':
      return scope.uid === input.key;
    case 'in':
      return input.within.has(scope.uid);
    case 'is':
      return scope.type === input.type && (scope.in === undefined || input.within.has(scope.in));
  }
}

export function actionMatches(scope: ActionScope, input: ScopeInput): boolean {
  switch (scope.op) {
    case 'all':
      return true;
    case 'eq':
      return scope.uid === input.key;
    case 'in':
      return scope.uids.some((uid) => input.within.has(uid));
  }
}

/** Exactly Cedar's scope check: can this policy apply to a request with these entities? */
export function scopeMatches(scope: Scope, principal: ScopeInput, action: ScopeInput, resource: ScopeInput) {
  return (
    entityMatches(scope.principal, principal) &&
    actionMatches(scope.action, action) &&
    entityMatches(scope.resource, resource)
  );
}
