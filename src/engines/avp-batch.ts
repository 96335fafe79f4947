import { uidKey, type CedarValue, type Entity, type EntityUid } from '../cedar/types.js';

/**
 * Splitting a list of decisions into AVP calls.
 *
 * AVP's BatchIsAuthorized takes at most 30 requests that share either their principal or their
 * resource, and ONE entity list for all of them. That shared list is the subtle part: a request
 * in a batch sees the entities the other requests brought. The local engine evaluates every
 * request with its own entities only, so the planner puts two requests in one call only when
 * neither can reach (through parents or entity-valued attributes, starting from its principal,
 * resource and context) an entity that it did not supply itself. A decision therefore never
 * depends on what else shares its call, and the `avp` engine answers exactly as the local one.
 * Entities every call carries (`shared`, the store's static entities) are the same everywhere and
 * do not count.
 */

export interface PlanItem {
  principal: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  /** The entities this request sends (not counting the shared ones). */
  entities: Entity[];
  /**
   * Requests with different keys never share a call. With-token requests use the token (the
   * token fixes the principal: BatchIsAuthorizedWithToken); others leave it undefined.
   */
  partition?: string;
}

export interface CallPlan {
  /** Indexes into the planned items, in their original order. */
  items: number[];
  /** What all items share: the single-request operation is used for `none`. */
  fixed: 'principal' | 'resource' | 'partition' | 'none';
}

export interface PlanOptions {
  /** Most requests per batch call (AVP: 30). */
  maxBatch: number;
  /** Smaller groups go out as single-request calls (see docs/AVP.md on cost). At least 2. */
  minBatchSize: number;
  /** Entities every call carries. */
  shared?: Entity[];
}

/** Canonical JSON: key order does not make two equal entities differ. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Entity references inside a value (`{ __entity: { type, id } }`), at any depth. */
function collectRefs(value: CedarValue | undefined, out: EntityUid[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out);
    return;
  }
  const ref = value.__entity;
  if (ref && typeof ref === 'object' && !Array.isArray(ref)) {
    const { type, id } = ref as Record<string, CedarValue>;
    if (typeof type === 'string' && typeof id === 'string') out.push({ type, id });
    return;
  }
  for (const v of Object.values(value)) collectRefs(v, out);
}

/** Every entity uid reachable from the item's principal, resource and context through `known`. */
function reachable(item: PlanItem, known: Map<string, Entity>): Set<string> {
  const seen = new Set<string>();
  const queue: EntityUid[] = [item.principal, item.resource];
  collectRefs(item.context, queue);
  while (queue.length) {
    const uid = queue.pop()!;
    const key = uidKey(uid);
    if (seen.has(key)) continue;
    seen.add(key);
    const entity = known.get(key);
    if (!entity) continue;
    queue.push(...(entity.parents ?? []));
    collectRefs(entity.attrs, queue);
    if (entity.tags) collectRefs(entity.tags, queue);
  }
  return seen;
}

interface Prepared {
  index: number;
  item: PlanItem;
  /** uid key → canonical JSON of the entity the item supplies. */
  own: Map<string, string>;
}

interface Chunk {
  members: Prepared[];
  entities: Map<string, Entity>;
  canon: Map<string, string>;
}

/** Can `candidate` join `chunk` without any member seeing an entity it did not bring? */
function fits(chunk: Chunk, candidate: Prepared, sharedKeys: Set<string>): boolean {
  const entities = new Map(chunk.entities);
  for (const e of candidate.item.entities) {
    const key = uidKey(e.uid);
    const have = chunk.canon.get(key);
    if (have !== undefined && have !== candidate.own.get(key)) return false;
    entities.set(key, e);
  }
  for (const member of [...chunk.members, candidate]) {
    for (const key of reachable(member.item, entities)) {
      if (sharedKeys.has(key) || !entities.has(key)) continue;
      if (!member.own.has(key)) return false;
    }
  }
  return true;
}

function chunkGroup(group: Prepared[], options: PlanOptions, sharedKeys: Set<string>): Prepared[][] {
  const chunks: Chunk[] = [];
  for (const p of group) {
    let target = chunks.find((c) => c.members.length < options.maxBatch && fits(c, p, sharedKeys));
    if (!target) {
      target = { members: [], entities: new Map(), canon: new Map() };
      chunks.push(target);
    }
    target.members.push(p);
    for (const e of p.item.entities) {
      const key = uidKey(e.uid);
      target.entities.set(key, e);
      target.canon.set(key, p.own.get(key)!);
    }
  }
  return chunks.map((c) => c.members);
}

function groupBy(items: Prepared[], key: (p: Prepared) => string): Prepared[][] {
  const groups = new Map<string, Prepared[]>();
  for (const p of items) {
    const k = key(p);
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  return [...groups.values()];
}

/** One pass: group by the first dimension, leftovers by the second, the rest single. */
function planPass(
  items: Prepared[],
  first: 'principal' | 'resource',
  options: PlanOptions,
  sharedKeys: Set<string>,
): CallPlan[] {
  const second = first === 'principal' ? 'resource' : 'principal';
  const plans: CallPlan[] = [];
  let leftovers: Prepared[] = [];
  for (const [dimension, pool] of [
    [first, items],
    [second, null],
  ] as const) {
    const source = pool ?? leftovers;
    const next: Prepared[] = [];
    for (const group of groupBy(source, (p) => uidKey(p.item[dimension]))) {
      if (group.length < options.minBatchSize) {
        next.push(...group);
        continue;
      }
      for (const chunk of chunkGroup(group, options, sharedKeys)) {
        if (chunk.length >= options.minBatchSize)
          plans.push({ items: chunk.map((p) => p.index), fixed: dimension });
        else next.push(...chunk);
      }
    }
    leftovers = next;
  }
  for (const p of leftovers) plans.push({ items: [p.index], fixed: 'none' });
  return plans;
}

/**
 * Plans the calls for a list of requests: batch calls of at most `maxBatch` requests sharing a
 * principal or a resource (or a partition key such as a token), single calls for the rest. Tries
 * principal-first and resource-first grouping and keeps the plan with fewer calls.
 */
export function planCalls(items: PlanItem[], options: PlanOptions): CallPlan[] {
  const minBatchSize = Math.max(2, options.minBatchSize);
  const opts = { ...options, minBatchSize };
  const sharedKeys = new Set((options.shared ?? []).map((e) => uidKey(e.uid)));
  const prepared: Prepared[] = items.map((item, index) => ({
    index,
    item,
    own: new Map(item.entities.map((e) => [uidKey(e.uid), canonical(e)])),
  }));
  const plans: CallPlan[] = [];
  const plain: Prepared[] = [];
  for (const group of groupBy(prepared, (p) => p.item.partition ?? '')) {
    if (group[0]!.item.partition === undefined) {
      plain.push(...group);
      continue;
    }
    if (group.length < minBatchSize) {
      for (const p of group) plans.push({ items: [p.index], fixed: 'none' });
      continue;
    }
    for (const chunk of chunkGroup(group, opts, sharedKeys)) {
      if (chunk.length >= minBatchSize) plans.push({ items: chunk.map((p) => p.index), fixed: 'partition' });
      else for (const p of chunk) plans.push({ items: [p.index], fixed: 'none' });
    }
  }
  if (plain.length) {
    const byPrincipal = planPass(plain, 'principal', opts, sharedKeys);
    const byResource = planPass(plain, 'resource', opts, sharedKeys);
    plans.push(...(byResource.length < byPrincipal.length ? byResource : byPrincipal));
  }
  return plans;
}
